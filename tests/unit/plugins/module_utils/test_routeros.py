"""The RouterOS engine without a router: normalisation, planning, ordering, refusals and error reporting."""

from __future__ import annotations

import re
import ssl
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / ".build" / "collections"))

from ansible_collections.diskless.datacenter.plugins.module_utils import _routeros as ros
from librouteros.exceptions import ConnectionClosed, FatalError, MultiTrapError, TrapError

# ---------------------------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["yes", "true", "True", "YES", True])
def test_booleans_true_in_any_spelling(spelling: object) -> None:
    assert ros.BOOL.parse(spelling) is True


@pytest.mark.parametrize("spelling", ["no", "false", "False", False])
def test_booleans_false_in_any_spelling(spelling: object) -> None:
    assert ros.BOOL.parse(spelling) is False


def test_boolean_rejects_other_words() -> None:
    with pytest.raises(ValueError, match=re.escape("not a boolean")):
        ros.BOOL.parse("maybe")


def test_unordered_lists_compare_as_sets() -> None:
    assert ros.NAMES.parse("b,a") == ros.NAMES.parse("a, b") == ros.NAMES.parse(["a", "b"])
    assert ros.NAMES.parse(None) == ros.NAMES.parse("") == frozenset()
    assert ros.NAMES.to_api(frozenset({"b", "a"})) == "a,b"


def test_ordered_lists_keep_order() -> None:
    assert ros.IP_LIST.parse("10.0.0.2,10.0.0.1") != ros.IP_LIST.parse(["10.0.0.1", "10.0.0.2"])
    assert ros.IP_LIST.parse("10.0.0.1, 10.0.0.2") == ros.IP_LIST.parse(["10.0.0.1", "10.0.0.2"])


@pytest.mark.parametrize("spelling", ["10-12,20", "10,11,12,20", "20,10-12", [10, 11, "12", 20], ["10-12", 20]])
def test_vlan_id_ranges_and_lists_are_the_same_set(spelling: object) -> None:
    assert ros.parse_vlan_ids(spelling) == frozenset({10, 11, 12, 20})


def test_vlan_ids_format_as_ranges() -> None:
    assert ros.format_vlan_ids({64, 65, 66, 67, 68, 69, 70, 71, 80}) == "64-71,80"
    assert ros.format_vlan_ids({5}) == "5"
    assert ros.parse_vlan_ids(64) == frozenset({64})


