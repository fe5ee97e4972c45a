"""Bridge VLANs (plugins/module_utils/_routeros/vlan.py): ordering, management safety, what is read."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pytest
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.engine import Outcome, Reader
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.errors import InputError
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.vlan import VlanRequest, plan_vlan

from tests.support.routeros_readers import CONFIGURED, ETHERNETS, RecordingReader, vlan_outcome, vlan_params


def test_new_bridge_is_built_first_and_filtering_enabled_last() -> None:
    outcome = vlan_outcome({"/interface": ETHERNETS}, vlan_params())
    commands = [change.describe() for change in outcome.changes]
    assert commands[0].startswith("/interface/bridge/add ") and "vlan-filtering=no" in commands[0]
    assert commands[-1] == "/interface/bridge/set name=br1: vlan-filtering=yes"
    paths = [change.spec.path for change in outcome.changes]
    assert paths.index("/interface/bridge/port") < paths.index("/interface/bridge/vlan") < paths.index("/interface/vlan") < paths.index("/ip/address")
    assert outcome.before == {}
    assert outcome.after["bridge"]["vlan_filtering"] is True
    assert [vlan["vlan_ids"] for vlan in outcome.after["vlans"]] == ["64", "65"]


def test_configured_bridge_is_unchanged_despite_spelling_and_order() -> None:
    outcome = vlan_outcome(CONFIGURED, vlan_params())
    assert outcome.changes == []
    assert outcome.before == outcome.after


def test_turning_filtering_off_happens_first() -> None:
    params = vlan_params(bridge={"name": "br1", "vlan_filtering": False}, ports=[{"interface": "ether1", "pvid": 1}, {"interface": "ether2", "pvid": 1}])
    outcome = vlan_outcome(CONFIGURED, params)
    assert outcome.changes[0].describe() == "/interface/bridge/set name=br1: vlan-filtering=no"


def test_purge_removes_after_adding_and_before_filtering() -> None:
    data = dict(CONFIGURED)
    data["/interface/bridge"] = [{".id": "*A", "name": "br1", "vlan-filtering": "false"}]
    data["/interface/bridge/port"] = [*CONFIGURED["/interface/bridge/port"], {".id": "*B2", "interface": "ether3", "bridge": "br1"}]
    params = vlan_params(
        interfaces=[{"name": "vlan64", "vlan_id": 64, "addresses": ["10.42.64.1/24"]}, {"name": "vlan65", "vlan_id": 65, "addresses": ["10.42.65.2/24"]}],
        purge=True,
    )
    commands = [change.describe() for change in vlan_outcome(data, params).changes]
    assert commands == [
        "/ip/address/add address=10.42.65.2/24 interface=vlan65 disabled=no",
        "/ip/address/remove interface=vlan65 address=10.42.65.1/24",
        "/interface/bridge/port/remove interface=ether3",
        "/interface/bridge/set name=br1: vlan-filtering=yes",
    ]


def test_unknown_interface_is_named_with_what_the_router_has() -> None:
    params = vlan_params(ports=[{"interface": "ether99"}], management_port=None)
    with pytest.raises(InputError, match=r"ports\[0\]\.interface: 'ether99' is not an interface of the router \(the router has: ether1, ether2"):
        vlan_outcome(CONFIGURED, params)


def test_vlan_members_must_be_the_bridge_or_its_ports() -> None:
    params = vlan_params(vlans=[{"vlan_ids": 64, "tagged": ["br1", "ether1", "ether4"]}], purge=True)
    with pytest.raises(InputError, match=r"vlans\[0\]\.tagged: 'ether4' is neither bridge br1 nor one of its ports"):
        vlan_outcome(CONFIGURED, params)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"vlans": [{"vlan_ids": 65, "tagged": ["br1"]}]}, "management_vlan: 64 has no entry in vlans"),
        ({"vlans": [{"vlan_ids": 64, "tagged": ["ether1"]}]}, "needs bridge br1 in the tagged list"),
        ({"interfaces": [{"name": "vlan65", "vlan_id": 65, "addresses": ["10.42.65.1/24"]}]}, "needs a VLAN interface"),
        ({"management_address": "10.42.64.9/24"}, "management_address: '10.42.64.9/24' is not among the addresses of interface vlan64"),
        ({"management_port": "ether3"}, "management_port: 'ether3' is not in ports"),
        (
            {"management_port": "ether2", "vlans": [{"vlan_ids": 64, "tagged": ["br1"], "untagged": ["ether2"]}]},
            "is an untagged member of management VLAN 64 but its pvid is 65",
        ),
        (
            {"ports": [{"interface": "ether1", "frame_types": "admit-only-untagged-and-priority-tagged"}, {"interface": "ether2", "pvid": 65}]},
            "refuse tagged frames",
        ),
        ({"management_port": "ether2", "vlans": [{"vlan_ids": 64, "tagged": ["br1"]}]}, "is not a member of management VLAN 64 but its pvid is 65"),
    ],
)
def test_plans_that_cut_the_management_vlan_are_refused(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        vlan_outcome({"/interface": ETHERNETS}, vlan_params(**overrides))


def test_untagged_management_port_with_matching_pvid_is_accepted() -> None:
    params = vlan_params(
        ports=[{"interface": "ether2", "pvid": 64, "frame_types": "admit-only-untagged-and-priority-tagged"}],
        vlans=[{"vlan_ids": 64, "tagged": ["br1"], "untagged": ["ether2"]}],
        interfaces=[{"name": "vlan64", "vlan_id": 64, "addresses": ["10.42.64.1/24"]}],
        management_port="ether2",
    )
    assert vlan_outcome({"/interface": ETHERNETS}, params).changes[-1].describe() == "/interface/bridge/set name=br1: vlan-filtering=yes"


def test_management_check_uses_the_router_value_of_options_left_out() -> None:
    data = dict(CONFIGURED)
    data["/interface/bridge/port"] = [*CONFIGURED["/interface/bridge/port"], {".id": "*B3", "interface": "ether3", "bridge": "br1", "pvid": "64"}]
    params = vlan_params(
        ports=[*vlan_params()["ports"], {"interface": "ether3"}],
        vlans=[{"vlan_ids": 64, "tagged": ["br1", "ether1"], "untagged": ["ether3"]}, vlan_params()["vlans"][1]],
        management_port="ether3",
    )
    assert [change.describe() for change in vlan_outcome(data, params).changes] == [
        "/interface/bridge/vlan/set bridge=br1 vlan-ids=64: untagged=ether3",
    ]
    data["/interface/bridge/port"][-1]["pvid"] = "1"
    with pytest.raises(InputError, match="is an untagged member of management VLAN 64 but its pvid is 1"):
        vlan_outcome(data, params)


def test_management_check_is_skipped_when_filtering_stays_off() -> None:
    params = vlan_params(bridge={"name": "br1", "vlan_filtering": False}, vlans=[])
    assert vlan_outcome({"/interface": ETHERNETS}, params).changes


def test_filtering_without_management_vlan_warns() -> None:
    outcome = vlan_outcome({"/interface": ETHERNETS}, vlan_params(management_vlan=None, management_address=None, management_port=None))
    assert outcome.warnings and "cannot check that the router stays reachable" in outcome.warnings[0]


def test_purge_never_removes_the_address_of_this_session() -> None:
    params = vlan_params(interfaces=[{"name": "vlan64", "vlan_id": 64, "addresses": ["10.42.64.1/24"]}], purge=True)
    with pytest.raises(InputError, match=re.escape("would remove 10.42.65.1/24 from vlan65, the address this session is connected to")):
        vlan_outcome(CONFIGURED, params, router_address="10.42.65.1")
    assert vlan_outcome(CONFIGURED, params, router_address="10.42.64.1").changes


def test_purge_never_removes_the_interface_of_this_session() -> None:
    data = dict(CONFIGURED)
    data["/ip/address"] = [CONFIGURED["/ip/address"][0], {".id": "*22", "address": "10.42.65.7/24", "interface": "vlan65", "dynamic": "true"}]
    params = vlan_params(interfaces=[{"name": "vlan64", "vlan_id": 64, "addresses": ["10.42.64.1/24"]}], purge=True)
    with pytest.raises(InputError, match=re.escape("would remove VLAN interface vlan65, which carries 10.42.65.7/24, the address this session uses")):
        vlan_outcome(data, params, router_address="10.42.65.7")


def test_request_refuses_overlapping_vlan_entries_and_partial_management() -> None:
    with pytest.raises(InputError, match=r"vlans\[1\]\.vlan_ids: '64-66' repeats VLAN 64 of vlans\[0\]"):
        VlanRequest.from_params(vlan_params(vlans=[{"vlan_ids": 64}, {"vlan_ids": "64-66"}]))
    with pytest.raises(InputError, match=re.escape("must be given together")):
        VlanRequest.from_params(vlan_params(management_address=None))
    with pytest.raises(InputError, match=r"interfaces\[0\]\.addresses\[0\]: '10\.42\.64\.1' is not in CIDR form"):
        VlanRequest.from_params(vlan_params(interfaces=[{"name": "v", "vlan_id": 64, "addresses": ["10.42.64.1"]}]))
    with pytest.raises(InputError, match=r"interfaces\[0\]\.vlan_id: 4095 is above 4094"):
        VlanRequest.from_params(vlan_params(interfaces=[{"name": "v", "vlan_id": 4095}]))


def test_vlan_with_only_the_bridge_reads_only_the_bridge_menu() -> None:
    reader = RecordingReader(CONFIGURED)
    outcome = plan_vlan(reader, VlanRequest.from_params({"bridge": {"name": "br1", "vlan_filtering": True}}))
    assert outcome.changes == []
    assert set(reader.paths) == {"/interface/bridge"}
    assert set(outcome.after) == {"bridge"}


def test_vlan_configured_reads_managed_menus_once_each_and_not_interface() -> None:
    reader = RecordingReader(CONFIGURED)
    assert plan_vlan_with(reader, vlan_params()).changes == []
    assert set(reader.paths) == {"/interface/bridge", "/interface/bridge/port", "/interface/bridge/vlan", "/interface/vlan", "/ip/address"}


def test_vlan_new_port_is_checked_against_the_interfaces() -> None:
    reader = RecordingReader(CONFIGURED)
    params = vlan_params()
    params["ports"] = [*params["ports"], {"interface": "ether3"}]
    plan_vlan_with(reader, params)
    assert "/interface" in reader.paths


def plan_vlan_with(reader: Reader, params: Mapping[str, Any]) -> Outcome:
    return plan_vlan(reader, VlanRequest.from_params(params))
