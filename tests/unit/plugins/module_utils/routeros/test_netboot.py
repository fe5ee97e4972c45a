"""Netboot (plugins/module_utils/_routeros/netboot.py): ordering, leases, hostname options, input errors, what is read."""

from __future__ import annotations

import re
from typing import Any

import pytest
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.errors import InputError
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.netboot import NetbootRequest, plan_netboot

from tests.support.routeros_readers import NETBOOT_ROUTER, RecordingReader, configured_netboot, netboot_outcome, netboot_params


def test_netboot_from_scratch_orders_dependencies() -> None:
    outcome = netboot_outcome(NETBOOT_ROUTER, netboot_params())
    paths = [change.spec.path for change in outcome.changes]
    assert paths == ["/ip/pool", "/ip/dhcp-server", "/ip/dhcp-server/network", "/ip/dhcp-server/lease", "/ip/dhcp-server/lease", "/ip/tftp"]
    server_add = outcome.changes[1].words()
    assert server_add == {"name": "dhcp-vlan65", "interface": "vlan65", "address-pool": "pool-vlan65", "lease-time": "30m", "disabled": "no"}
    assert outcome.changes[3].words()["comment"] == "c4140"
    assert outcome.after["leases"][0] == {"mac": "00:E0:66:59:88:8B", "address": "10.42.65.82"}


def test_netboot_configured_router_is_unchanged() -> None:
    outcome = netboot_outcome(configured_netboot(), netboot_params())
    assert outcome.changes == []


def test_purge_removes_only_static_leases_of_this_server() -> None:
    data = configured_netboot()
    data["/ip/dhcp-server/lease"].append({".id": "*B", "server": "dhcp-vlan65", "mac-address": "52:54:00:00:00:09", "address": "10.42.65.9"})
    without = netboot_outcome(data, netboot_params())
    assert without.changes == []
    purged = netboot_outcome(data, netboot_params(purge_leases=True))
    assert [change.describe() for change in purged.changes] == ["/ip/dhcp-server/lease/remove server=dhcp-vlan65 mac-address=52:54:00:00:00:09"]


def test_hostname_option_mode_creates_options_and_drops_stale_ones() -> None:
    data = configured_netboot()
    outcome = netboot_outcome(data, netboot_params(hostname_mode="option"))
    commands = [change.describe() for change in outcome.changes]
    assert commands[0] == "/ip/dhcp-server/option/add name=hostname-c4140 code=12 value='c4140'"
    assert "/ip/dhcp-server/lease/set server=dhcp-vlan65 mac-address=00:E0:66:59:89:84: comment= dhcp-option=hostname-c4140" in commands
    assert outcome.after["hostname_mode"] == "option"
    assert outcome.after["leases"][1]["hostname"] == "c4140"

    data["/ip/dhcp-server/option"] = [{".id": "*O", "name": "hostname-c4140", "code": "12", "value": "'c4140'"}]
    data["/ip/dhcp-server/lease"][0].update({"comment": "", "dhcp-option": "hostname-c4140"})
    assert netboot_outcome(data, netboot_params(hostname_mode="option")).changes == []
    back_to_comment = [change.describe() for change in netboot_outcome(data, netboot_params()).changes]
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
    with pytest.raises(InputError) as caught:
        NetbootRequest.from_params(netboot_params(**overrides))
    assert message in str(caught.value)


LONGEST_NAME = ".".join(["a" * 63] * 3 + ["b" * 61])  # 253 characters, the most a DNS name may have


@pytest.mark.parametrize(("hostname", "valid"), [("C4140", True), ("r640.lab", True), (LONGEST_NAME, True), (LONGEST_NAME + "b", False), ("a" * 64, False)])
def test_lease_host_names_are_dns_names_in_any_case(hostname: str, valid: bool) -> None:
    params = netboot_params(leases=[{"mac": "00:e0:66:59:89:84", "address": "10.42.65.9", "hostname": hostname}])
    if valid:
        assert NetbootRequest.from_params(params).leases[0]["comment"] == hostname
        return
    with pytest.raises(InputError, match=re.escape("is not a valid host name")):
        NetbootRequest.from_params(params)


def test_netboot_router_checks() -> None:
    with pytest.raises(InputError, match=re.escape("interface: 'vlan99' is not an interface of the router")):
        netboot_outcome(NETBOOT_ROUTER, netboot_params(interface="vlan99"))
    with pytest.raises(InputError, match=re.escape("network.dhcp_options: 'ipxe' is not a DHCP option")):
        netboot_outcome(NETBOOT_ROUTER, netboot_params(network={"address": "10.42.65.0/24", "dhcp_options": ["ipxe"]}))


def test_netboot_with_only_leases_reads_only_the_lease_menu() -> None:
    reader = RecordingReader(configured_netboot())
    params = {"server_name": "dhcp-vlan65", "leases": [{"mac": "00:e0:66:59:89:84", "address": "10.42.65.93", "hostname": "c4140"}]}
    outcome = plan_netboot(reader, NetbootRequest.from_params(params))
    assert set(reader.paths) == {"/ip/dhcp-server/lease"}
    assert [change.describe() for change in outcome.changes] == [
        "/ip/dhcp-server/lease/set server=dhcp-vlan65 mac-address=00:E0:66:59:89:84: address=10.42.65.93"
    ]
    assert set(outcome.after) == {"server_name", "hostname_mode", "leases"}
    assert {"mac": "00:E0:66:59:89:84", "address": "10.42.65.93", "comment": "c4140"} in outcome.after["leases"]


def test_netboot_fully_configured_reads_each_managed_menu_and_not_interface() -> None:
    reader = RecordingReader(configured_netboot())
    assert plan_netboot(reader, NetbootRequest.from_params(netboot_params())).changes == []
    assert set(reader.paths) == {"/ip/pool", "/ip/dhcp-server", "/ip/dhcp-server/network", "/ip/dhcp-server/lease", "/ip/tftp"}


def test_netboot_settings_of_the_server_need_interface() -> None:
    with pytest.raises(InputError, match=re.escape("server_name: None is required when interface is left out")):
        NetbootRequest.from_params({"leases": []})
    with pytest.raises(InputError, match=re.escape("lease_time: '1h' needs interface")):
        NetbootRequest.from_params({"server_name": "dhcp-x", "lease_time": "1h"})
    with pytest.raises(InputError, match=re.escape("pool: {'ranges': ['10.42.65.100']} needs network")):
        NetbootRequest.from_params({"interface": "vlan65", "pool": {"ranges": ["10.42.65.100"]}})