@pytest.mark.parametrize(
    ("spelling", "reason"), [("0", "outside 1-4094"), ("4095", "outside 1-4094"), ("20-10", "reversed"), ("ten", "not a number"), ("", "no VLAN id")]
)
def test_bad_vlan_ids_say_why(spelling: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        ros.parse_vlan_ids(spelling)


@pytest.mark.parametrize("spelling", ["00:e0:66:59:89:84", "00-E0-66-59-89-84", "00E066598984", "0:e0:66:59:89:84"])
def test_mac_case_and_separators(spelling: str) -> None:
    assert ros.parse_mac(spelling) == "00:E0:66:59:89:84"


@pytest.mark.parametrize("spelling", ["00:e0:66:59:89", "00:e0:66:59:89:zz", "00:e0:66:59:89:84:11", ""])
def test_malformed_mac_is_refused(spelling: str) -> None:
    with pytest.raises(ValueError, match=re.escape("not a MAC address")):
        ros.parse_mac(spelling)


@pytest.mark.parametrize("spelling", ["10G", "10g", "10GiB", "10.0GiB", "10737418240", 10737418240, "10 737 418 240"])
def test_sizes_in_units_and_bytes_are_equal(spelling: object) -> None:
    assert ros.parse_size(spelling) == 10 * 1024**3


def test_sizes_format_in_the_largest_exact_unit() -> None:
    assert ros.format_size(10 * 1024**3) == "10G"
    assert ros.format_size(1536 * 1024) == "1536K"
    assert ros.format_size(1000) == "1000"
    with pytest.raises(ValueError, match=re.escape("not a size")):
        ros.parse_size("ten gigs")


@pytest.mark.parametrize(
    ("spelling", "milliseconds"),
    [
        ("10m", 600_000),
        ("00:10:00", 600_000),
        (600, 600_000),
        ("600", 600_000),
        ("1d2h", 93_600_000),
        ("1d02:00:00", 93_600_000),
        ("1w", 604_800_000),
        ("500ms", 500),
        ("0s", 0),
    ],
)
def test_durations(spelling: object, milliseconds: int) -> None:
    assert ros.parse_duration(spelling) == milliseconds


def test_durations_format_like_routeros() -> None:
    assert ros.format_duration(93_600_000) == "1d2h"
    assert ros.format_duration(0) == "0s"
    assert ros.format_duration(ros.parse_duration("00:30:00")) == "30m"
    with pytest.raises(ValueError, match=re.escape("not a duration")):
        ros.parse_duration("30 minutes")


def test_interface_addresses_need_a_prefix() -> None:
    assert ros.INTERFACE_ADDRESS.parse("10.42.64.1/24") == "10.42.64.1/24"
    with pytest.raises(ValueError, match=re.escape("CIDR")):
        ros.INTERFACE_ADDRESS.parse("10.42.64.1")


def test_networks_must_have_zero_host_bits() -> None:
    assert ros.NETWORK.parse("10.42.65.0/24") == "10.42.65.0/24"
    with pytest.raises(ValueError, match=r"did you mean 10\.42\.65\.0/24"):
        ros.NETWORK.parse("10.42.65.1/24")
    with pytest.raises(ValueError, match=re.escape("CIDR")):
        ros.NETWORK.parse("10.42.65.0")


def test_pool_ranges_and_network_sets() -> None:
    assert ros.POOL_RANGES.parse("10.42.65.100-10.42.65.199, 10.42.65.7") == frozenset({"10.42.65.100-10.42.65.199", "10.42.65.7"})
    with pytest.raises(ValueError, match=re.escape("end is before its start")):
        ros.POOL_RANGES.parse("10.42.65.9-10.42.65.1")
    assert ros.NETWORKS.parse("10.42.65.0/24,10.42.66.7") == ros.NETWORKS.parse(["10.42.66.7/32", "10.42.65.0/24"])


def test_enum_aliases_map_router_spellings() -> None:
    assert ros.AUTHORITATIVE.parse("true") == "yes"
    with pytest.raises(ValueError, match=re.escape("not one of")):
        ros.FRAME_TYPES.parse("admit-some")


def test_input_errors_name_field_and_value() -> None:
    with pytest.raises(ros.InputError) as caught:
        ros.parse_input(ros.MAC, "leases[3].mac", "00:11:22")
    assert str(caught.value) == "leases[3].mac: '00:11:22' is not a MAC address (six hex octets like 00:E0:66:59:89:84)"
    assert caught.value.field_name == "leases[3].mac"


# ---------------------------------------------------------------------------------------------
# Rows and generic planning
# ---------------------------------------------------------------------------------------------


def test_rows_take_router_defaults_for_absent_properties_and_flag_system_entries() -> None:
    row = ros.row_from_raw(ros.BRIDGE_PORT, {".id": "*1", "interface": "ether2", "bridge": "bridge1"})
    assert row.values["pvid"] == 1
    assert row.values["frame-types"] == "admit-all"
    assert row.values["disabled"] is False
    assert not row.system
    dynamic = ros.row_from_raw(ros.BRIDGE_VLAN, {".id": "*2", "bridge": "bridge1", "vlan-ids": "65", "dynamic": "true"})
    assert dynamic.system
    builtin = ros.row_from_raw(ros.INTERFACE, {".id": "*3", "name": "ether1", "builtin": "yes"})
    assert builtin.system


def test_values_the_engine_cannot_parse_stay_as_text() -> None:
    row = ros.row_from_raw(ros.BRIDGE_PORT, {".id": "*1", "interface": "ether2", "bridge": "bridge1", "pvid": "auto"})
    assert row.values["pvid"] == "auto"


def rows(spec: ros.PathSpec, *raw: Mapping[str, str]) -> list[ros.Row]:
    return [ros.row_from_raw(spec, item) for item in raw]


def test_plan_matches_by_keys_and_sets_only_what_differs() -> None:
    current = rows(ros.BRIDGE_VLAN, {".id": "*1", "bridge": "br", "vlan-ids": "10,11,12", "tagged": "b,a", "untagged": "c"})
    unchanged = ros.plan_path(ros.BRIDGE_VLAN, [{"bridge": "br", "vlan-ids": frozenset({10, 11, 12}), "tagged": frozenset({"a", "b"})}], current)
    assert unchanged.in_order() == []
    changed = ros.plan_path(ros.BRIDGE_VLAN, [{"bridge": "br", "vlan-ids": frozenset({10, 11, 12}), "untagged": frozenset()}], current)
    assert [change.describe() for change in changed.in_order()] == ["/interface/bridge/vlan/set bridge=br vlan-ids=10-12: untagged="]
    assert changed.sets[0].words() == {".id": "*1", "untagged": ""}


def test_plan_adds_missing_entries_without_empty_words() -> None:
    plan = ros.plan_path(
        ros.BRIDGE_VLAN, [{"bridge": "br", "vlan-ids": frozenset({64}), "tagged": frozenset({"br"}), "untagged": frozenset(), "comment": ""}], []
    )
    assert [change.action for change in plan.in_order()] == ["add"]
    assert plan.adds[0].words() == {"bridge": "br", "vlan-ids": "64", "tagged": "br"}


def test_plan_never_touches_dynamic_entries_and_purges_only_in_scope() -> None:
    current = rows(
        ros.BRIDGE_VLAN,
        {".id": "*1", "bridge": "br", "vlan-ids": "65", "untagged": "ether2", "dynamic": "true"},
        {".id": "*2", "bridge": "br", "vlan-ids": "66", "tagged": "br"},
        {".id": "*3", "bridge": "other", "vlan-ids": "67", "tagged": "other"},
    )
    desired = [{"bridge": "br", "vlan-ids": frozenset({65}), "tagged": frozenset({"br"})}]
    without_purge = ros.plan_path(ros.BRIDGE_VLAN, desired, current)
    assert [change.action for change in without_purge.in_order()] == ["add"]
    with_purge = ros.plan_path(ros.BRIDGE_VLAN, desired, current, purge=True, in_scope=lambda row: row.values["bridge"] == "br")
    assert [(change.action, change.row_id) for change in with_purge.in_order()] == [("remove", "*2"), ("add", None)]


def test_plan_refuses_the_same_key_twice() -> None:
    with pytest.raises(ros.InputError, match=re.escape("listed twice")):
        ros.plan_path(ros.IP_POOL, [{"name": "p"}, {"name": "p"}], [])


def test_predict_applies_changes_to_rows() -> None:
    current = rows(ros.IP_POOL, {".id": "*1", "name": "a", "ranges": "10.0.0.1-10.0.0.9"}, {".id": "*2", "name": "b", "ranges": "10.0.1.1"})
    plan = ros.plan_path(ros.IP_POOL, [{"name": "a", "ranges": frozenset({"10.0.0.5"})}, {"name": "c", "ranges": frozenset({"10.0.2.1"})}], current, purge=True)
    after = ros.predict(ros.IP_POOL, current, plan.in_order())
    assert sorted((row.values["name"], tuple(row.values["ranges"])) for row in after) == [("a", ("10.0.0.5",)), ("c", ("10.0.2.1",))]


# ---------------------------------------------------------------------------------------------
# Bridge VLANs: ordering and management safety
# ---------------------------------------------------------------------------------------------

ETHERNETS = [{".id": f"*{n}", "name": f"ether{n}", "type": "ether"} for n in range(1, 6)]


def vlan_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "bridge": {"name": "br1", "vlan_filtering": True},
        "ports": [{"interface": "ether1", "frame_types": "admit-only-vlan-tagged"}, {"interface": "ether2", "pvid": 65}],
        "vlans": [
            {"vlan_ids": 64, "tagged": ["br1", "ether1"], "untagged": []},
            {"vlan_ids": "65", "tagged": ["br1", "ether1"], "untagged": ["ether2"]},
        ],
        "interfaces": [{"name": "vlan64", "vlan_id": 64, "addresses": ["10.42.64.1/24"]}, {"name": "vlan65", "vlan_id": 65, "addresses": ["10.42.65.1/24"]}],
        "management_vlan": 64,
        "management_address": "10.42.64.1/24",
        "management_port": "ether1",
        "purge": False,
    }
    params.update(overrides)
    return params


CONFIGURED: dict[str, list[dict[str, str]]] = {
    "/interface": ETHERNETS,
    "/interface/bridge": [{".id": "*A", "name": "br1", "vlan-filtering": "true", "pvid": "1", "frame-types": "admit-all", "disabled": "false"}],
    "/interface/bridge/port": [
        {".id": "*B", "interface": "ether1", "bridge": "br1", "pvid": "1", "frame-types": "admit-only-vlan-tagged"},
        {".id": "*C", "interface": "ether2", "bridge": "br1", "pvid": "65", "frame-types": "admit-all"},
    ],
    "/interface/bridge/vlan": [
        {".id": "*D", "bridge": "br1", "vlan-ids": "64", "tagged": "ether1,br1"},
        {".id": "*E", "bridge": "br1", "vlan-ids": "65", "tagged": "br1,ether1", "untagged": "ether2"},
        {".id": "*F", "bridge": "br1", "vlan-ids": "1", "untagged": "br1,ether1", "dynamic": "true"},
    ],
    "/interface/vlan": [
        {".id": "*10", "name": "vlan64", "interface": "br1", "vlan-id": "64", "mtu": "1500"},
        {".id": "*11", "name": "vlan65", "interface": "br1", "vlan-id": "65", "mtu": "1500"},
    ],
    "/ip/address": [
        {".id": "*20", "address": "10.42.64.1/24", "interface": "vlan64", "network": "10.42.64.0"},
        {".id": "*21", "address": "10.42.65.1/24", "interface": "vlan65", "network": "10.42.65.0"},
    ],
}


def plan_vlan(data: Mapping[str, Sequence[Mapping[str, str]]], params: Mapping[str, Any], router_address: str | None = None) -> ros.Outcome:
    return ros.plan_vlan(ros.StaticReader(data, router_address), ros.VlanRequest.from_params(params))


def test_new_bridge_is_built_first_and_filtering_enabled_last() -> None:
    outcome = plan_vlan({"/interface": ETHERNETS}, vlan_params())
    commands = [change.describe() for change in outcome.changes]
    assert commands[0].startswith("/interface/bridge/add ") and "vlan-filtering=no" in commands[0]
    assert commands[-1] == "/interface/bridge/set name=br1: vlan-filtering=yes"
    paths = [change.spec.path for change in outcome.changes]
    assert paths.index("/interface/bridge/port") < paths.index("/interface/bridge/vlan") < paths.index("/interface/vlan") < paths.index("/ip/address")
    assert outcome.before == {}
    assert outcome.after["bridge"]["vlan_filtering"] is True
    assert [vlan["vlan_ids"] for vlan in outcome.after["vlans"]] == ["64", "65"]


def test_configured_bridge_is_unchanged_despite_spelling_and_order() -> None:
    outcome = plan_vlan(CONFIGURED, vlan_params())
    assert outcome.changes == []
    assert outcome.before == outcome.after


def test_turning_filtering_off_happens_first() -> None:
    params = vlan_params(bridge={"name": "br1", "vlan_filtering": False}, ports=[{"interface": "ether1", "pvid": 1}, {"interface": "ether2", "pvid": 1}])
    outcome = plan_vlan(CONFIGURED, params)
    assert outcome.changes[0].describe() == "/interface/bridge/set name=br1: vlan-filtering=no"


def test_purge_removes_after_adding_and_before_filtering() -> None:
    data = dict(CONFIGURED)
    data["/interface/bridge"] = [{".id": "*A", "name": "br1", "vlan-filtering": "false"}]
    data["/interface/bridge/port"] = [*CONFIGURED["/interface/bridge/port"], {".id": "*B2", "interface": "ether3", "bridge": "br1"}]
    params = vlan_params(
        interfaces=[{"name": "vlan64", "vlan_id": 64, "addresses": ["10.42.64.1/24"]}, {"name": "vlan65", "vlan_id": 65, "addresses": ["10.42.65.2/24"]}],
        purge=True,
    )
    commands = [change.describe() for change in plan_vlan(data, params).changes]
    assert commands == [
        "/ip/address/add address=10.42.65.2/24 interface=vlan65 disabled=no",
        "/ip/address/remove interface=vlan65 address=10.42.65.1/24",
        "/interface/bridge/port/remove interface=ether3",
        "/interface/bridge/set name=br1: vlan-filtering=yes",
    ]


def test_unknown_interface_is_named_with_what_the_router_has() -> None:
    params = vlan_params(ports=[{"interface": "ether99"}], management_port=None)
    with pytest.raises(ros.InputError, match=r"ports\[0\]\.interface: 'ether99' is not an interface of the router \(the router has: ether1, ether2"):
        plan_vlan(CONFIGURED, params)


def test_vlan_members_must_be_the_bridge_or_its_ports() -> None:
    params = vlan_params(vlans=[{"vlan_ids": 64, "tagged": ["br1", "ether1", "ether4"]}], purge=True)
    with pytest.raises(ros.InputError, match=r"vlans\[0\]\.tagged: 'ether4' is neither bridge br1 nor one of its ports"):
        plan_vlan(CONFIGURED, params)


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
    with pytest.raises(ros.InputError, match=re.escape(message)):
        plan_vlan({"/interface": ETHERNETS}, vlan_params(**overrides))


def test_untagged_management_port_with_matching_pvid_is_accepted() -> None:
    params = vlan_params(
        ports=[{"interface": "ether2", "pvid": 64, "frame_types": "admit-only-untagged-and-priority-tagged"}],
        vlans=[{"vlan_ids": 64, "tagged": ["br1"], "untagged": ["ether2"]}],
        interfaces=[{"name": "vlan64", "vlan_id": 64, "addresses": ["10.42.64.1/24"]}],
        management_port="ether2",
    )
    assert plan_vlan({"/interface": ETHERNETS}, params).changes[-1].describe() == "/interface/bridge/set name=br1: vlan-filtering=yes"


def test_management_check_uses_the_router_value_of_options_left_out() -> None:
    data = dict(CONFIGURED)
    data["/interface/bridge/port"] = [*CONFIGURED["/interface/bridge/port"], {".id": "*B3", "interface": "ether3", "bridge": "br1", "pvid": "64"}]
    params = vlan_params(
        ports=[*vlan_params()["ports"], {"interface": "ether3"}],
        vlans=[{"vlan_ids": 64, "tagged": ["br1", "ether1"], "untagged": ["ether3"]}, vlan_params()["vlans"][1]],
        management_port="ether3",
    )
    assert [change.describe() for change in plan_vlan(data, params).changes] == [
        "/interface/bridge/vlan/set bridge=br1 vlan-ids=64: untagged=ether3",
    ]
    data["/interface/bridge/port"][-1]["pvid"] = "1"
    with pytest.raises(ros.InputError, match="is an untagged member of management VLAN 64 but its pvid is 1"):
        plan_vlan(data, params)


def test_management_check_is_skipped_when_filtering_stays_off() -> None:
    params = vlan_params(bridge={"name": "br1", "vlan_filtering": False}, vlans=[])
    assert plan_vlan({"/interface": ETHERNETS}, params).changes


def test_filtering_without_management_vlan_warns() -> None:
    outcome = plan_vlan({"/interface": ETHERNETS}, vlan_params(management_vlan=None, management_address=None, management_port=None))
    assert outcome.warnings and "cannot check that the router stays reachable" in outcome.warnings[0]


def test_purge_never_removes_the_address_of_this_session() -> None:
    params = vlan_params(interfaces=[{"name": "vlan64", "vlan_id": 64, "addresses": ["10.42.64.1/24"]}], purge=True)
    with pytest.raises(ros.InputError, match=re.escape("would remove 10.42.65.1/24 from vlan65, the address this session is connected to")):
        plan_vlan(CONFIGURED, params, router_address="10.42.65.1")
    assert plan_vlan(CONFIGURED, params, router_address="10.42.64.1").changes


def test_purge_never_removes_the_interface_of_this_session() -> None:
    data = dict(CONFIGURED)
    data["/ip/address"] = [CONFIGURED["/ip/address"][0], {".id": "*22", "address": "10.42.65.7/24", "interface": "vlan65", "dynamic": "true"}]
    params = vlan_params(interfaces=[{"name": "vlan64", "vlan_id": 64, "addresses": ["10.42.64.1/24"]}], purge=True)
    with pytest.raises(ros.InputError, match=re.escape("would remove VLAN interface vlan65, which carries 10.42.65.7/24, the address this session uses")):
        plan_vlan(data, params, router_address="10.42.65.7")


def test_request_refuses_overlapping_vlan_entries_and_partial_management() -> None:
    with pytest.raises(ros.InputError, match=r"vlans\[1\]\.vlan_ids: '64-66' repeats VLAN 64 of vlans\[0\]"):
        ros.VlanRequest.from_params(vlan_params(vlans=[{"vlan_ids": 64}, {"vlan_ids": "64-66"}]))
    with pytest.raises(ros.InputError, match=re.escape("must be given together")):
        ros.VlanRequest.from_params(vlan_params(management_address=None))
    with pytest.raises(ros.InputError, match=r"interfaces\[0\]\.addresses\[0\]: '10\.42\.64\.1' is not in CIDR form"):
        ros.VlanRequest.from_params(vlan_params(interfaces=[{"name": "v", "vlan_id": 64, "addresses": ["10.42.64.1"]}]))
    with pytest.raises(ros.InputError, match=r"interfaces\[0\]\.vlan_id: 4095 is above 4094"):
        ros.VlanRequest.from_params(vlan_params(interfaces=[{"name": "v", "vlan_id": 4095}]))


def test_info_output_fed_back_as_input_is_a_no_op() -> None:
    info = ros.gather_info(ros.StaticReader(CONFIGURED), ["vlan"])
    bridge_state = info["bridges"][0]
    params = {**bridge_state, "management_vlan": None, "management_address": None, "purge": True}
    assert plan_vlan(CONFIGURED, params).changes == []


# ---------------------------------------------------------------------------------------------
# Netboot
# ---------------------------------------------------------------------------------------------

NETBOOT_ROUTER: dict[str, list[dict[str, str]]] = {
    "/interface": [{".id": "*1", "name": "vlan65", "type": "vlan"}],
    "/ip/address": [{".id": "*2", "address": "10.42.65.1/24", "interface": "vlan65"}],
}


def netboot_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "interface": "vlan65",
        "lease_time": "30m",
        "pool": {"ranges": ["10.42.65.100-10.42.65.199"]},
        "network": {"address": "10.42.65.0/24", "gateway": "10.42.65.1", "next_server": "10.42.65.1", "boot_file_name": "snp.efi"},
        "hostname_mode": "comment",
        "leases": [{"mac": "00:e0:66:59:89:84", "address": "10.42.65.92", "hostname": "c4140"}, {"mac": "00:e0:66:59:88:8b", "address": "10.42.65.82"}],
        "tftp": [{"req_filename": "snp\\.efi", "real_filename": "tftp/snp.efi", "allow": True, "read_only": True}],
    }
    params.update(overrides)
    return params


def plan_netboot(data: Mapping[str, Sequence[Mapping[str, str]]], params: Mapping[str, Any]) -> ros.Outcome:
    return ros.plan_netboot(ros.StaticReader(data), ros.NetbootRequest.from_params(params))


def configured_netboot() -> dict[str, list[dict[str, str]]]:
    """What a router holds once netboot_params() was applied, spelled the router's way."""
    return {
        **NETBOOT_ROUTER,
        "/ip/pool": [{".id": "*3", "name": "pool-vlan65", "ranges": "10.42.65.100-10.42.65.199"}],
        "/ip/dhcp-server": [
            {".id": "*4", "name": "dhcp-vlan65", "interface": "vlan65", "address-pool": "pool-vlan65", "lease-time": "00:30:00", "disabled": "false"}
        ],
        "/ip/dhcp-server/network": [
            {".id": "*5", "address": "10.42.65.0/24", "gateway": "10.42.65.1", "next-server": "10.42.65.1", "boot-file-name": "snp.efi"}
        ],
        "/ip/dhcp-server/lease": [
            {".id": "*6", "server": "dhcp-vlan65", "mac-address": "00:E0:66:59:89:84", "address": "10.42.65.92", "comment": "c4140", "disabled": "false"},
            {".id": "*7", "server": "dhcp-vlan65", "mac-address": "00:E0:66:59:88:8B", "address": "10.42.65.82", "disabled": "false"},
            {".id": "*8", "server": "dhcp-vlan65", "mac-address": "52:54:00:00:00:01", "address": "10.42.65.150", "dynamic": "true"},
            {".id": "*9", "server": "dhcp-vlan66", "mac-address": "52:54:00:00:00:02", "address": "10.42.66.10"},
        ],
        "/ip/tftp": [{".id": "*A", "req-filename": "snp\\.efi", "real-filename": "tftp/snp.efi", "allow": "true", "read-only": "true"}],
    }


def test_netboot_from_scratch_orders_dependencies() -> None:
    outcome = plan_netboot(NETBOOT_ROUTER, netboot_params())
    paths = [change.spec.path for change in outcome.changes]
    assert paths == ["/ip/pool", "/ip/dhcp-server", "/ip/dhcp-server/network", "/ip/dhcp-server/lease", "/ip/dhcp-server/lease", "/ip/tftp"]
    server_add = outcome.changes[1].words()
    assert server_add == {"name": "dhcp-vlan65", "interface": "vlan65", "address-pool": "pool-vlan65", "lease-time": "30m", "disabled": "no"}
    assert outcome.changes[3].words()["comment"] == "c4140"
    assert outcome.after["leases"][0] == {"mac": "00:E0:66:59:88:8B", "address": "10.42.65.82"}


def test_netboot_configured_router_is_unchanged() -> None:
    outcome = plan_netboot(configured_netboot(), netboot_params())
    assert outcome.changes == []


def test_purge_removes_only_static_leases_of_this_server() -> None:
    data = configured_netboot()
    data["/ip/dhcp-server/lease"].append({".id": "*B", "server": "dhcp-vlan65", "mac-address": "52:54:00:00:00:09", "address": "10.42.65.9"})
    without = plan_netboot(data, netboot_params())
    assert without.changes == []
    purged = plan_netboot(data, netboot_params(purge_leases=True))
    assert [change.describe() for change in purged.changes] == ["/ip/dhcp-server/lease/remove server=dhcp-vlan65 mac-address=52:54:00:00:00:09"]


def test_hostname_option_mode_creates_options_and_drops_stale_ones() -> None:
    data = configured_netboot()
    outcome = plan_netboot(data, netboot_params(hostname_mode="option"))
    commands = [change.describe() for change in outcome.changes]
    assert commands[0] == "/ip/dhcp-server/option/add name=hostname-c4140 code=12 value='c4140'"
    assert "/ip/dhcp-server/lease/set server=dhcp-vlan65 mac-address=00:E0:66:59:89:84: comment= dhcp-option=hostname-c4140" in commands
    assert outcome.after["hostname_mode"] == "option"
    assert outcome.after["leases"][1]["hostname"] == "c4140"

    data["/ip/dhcp-server/option"] = [{".id": "*O", "name": "hostname-c4140", "code": "12", "value": "'c4140'"}]
    data["/ip/dhcp-server/lease"][0].update({"comment": "", "dhcp-option": "hostname-c4140"})
    assert plan_netboot(data, netboot_params(hostname_mode="option")).changes == []
    back_to_comment = [change.describe() for change in plan_netboot(data, netboot_params()).changes]
    assert back_to_comment[-1] == "/ip/dhcp-server/option/remove name=hostname-c4140"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"leases": [{"mac": "00:e0:66:59:89", "address": "10.42.65.9"}]}, "leases[0].mac: '00:e0:66:59:89' is not a MAC address"),
        ({"leases": [{"mac": "00:e0:66:59:89:84", "address": "10.42.66.9"}]}, "leases[0].address: '10.42.66.9' is not inside network.address 10.42.65.0/24"),
        ({"leases": [{"mac": "00:e0:66:59:89:84", "address": "10.42.65.255"}]}, "is the network or broadcast address"),
        (
            {"leases": [{"mac": "00:e0:66:59:89:84", "address": "10.42.65.9"}, {"mac": "00-E0-66-59-89-84", "address": "10.42.65.10"}]},
            "leases[1].mac: '00-E0-66-59-89-84' is already used by leases[0]",
        ),
        (
            {"leases": [{"mac": "00:e0:66:59:89:84", "address": "10.42.65.9", "hostname": "bad_name"}]},
            "leases[0].hostname: 'bad_name' is not a valid host name",
        ),
        ({"network": {"address": "10.42.65.1/24"}}, "network.address: '10.42.65.1/24' has host bits set (did you mean 10.42.65.0/24?)"),
        ({"network": {"address": "10.42.65.0"}}, "network.address: '10.42.65.0' is not in CIDR form"),
        ({"pool": {"ranges": ["10.42.66.1-10.42.66.9"]}}, "pool.ranges: '10.42.66.1-10.42.66.9' is not inside network.address"),
        ({"lease_time": "soon"}, "lease_time: 'soon' is not a duration"),
        ({"tftp": [{"req_filename": "snp(.efi"}]}, "tftp[0].req_filename: 'snp(.efi' is not a valid regular expression"),
        ({"dhcp_options": [{"name": "hostname-x", "code": 12, "value": "'x'"}]}, "reserved for hostname_mode=option"),
    ],
)
def test_bad_netboot_input_is_named(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ros.InputError) as caught:
        ros.NetbootRequest.from_params(netboot_params(**overrides))
    assert message in str(caught.value)


def test_netboot_router_checks() -> None:
    with pytest.raises(ros.InputError, match=re.escape("interface: 'vlan99' is not an interface of the router")):
        plan_netboot(NETBOOT_ROUTER, netboot_params(interface="vlan99"))
    with pytest.raises(ros.InputError, match=re.escape("network.dhcp_options: 'ipxe' is not a DHCP option")):
        plan_netboot(NETBOOT_ROUTER, netboot_params(network={"address": "10.42.65.0/24", "dhcp_options": ["ipxe"]}))


def test_netboot_info_round_trip_is_a_no_op() -> None:
    data = configured_netboot()
    info = ros.gather_info(ros.StaticReader(data), ["netboot"])
    state = next(item for item in info["netboot"] if item["server_name"] == "dhcp-vlan65")
    params = {**state, "tftp": info["tftp"], "purge_leases": True, "purge_tftp": True}
    assert plan_netboot(data, params).changes == []


# ---------------------------------------------------------------------------------------------
# NVMe/TCP exports
# ---------------------------------------------------------------------------------------------

WITH_ROSE = {
    "/system/package": [{".id": "*1", "name": "routeros", "version": "7.16"}, {".id": "*2", "name": "rose-storage", "version": "7.16", "disabled": "false"}]
}


def nvme(data: Mapping[str, Sequence[Mapping[str, str]]], **params: Any) -> ros.Outcome:
    return ros.plan_nvme_export(ros.StaticReader({**WITH_ROSE, **data}), ros.NvmeRequest.from_params({"slot": "pvc-1", **params}))


EXPORTED = {
    "/disk": [
        {".id": "*1", "slot": "nvme1", "type": "hardware"},
        {
            ".id": "*2",
            "slot": "pvc-1",
            "type": "file",
            "file-path": "/disk1/pvc-1.img",
            "file-size": "10.0GiB",
            "nvme-tcp-export": "yes",
            "nvme-tcp-server-port": "4420",
            "nvme-tcp-server-nqn": "nqn.2000-02.com.mikrotik:pvc-1",
        },
    ],
    "/file": [{".id": "*F", "name": "disk1/pvc-1.img", "type": "file"}],
}


def test_nvme_export_created_with_documented_words() -> None:
    outcome = nvme({}, file_path="disk1/pvc-1.img", file_size="10G", nvme_port=4420)
    assert [change.words() for change in outcome.changes] == [
        {"slot": "pvc-1", "type": "file", "file-path": "disk1/pvc-1.img", "file-size": "10G", "nvme-tcp-export": "yes", "nvme-tcp-server-port": "4420"}
    ]
    assert outcome.after["file_size"] == 10 * 1024**3


def test_nvme_export_same_size_in_other_units_is_unchanged() -> None:
    assert nvme(EXPORTED, file_path="disk1/pvc-1.img", file_size=str(10 * 1024**3), nvme_port=4420, nqn="nqn.2000-02.com.mikrotik:pvc-1").changes == []


def test_nvme_export_grows_and_refuses_to_shrink_or_move() -> None:
    assert [change.describe() for change in nvme(EXPORTED, file_size="20G").changes] == ["/disk/set slot=pvc-1: file-size=20G"]
    with pytest.raises(ros.InputError, match=re.escape("file_size: 5368709120 is smaller than the current size")):
        nvme(EXPORTED, file_size="5G")
    with pytest.raises(ros.InputError, match=re.escape("file_path: 'disk2/pvc-1.img' differs")):
        nvme(EXPORTED, file_path="disk2/pvc-1.img")


def test_nvme_export_refuses_hardware_slots_and_missing_package() -> None:
    with pytest.raises(ros.InputError, match=re.escape("slot: 'nvme1' is a hardware disk")):
        ros.plan_nvme_export(ros.StaticReader({**WITH_ROSE, **EXPORTED}), ros.NvmeRequest.from_params({"slot": "nvme1", "file_size": "1G"}))
    with pytest.raises(ros.RouterOSError, match=re.escape("rose-storage package is not installed")):
        ros.plan_nvme_export(ros.StaticReader({}), ros.NvmeRequest.from_params({"slot": "pvc-1", "file_path": "a.img", "file_size": "1G"}))


def test_nvme_export_absent_keeps_the_file_unless_asked() -> None:
    assert [change.describe() for change in nvme(EXPORTED, state="absent").changes] == ["/disk/remove slot=pvc-1"]
    assert [change.describe() for change in nvme(EXPORTED, state="absent", remove_file=True).changes] == [
        "/disk/remove slot=pvc-1",
        "/file/remove name=disk1/pvc-1.img",
    ]
    assert nvme({}, state="absent").changes == []


def test_nvme_input_errors() -> None:
    with pytest.raises(ros.InputError, match=re.escape("file_size: '-1G' is not a size")):
        ros.NvmeRequest.from_params({"slot": "a", "file_size": "-1G"})
    with pytest.raises(ros.InputError, match=re.escape("nqn: 'pvc-1' is not an NVMe qualified name")):
        ros.NvmeRequest.from_params({"slot": "a", "nqn": "pvc-1"})
    with pytest.raises(ros.InputError, match=re.escape("file_size: None is required to create slot pvc-1")):
        nvme({}, file_path="a.img")


def test_info_reports_packages_and_exports() -> None:
    data = {**WITH_ROSE, **EXPORTED, "/system/resource": [{"version": "7.16.2 (stable)", "board-name": "RDS2216", "architecture-name": "arm64"}]}
    info = ros.gather_info(ros.StaticReader(data), ["all"])
    assert info["version"] == "7.16.2 (stable)"
    assert info["board"] == "RDS2216"
    assert info["rose_storage"] is True
    assert info["nvme_exports"] == [
        {
            "slot": "pvc-1",
            "file_path": "disk1/pvc-1.img",
            "file_size": 10 * 1024**3,
            "nvme_port": 4420,
            "nqn": "nqn.2000-02.com.mikrotik:pvc-1",
            "allowed_hosts": [],
        }
    ]


# ---------------------------------------------------------------------------------------------
# Session: raw values, error reporting, TLS options
# ---------------------------------------------------------------------------------------------


class FakeApi:
    """Answers prints from fixed raw rows, records writes, raises a chosen exception on a chosen command."""

    def __init__(self, rows: Mapping[str, list[dict[str, str]]], fail_on: str | None = None, error: Exception | None = None) -> None:
        self.rows = rows
        self.fail_on = fail_on
        self.error = error
        self.sent: list[tuple[str, tuple[str, ...]]] = []

    def rawCmd(self, command: str, *words: str) -> list[dict[str, str]]:
        self.sent.append((command, words))
        if command == self.fail_on and self.error is not None:
            raise self.error
        if command.endswith("/print"):
            return self.rows.get(command.removesuffix("/print"), [])
        if command.endswith("/add"):
            return [{"ret": f"*{len(self.sent):X}"}]
        return []

    def close(self) -> None:
        pass


def test_session_reads_each_path_once() -> None:
    api = FakeApi({"/ip/pool": [{".id": "*1", "name": "p", "ranges": "10.0.0.1"}]})
    session = ros.Session(api)
    session.read(ros.IP_POOL)
    session.read(ros.IP_POOL)
    assert api.sent == [("/ip/pool/print", ())]


def test_later_changes_refer_to_entries_added_in_the_same_run_by_the_routers_id() -> None:
    """A new bridge is added with filtering off and switched on last: the set must use the id add returned."""
    api = FakeApi({})
    outcome = ros.plan_vlan(ros.StaticReader({"/interface": ETHERNETS}), ros.VlanRequest.from_params(vlan_params()))
    ros.Session(api).apply(outcome.changes)
    bridge_add = api.sent.index(next(item for item in api.sent if item[0] == "/interface/bridge/add"))
    assert api.sent[-1] == ("/interface/bridge/set", (f"=.id=*{bridge_add + 1:X}", "=vlan-filtering=yes"))


def test_session_sends_changes_in_order() -> None:
    api = FakeApi({})
    plan = ros.plan_path(ros.IP_POOL, [{"name": "p", "ranges": frozenset({"10.0.0.1"})}], [])
    applied = ros.Session(api).apply(plan.in_order())
    assert api.sent == [("/ip/pool/add", ("=name=p", "=ranges=10.0.0.1"))]
    assert applied == ["/ip/pool/add name=p ranges=10.0.0.1"]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (TrapError(message="failure: already have such entry", category=None), "the router refused: failure: already have such entry"),
        (MultiTrapError(TrapError(message="a"), TrapError(message="b")), "the router refused: a; b"),
        (FatalError("session terminated on request"), "the router ended the session (!fatal): session terminated on request"),
        (ConnectionClosed("Connection unexpectedly closed."), "the connection to the router was lost (Connection unexpectedly closed.)"),
        (TimeoutError("timed out"), "the connection to the router was lost (timed out)"),
    ],
)
def test_write_failures_name_path_entry_and_router_message(error: Exception, expected: str) -> None:
    api = FakeApi({}, fail_on="/ip/dhcp-server/lease/add", error=error)
    plan = ros.plan_path(ros.IP_POOL, [{"name": "p"}], [])
    lease = ros.plan_path(ros.DHCP_LEASE, [{"server": "s", "mac-address": "00:E0:66:59:89:84", "address": "10.0.0.5"}], [])
    with pytest.raises(ros.RouterOSError) as caught:
        ros.Session(api).apply([*plan.in_order(), *lease.in_order()])
    failure = caught.value
    assert expected in failure.message
    assert failure.message.startswith("add DHCP lease (server=s mac-address=00:E0:66:59:89:84) on /ip/dhcp-server/lease: ")
    assert failure.details()["path"] == "/ip/dhcp-server/lease"
    assert failure.details()["entry"] == "server=s mac-address=00:E0:66:59:89:84"
    assert failure.applied == ["/ip/pool/add name=p"]


def test_read_failure_names_the_path() -> None:
    api = FakeApi({}, fail_on="/interface/bridge/print", error=TrapError(message="not enough permissions (9)"))
    with pytest.raises(ros.RouterOSError, match=r"reading /interface/bridge: the router refused: not enough permissions \(9\)"):
        ros.Session(api).read(ros.BRIDGE)


def test_raw_api_keeps_router_text() -> None:
    class Protocol:
        def readSentence(self) -> tuple[str, tuple[str, ...]]:
            return "!re", ("=comment=yes", "=name=007", "=value==a=b", "=empty=")

    api = ros._RawApi(protocol=Protocol())
    assert api.readSentence() == ("!re", {"comment": "yes", "name": "007", "value": "=a=b", "empty": ""})


def test_tls_options_map_to_ssl_context(monkeypatch: pytest.MonkeyPatch) -> None:
    contexts: list[ssl.SSLContext] = []
    real = ssl.create_default_context

    def capture(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        context = real()
        contexts.append(context)
        return context

    monkeypatch.setattr(ssl, "create_default_context", capture)
    ros._tls_wrapper(ros.ConnectionOptions("r", "u", "p", tls=True))
    ros._tls_wrapper(ros.ConnectionOptions("r", "u", "p", tls=True, validate_cert_hostname=True))
    ros._tls_wrapper(ros.ConnectionOptions("r", "u", "p", tls=True, validate_certs=False))
    default, hostname, unvalidated = contexts
    assert default.verify_mode == ssl.CERT_REQUIRED and not default.check_hostname
    assert hostname.verify_mode == ssl.CERT_REQUIRED and hostname.check_hostname
    assert unvalidated.verify_mode == ssl.CERT_NONE


def test_connection_options_default_ports() -> None:
    assert ros.ConnectionOptions("r", "u", "p").effective_port == 8728
    assert ros.ConnectionOptions("r", "u", "p", tls=True).effective_port == 8729
    assert ros.ConnectionOptions.from_params({"hostname": "r", "username": "u", "password": "p", "port": None, "tls": True}).effective_port == 8729


def test_connect_failure_is_reported_without_the_password() -> None:
    options = ros.ConnectionOptions("127.0.0.1", "admin", "s3cret", port=1, timeout=2)
    with pytest.raises(ros.RouterOSError) as caught:
        ros.Session.connect(options)
    assert caught.value.message.startswith("connecting to admin@127.0.0.1:1: cannot reach the router API")
    assert "s3cret" not in caught.value.message


# ---------------------------------------------------------------------------------------------
# What the planners read: only the menus a task manages
# ---------------------------------------------------------------------------------------------


class RecordingReader(ros.StaticReader):
    """A StaticReader that remembers which menus were read (a Session caches them: one print per menu)."""

    def __init__(self, rows: Mapping[str, Sequence[Mapping[str, str]]]) -> None:
        super().__init__(rows)
        self.paths: list[str] = []

    def read(self, spec: ros.PathSpec) -> list[ros.Row]:
        self.paths.append(spec.path)
        return super().read(spec)

    def query(self, spec: ros.PathSpec, equal: Mapping[str, str]) -> list[ros.Row]:
        self.paths.append(spec.path)
        return super().query(spec, equal)


def test_netboot_with_only_leases_reads_only_the_lease_menu() -> None:
    reader = RecordingReader(configured_netboot())
    params = {"server_name": "dhcp-vlan65", "leases": [{"mac": "00:e0:66:59:89:84", "address": "10.42.65.93", "hostname": "c4140"}]}
    outcome = ros.plan_netboot(reader, ros.NetbootRequest.from_params(params))
    assert set(reader.paths) == {"/ip/dhcp-server/lease"}
    assert [change.describe() for change in outcome.changes] == [
        "/ip/dhcp-server/lease/set server=dhcp-vlan65 mac-address=00:E0:66:59:89:84: address=10.42.65.93"
    ]
    assert set(outcome.after) == {"server_name", "hostname_mode", "leases"}
    assert {"mac": "00:E0:66:59:89:84", "address": "10.42.65.93", "comment": "c4140"} in outcome.after["leases"]


def test_netboot_fully_configured_reads_each_managed_menu_and_not_interface() -> None:
    reader = RecordingReader(configured_netboot())
    assert ros.plan_netboot(reader, ros.NetbootRequest.from_params(netboot_params())).changes == []
    assert set(reader.paths) == {"/ip/pool", "/ip/dhcp-server", "/ip/dhcp-server/network", "/ip/dhcp-server/lease", "/ip/tftp"}


def test_netboot_settings_of_the_server_need_interface() -> None:
    with pytest.raises(ros.InputError, match=re.escape("server_name: None is required when interface is left out")):
        ros.NetbootRequest.from_params({"leases": []})
    with pytest.raises(ros.InputError, match=re.escape("lease_time: '1h' needs interface")):
        ros.NetbootRequest.from_params({"server_name": "dhcp-x", "lease_time": "1h"})
    with pytest.raises(ros.InputError, match=re.escape("pool: {'ranges': ['10.42.65.100']} needs network")):
        ros.NetbootRequest.from_params({"interface": "vlan65", "pool": {"ranges": ["10.42.65.100"]}})


def test_vlan_with_only_the_bridge_reads_only_the_bridge_menu() -> None:
    reader = RecordingReader(CONFIGURED)
    outcome = ros.plan_vlan(reader, ros.VlanRequest.from_params({"bridge": {"name": "br1", "vlan_filtering": True}}))
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


def plan_vlan_with(reader: ros.Reader, params: Mapping[str, Any]) -> ros.Outcome:
    return ros.plan_vlan(reader, ros.VlanRequest.from_params(params))


def test_nvme_export_unchanged_reads_only_the_disks() -> None:
    reader = RecordingReader({**WITH_ROSE, **EXPORTED})
    request = ros.NvmeRequest.from_params({"slot": "pvc-1", "file_path": "disk1/pvc-1.img", "file_size": "10G", "nvme_port": 4420})
    assert ros.plan_nvme_export(reader, request).changes == []
    assert set(reader.paths) == {"/disk"}
    with pytest.raises(ros.RouterOSError, match="rose-storage package is not installed"):
        ros.plan_nvme_export(ros.StaticReader(EXPORTED), ros.NvmeRequest.from_params({"slot": "pvc-1", "file_size": "20G"}))
