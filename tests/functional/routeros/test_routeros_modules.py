"""The RouterOS modules as users run them (ansible-playbook, check mode, --diff) against the ``routeros`` peer.

The peer is the API simulator unless ROUTEROS_HOST & co. name a real router. Against a real router the
tests only use the ports listed in ROUTEROS_TEST_PORTS (comma separated, at least three spare ports that
may be put in a test bridge) and names, VLANs (3064-3066) and networks (10.199.64.0/22) unlikely to exist
there, and remove what they created; NVMe/TCP volumes go to ROUTEROS_TEST_DISK_DIR (default disk1). Every
check of the router's state reads it back through librouteros.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.routeros_cases import (
    BRIDGE,
    DISK_DIR,
    INFO,
    MGMT_VLAN,
    NETBOOT,
    NVME,
    PXE_INTERFACE,
    PXE_VLAN,
    STORAGE_VLAN,
    VLAN,
    VOLUME_FILE,
    make_pxe_vlan,
    netboot_args,
    nvme_args,
    vlan_args,
)

Run = Callable[..., dict[str, Any]]


def rows(api: Any, *path: str) -> list[dict[str, Any]]:
    """Every entry of a menu as librouteros reads it (independent of the module's own reading)."""
    return list(api.path(*path))


def static(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry for entry in entries if not entry.get("dynamic")]


def spare_ports(api: Any, count: int, is_real: bool) -> list[str]:
    """Ports the test may put in its bridge: ROUTEROS_TEST_PORTS on a real router, free ethernets on the simulator."""
    listed = [name.strip() for name in os.environ.get("ROUTEROS_TEST_PORTS", "").split(",") if name.strip()]
    if is_real and len(listed) < count:
        pytest.skip(f"needs {count} spare ports of the real router in ROUTEROS_TEST_PORTS")
    if listed:
        return listed[:count]
    used = {entry["interface"] for entry in rows(api, "interface", "bridge", "port")}
    ethernets = [entry["name"] for entry in rows(api, "interface") if entry.get("type") == "ether" and entry["name"] not in used]
    if len(ethernets) < count:
        pytest.skip(f"the router has fewer than {count} free ethernet ports")
    return ethernets[-count:]


@pytest.fixture
def api(routeros: Any, routeros_api: Callable[..., Any]) -> Iterator[Any]:
    """A librouteros connection for checks; on a real router, whatever the test created is removed afterwards."""
    connection = routeros_api()
    yield connection
    if routeros.is_real:
        remove_test_objects(routeros_api())


def remove_test_objects(api: Any) -> None:
    def remove(path: tuple[str, ...], belongs: Callable[[dict[str, Any]], bool]) -> None:
        ids = [entry[".id"] for entry in static(rows(api, *path)) if belongs(entry)]
        if ids:
            api.path(*path).remove(*ids)

    remove(("ip", "dhcp-server", "lease"), lambda entry: str(entry.get("server", "")).endswith("-test"))
    remove(("ip", "dhcp-server", "network"), lambda entry: str(entry.get("address", "")).startswith("10.199."))
    remove(("ip", "dhcp-server"), lambda entry: str(entry.get("name", "")).endswith("-test"))
    remove(("ip", "dhcp-server", "option"), lambda entry: str(entry.get("name", "")).startswith("hostname-test-"))
    remove(("ip", "pool"), lambda entry: str(entry.get("name", "")).endswith("-test"))
    remove(("ip", "tftp"), lambda entry: str(entry.get("req-filename", "")).startswith("test"))
    remove(("ip", "address"), lambda entry: str(entry.get("address", "")).startswith("10.199."))
    remove(("interface", "vlan"), lambda entry: entry.get("interface") == BRIDGE)
    remove(("interface", "bridge", "vlan"), lambda entry: entry.get("bridge") == BRIDGE)
    remove(("interface", "bridge", "port"), lambda entry: entry.get("bridge") == BRIDGE)
    remove(("interface", "bridge"), lambda entry: entry.get("name") == BRIDGE)
    remove(("disk",), lambda entry: str(entry.get("slot", "")).startswith("test-") and entry.get("type") == "file")
    remove(("file",), lambda entry: str(entry.get("name", "")).startswith(f"{DISK_DIR}/test-"))


def vlan_table(api: Any) -> dict[str, dict[str, set[str]]]:
    """Static VLAN entries of the test bridge: vlan-ids -> tagged / untagged member sets."""
    table = {}
    for entry in static(rows(api, "interface", "bridge", "vlan")):
        if entry.get("bridge") == BRIDGE:
            table[str(entry["vlan-ids"])] = {
                "tagged": {name for name in str(entry.get("tagged", "")).split(",") if name},
                "untagged": {name for name in str(entry.get("untagged", "")).split(",") if name},
            }
    return table


def bridge_state(api: Any) -> dict[str, Any]:
    """Everything routeros_vlan manages, as read through librouteros, to compare before and after a run."""
    return {
        "bridges": [entry for entry in rows(api, "interface", "bridge") if entry.get("name") == BRIDGE],
        "ports": sorted((entry for entry in rows(api, "interface", "bridge", "port") if entry.get("bridge") == BRIDGE), key=lambda e: e["interface"]),
        "vlans": vlan_table(api),
        "interfaces": sorted((entry for entry in rows(api, "interface", "vlan") if entry.get("interface") == BRIDGE), key=lambda e: e["name"]),
        "addresses": sorted(entry["address"] for entry in rows(api, "ip", "address") if str(entry["address"]).startswith("10.199.")),
    }


def assert_failed_with(result: dict[str, Any], *fragments: str) -> None:
    assert result.get("failed"), result
    for fragment in fragments:
        assert fragment in result["msg"], result["msg"]


# ---------------------------------------------------------------------------------------------
# routeros_vlan
# ---------------------------------------------------------------------------------------------


def test_vlan_create_idempotent_modify_check_mode_and_diff(routeros: Any, api: Any, run_module: Run) -> None:
    ports = spare_ports(api, 3, routeros.is_real)
    uplink, host, storage = ports
    args = vlan_args(routeros, ports)

    predicted = run_module(VLAN, args, check=True, diff=True)
    assert predicted["changed"] and not predicted.get("failed"), predicted
    assert predicted["applied"] == []
    assert bridge_state(api)["bridges"] == [], "check mode created the bridge"
    assert predicted["diff"]["before"] == {}

    created = run_module(VLAN, args, diff=True)
    assert created["changed"], created
    assert created["changes"] == predicted["changes"]
    assert created["changes"][0].startswith("/interface/bridge/add ") and "vlan-filtering=no" in created["changes"][0]
    assert created["changes"][-1] == f"/interface/bridge/set name={BRIDGE}: vlan-filtering=yes"
    assert created["diff"]["after"]["vlans"] == [
        {"vlan_ids": str(MGMT_VLAN), "tagged": sorted([BRIDGE, uplink]), "untagged": []},
        {"vlan_ids": str(PXE_VLAN), "tagged": sorted([BRIDGE, uplink]), "untagged": [host]},
        {"vlan_ids": str(STORAGE_VLAN), "tagged": sorted([BRIDGE, storage, uplink]), "untagged": []},
    ]
    state = bridge_state(api)
    assert state["bridges"][0]["vlan-filtering"] is True
    assert {entry["interface"]: entry["pvid"] for entry in state["ports"]} == {uplink: 1, host: PXE_VLAN, storage: 1}
    assert state["ports"][[entry["interface"] for entry in state["ports"]].index(uplink)]["frame-types"] == "admit-only-vlan-tagged"
    assert state["vlans"] == {
        str(MGMT_VLAN): {"tagged": {BRIDGE, uplink}, "untagged": set()},
        str(PXE_VLAN): {"tagged": {BRIDGE, uplink}, "untagged": {host}},
        str(STORAGE_VLAN): {"tagged": {BRIDGE, uplink, storage}, "untagged": set()},
    }
    assert {entry["name"]: entry["vlan-id"] for entry in state["interfaces"]} == {"vlan3064": MGMT_VLAN, PXE_INTERFACE: PXE_VLAN, "vlan3066": STORAGE_VLAN}
    assert state["addresses"] == ["10.199.64.1/24", "10.199.65.1/24", "10.199.66.1/24"]

    # Same intent spelled differently (member order, id forms): nothing to do.
    respelled = vlan_args(routeros, ports)
    respelled["vlans"][0] = {"vlan_ids": [str(MGMT_VLAN)], "tagged": [uplink, BRIDGE]}
    again = run_module(VLAN, respelled, diff=True)
    assert not again["changed"], again["changes"]
    assert again["changes"] == []
    assert again["diff"]["before"] == again["diff"]["after"]

    modified_args = vlan_args(
        routeros,
        ports,
        ports=[*args["ports"][:2], {"interface": storage, "pvid": STORAGE_VLAN}],
        vlans=[*args["vlans"][:2], {"vlan_ids": STORAGE_VLAN, "tagged": [BRIDGE, uplink], "untagged": [storage]}],
    )
    before_check = bridge_state(api)
    checked = run_module(VLAN, modified_args, check=True, diff=True)
    assert checked["changed"] and checked["applied"] == []
    assert bridge_state(api) == before_check, "check mode changed the router"
    assert checked["diff"]["before"]["vlans"][2] == {"vlan_ids": str(STORAGE_VLAN), "tagged": sorted([BRIDGE, storage, uplink]), "untagged": []}
    assert checked["diff"]["after"]["vlans"][2] == {"vlan_ids": str(STORAGE_VLAN), "tagged": sorted([BRIDGE, uplink]), "untagged": [storage]}

    modified = run_module(VLAN, modified_args)
    assert modified["changed"]
    assert sorted(modified["changes"]) == sorted(checked["changes"])
    state = bridge_state(api)
    assert state["vlans"][str(STORAGE_VLAN)] == {"tagged": {BRIDGE, uplink}, "untagged": {storage}}
    assert {entry["interface"]: entry["pvid"] for entry in state["ports"]}[storage] == STORAGE_VLAN
    assert not run_module(VLAN, modified_args)["changed"]


def test_vlan_purge_is_opt_in(routeros: Any, api: Any, run_module: Run) -> None:
    ports = spare_ports(api, 3, routeros.is_real)
    args = vlan_args(routeros, ports)
    assert run_module(VLAN, args)["changed"]
    # Unlisted things: an extra VLAN entry, an extra address on a managed VLAN interface.
    api.path("interface", "bridge", "vlan").add(bridge=BRIDGE, **{"vlan-ids": "3067", "tagged": BRIDGE})
    api.path("ip", "address").add(address="10.199.65.9/24", interface=PXE_INTERFACE)

    kept = run_module(VLAN, args)
    assert not kept["changed"], kept["changes"]
    assert "3067" in vlan_table(api)
    dynamic_before = [entry for entry in rows(api, "interface", "bridge", "vlan") if entry.get("dynamic")]

    purged = run_module(VLAN, {**args, "purge": True}, diff=True)
    assert purged["changed"]
    assert sorted(purged["changes"]) == sorted(
        [f"/interface/bridge/vlan/remove bridge={BRIDGE} vlan-ids=3067", f"/ip/address/remove interface={PXE_INTERFACE} address=10.199.65.9/24"]
    )
    assert "3067" not in vlan_table(api)
    assert "10.199.65.9/24" not in bridge_state(api)["addresses"]
    dynamic_after = [entry for entry in rows(api, "interface", "bridge", "vlan") if entry.get("dynamic")]
    assert [entry[".id"] for entry in dynamic_after] == [entry[".id"] for entry in dynamic_before], "a dynamic entry was touched"
    assert not run_module(VLAN, {**args, "purge": True})["changed"]


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda args, ports: args["ports"].append({"interface": "ether-nope"}), "ports[3].interface: 'ether-nope' is not an interface of the router"),
        (lambda args, ports: args["vlans"].append({"vlan_ids": "4000-4095"}), "vlans[3].vlan_ids: '4000-4095' has a VLAN id outside 1-4094"),
        (lambda args, ports: args["interfaces"][1].update(addresses=["10.199.65.1"]), "interfaces[1].addresses[0]: '10.199.65.1' is not in CIDR form"),
        (lambda args, ports: args["vlans"][0].update(tagged=[ports[0]]), f"management_vlan: {MGMT_VLAN} needs bridge {BRIDGE} in the tagged list"),
    ],
    ids=["unknown-interface", "vlan-id-range", "address-not-cidr", "management-bridge-untagged"],
)
def test_vlan_bad_input_fails_before_any_change(
    routeros: Any, api: Any, run_module: Run, change: Callable[[dict[str, Any], list[str]], None], fragment: str
) -> None:
    ports = spare_ports(api, 3, routeros.is_real)
    args = vlan_args(routeros, ports)
    change(args, ports)
    before = bridge_state(api)
    result = run_module(VLAN, args)
    assert_failed_with(result, fragment)
    assert result["applied"] == []
    assert not result["changed"]
    assert bridge_state(api) == before


def test_vlan_router_refusal_names_path_entry_and_message(routeros: Any, api: Any, run_module: Run) -> None:
    ports = spare_ports(api, 3, routeros.is_real)
    taken = next(entry["name"] for entry in rows(api, "interface") if entry.get("type") == "ether" and entry["name"] not in ports)
    # A VLAN interface named like another existing interface: RouterOS refuses the duplicate interface name.
    args = vlan_args(routeros, ports, interfaces=[*vlan_args(routeros, ports)["interfaces"], {"name": taken, "vlan_id": 3067}])
    result = run_module(VLAN, args)
    assert result.get("failed"), result
    assert result["path"] == "/interface/vlan"
    assert result["entry"] == f"interface={BRIDGE} vlan-id=3067"
    assert result["router_message"]
    assert f"add VLAN interface (interface={BRIDGE} vlan-id=3067) on /interface/vlan: the router refused: {result['router_message']}" in result["msg"]
    assert result["changed"] and result["applied"], "the commands before the failure are reported"
    assert not bridge_state(api)["bridges"][0]["vlan-filtering"], "filtering must not be enabled after a failed run"


# ---------------------------------------------------------------------------------------------
# routeros_netboot
# ---------------------------------------------------------------------------------------------


def netboot_state(api: Any) -> dict[str, Any]:
    def by(key: str, entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {str(entry[key]): {k: v for k, v in entry.items() if k != ".id"} for entry in entries}

    return {
        "servers": by("name", [entry for entry in rows(api, "ip", "dhcp-server") if entry["name"] == "dhcp-test"]),
        "pools": by("name", [entry for entry in rows(api, "ip", "pool") if entry["name"] == "pool-test"]),
        "networks": by("address", [entry for entry in rows(api, "ip", "dhcp-server", "network") if str(entry["address"]).startswith("10.199.")]),
        "leases": by("mac-address", [entry for entry in static(rows(api, "ip", "dhcp-server", "lease")) if entry.get("server") == "dhcp-test"]),
        "options": by("name", rows(api, "ip", "dhcp-server", "option")),
        "tftp": by("req-filename", [entry for entry in rows(api, "ip", "tftp") if str(entry["req-filename"]).startswith("test")]),
    }


def test_netboot_create_idempotent_modify_check_mode_and_diff(routeros: Any, api: Any, run_module: Run) -> None:
    make_pxe_vlan(api)
    args = netboot_args(routeros)

    predicted = run_module(NETBOOT, args, check=True, diff=True)
    assert predicted["changed"] and predicted["applied"] == []
    assert netboot_state(api)["servers"] == {}, "check mode created the DHCP server"
    assert predicted["diff"]["before"]["tftp"] == []

    created = run_module(NETBOOT, args, diff=True)
    assert created["changed"] and created["changes"] == predicted["changes"]
    state = netboot_state(api)
    server = state["servers"]["dhcp-test"]
    assert (server["interface"], server["address-pool"], server["disabled"]) == (PXE_INTERFACE, "pool-test", False)
    assert state["pools"]["pool-test"]["ranges"] == "10.199.65.100-10.199.65.199"
    network = state["networks"]["10.199.65.0/24"]
    assert (network["gateway"], network["next-server"], network["boot-file-name"]) == ("10.199.65.1", "10.199.65.1", "snp.efi")
    assert {mac: (lease["address"], lease.get("comment")) for mac, lease in state["leases"].items()} == {
        "00:E0:66:59:89:84": ("10.199.65.92", "test-c4140"),
        "00:E0:66:59:88:8B": ("10.199.65.82", "test-r640"),
        "00:E0:66:59:8C:50": ("10.199.65.42", "test-r740xd: storage node"),
    }
    rule = state["tftp"]["test-snp\\.efi"]
    assert (rule["real-filename"], rule["allow"], rule["read-only"]) == ("tftp/snp.efi", True, True)
    assert created["diff"]["after"]["leases"][0] == {"mac": "00:E0:66:59:88:8B", "address": "10.199.65.82", "comment": "test-r640"}

    # MAC case and separators, lease time spelling, DNS list form: the same intent.
    respelled = netboot_args(routeros, lease_time="01:00:00")
    respelled["leases"][0]["mac"] = "00-E0-66-59-89-84"
    again = run_module(NETBOOT, respelled, diff=True)
    assert not again["changed"], again["changes"]
    assert again["diff"]["before"] == again["diff"]["after"]

    moved = netboot_args(routeros)
    moved["leases"][1]["address"] = "10.199.65.83"
    moved["network"]["boot_file_name"] = "ipxe.efi"
    before_check = netboot_state(api)
    checked = run_module(NETBOOT, moved, check=True, diff=True)
    assert checked["changed"] and netboot_state(api) == before_check, "check mode changed the router"
    assert checked["diff"]["before"]["network"]["boot_file_name"] == "snp.efi"
    assert checked["diff"]["after"]["network"]["boot_file_name"] == "ipxe.efi"
    assert {"mac": "00:E0:66:59:88:8B", "address": "10.199.65.83", "comment": "test-r640"} in checked["diff"]["after"]["leases"]

    applied = run_module(NETBOOT, moved)
    assert applied["changed"]
    state = netboot_state(api)
    assert state["leases"]["00:E0:66:59:88:8B"]["address"] == "10.199.65.83"
    assert state["networks"]["10.199.65.0/24"]["boot-file-name"] == "ipxe.efi"
    assert not run_module(NETBOOT, moved)["changed"]


def test_netboot_lease_purge_is_opt_in_and_hostname_options(routeros: Any, api: Any, run_module: Run) -> None:
    make_pxe_vlan(api)
    args = netboot_args(routeros, hostname_mode="option")
    assert run_module(NETBOOT, args)["changed"]
    state = netboot_state(api)
    assert state["options"]["hostname-test-c4140"]["code"] == 12
    assert state["options"]["hostname-test-c4140"]["value"] == "'test-c4140'"
    assert state["leases"]["00:E0:66:59:89:84"]["dhcp-option"] == "hostname-test-c4140"
    assert state["leases"]["00:E0:66:59:8C:50"]["comment"] == "storage node"

    api.path("ip", "dhcp-server", "lease").add(server="dhcp-test", address="10.199.65.7", **{"mac-address": "52:54:00:12:34:56"})
    assert not run_module(NETBOOT, args)["changed"]
    assert "52:54:00:12:34:56" in netboot_state(api)["leases"]

    fewer = netboot_args(routeros, hostname_mode="option", purge_leases=True)
    fewer["leases"] = fewer["leases"][:2]
    purged = run_module(NETBOOT, fewer, diff=True)
    assert purged["changed"]
    assert sorted(purged["changes"]) == sorted(
        [
            "/ip/dhcp-server/lease/remove server=dhcp-test mac-address=52:54:00:12:34:56",
            "/ip/dhcp-server/lease/remove server=dhcp-test mac-address=00:E0:66:59:8C:50",
            "/ip/dhcp-server/option/remove name=hostname-test-r740xd",
        ]
    )
    state = netboot_state(api)
    assert sorted(state["leases"]) == ["00:E0:66:59:88:8B", "00:E0:66:59:89:84"]
    assert "hostname-test-r740xd" not in state["options"]
    assert not run_module(NETBOOT, fewer)["changed"]


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"leases": [{"mac": "00:e0:66:59:89", "address": "10.199.65.9"}]}, "leases[0].mac: '00:e0:66:59:89' is not a MAC address"),
        ({"leases": [{"mac": "00:e0:66:59:89:84", "address": "10.199.66.9"}]}, "leases[0].address: '10.199.66.9' is not inside network.address 10.199.65.0/24"),
        ({"network": {"address": "10.199.65.1"}}, "network.address: '10.199.65.1' is not in CIDR form"),
        ({"interface": "vlan-missing"}, "interface: 'vlan-missing' is not an interface of the router"),
    ],
    ids=["malformed-mac", "address-outside-network", "network-not-cidr", "unknown-interface"],
)
def test_netboot_bad_input_fails_before_any_change(routeros: Any, api: Any, run_module: Run, overrides: dict[str, Any], fragment: str) -> None:
    make_pxe_vlan(api)
    before = netboot_state(api)
    result = run_module(NETBOOT, netboot_args(routeros, **overrides))
    assert_failed_with(result, fragment)
    assert result["applied"] == [] and not result["changed"]
    assert netboot_state(api) == before


def test_netboot_check_mode_previews_a_plan_whose_interface_is_still_to_come(routeros: Any, api: Any, run_module: Run) -> None:
    make_pxe_vlan(api)
    before = netboot_state(api)
    preview = run_module(NETBOOT, netboot_args(routeros, interface="vlan-later"), check=True, diff=True)
    assert not preview.get("failed"), preview
    assert preview["changed"]
    assert any("'vlan-later' does not exist yet" in warning for warning in preview.get("warnings", []))
    assert netboot_state(api) == before


# ---------------------------------------------------------------------------------------------
# routeros_nvme_export
# ---------------------------------------------------------------------------------------------


def disks(api: Any) -> dict[str, dict[str, Any]]:
    return {str(entry["slot"]): entry for entry in rows(api, "disk") if str(entry.get("slot", "")).startswith("test-")}


def files(api: Any) -> set[str]:
    return {str(entry["name"]) for entry in rows(api, "file")}


def test_nvme_export_lifecycle(routeros: Any, api: Any, run_module: Run) -> None:
    args = nvme_args(routeros)
    predicted = run_module(NVME, args, check=True, diff=True)
    assert predicted["changed"] and disks(api) == {}, "check mode created the disk"

    created = run_module(NVME, args, diff=True)
    assert created["changed"], created
    disk = disks(api)["test-pvc-1"]
    assert (disk["type"], disk["nvme-tcp-export"], disk["nvme-tcp-server-port"]) == ("file", True, 4420)
    assert disk["nvme-tcp-server-nqn"] == "nqn.2000-02.com.mikrotik:test-pvc-1"
    assert created["diff"] == {"before": {}, "after": created["state"]}
    assert created["state"]["file_size"] == 1024**3

    same = run_module(NVME, nvme_args(routeros, file_size=str(1024**3), file_path=f"/{VOLUME_FILE}"))
    assert not same["changed"], "the same size in bytes and the path with a leading slash are no change"

    grown_check = run_module(NVME, nvme_args(routeros, file_size="2G", allowed_hosts=["nqn.2014-08.org.nvmexpress:uuid:c4140"]), check=True, diff=True)
    assert grown_check["changed"] and grown_check["diff"]["after"]["file_size"] == 2 * 1024**3
    assert disks(api)["test-pvc-1"] == disk, "check mode changed the disk"

    grown = run_module(NVME, nvme_args(routeros, file_size="2G", allowed_hosts=["nqn.2014-08.org.nvmexpress:uuid:c4140"]))
    assert grown["changes"] == ["/disk/set slot=test-pvc-1: file-size=2G nvme-tcp-server-allow-host-name=nqn.2014-08.org.nvmexpress:uuid:c4140"]
    assert disks(api)["test-pvc-1"]["nvme-tcp-server-allow-host-name"] == "nqn.2014-08.org.nvmexpress:uuid:c4140"

    absent = {**routeros.connection_args(), "slot": "test-pvc-1", "state": "absent"}
    removed = run_module(NVME, absent, diff=True)
    assert removed["changes"] == ["/disk/remove slot=test-pvc-1"] and removed["diff"]["after"] == {}
    assert disks(api) == {}
    assert VOLUME_FILE in files(api), "the backing file must stay without remove_file"
    assert not run_module(NVME, absent)["changed"]


def test_nvme_export_refuses_shrinking_and_moving_before_any_change(routeros: Any, api: Any, run_module: Run) -> None:
    assert run_module(NVME, nvme_args(routeros))["changed"]
    disk = disks(api)["test-pvc-1"]
    shrink = run_module(NVME, nvme_args(routeros, file_size="512M", nvme_port=4421))
    assert_failed_with(shrink, "file_size: 536870912 is smaller than the current size of slot test-pvc-1 (1073741824 bytes)")
    moved = run_module(NVME, nvme_args(routeros, file_path=f"{DISK_DIR}/test-other.img", nvme_port=4421))
    assert_failed_with(moved, f"file_path: '{DISK_DIR}/test-other.img' differs from the file of slot test-pvc-1")
    assert shrink["applied"] == moved["applied"] == []
    assert disks(api)["test-pvc-1"] == disk, "a refused run changed the disk (the port change came with it)"


def test_nvme_export_absent_removes_the_file_only_when_asked(routeros: Any, api: Any, run_module: Run) -> None:
    assert run_module(NVME, nvme_args(routeros))["changed"]
    assert VOLUME_FILE in files(api)
    removed = run_module(NVME, {**routeros.connection_args(), "slot": "test-pvc-1", "state": "absent", "remove_file": True})
    assert removed["changes"] == ["/disk/remove slot=test-pvc-1", f"/file/remove name={VOLUME_FILE}"]
    assert VOLUME_FILE not in files(api)


def test_nvme_export_refuses_a_hardware_slot(routeros: Any, api: Any, run_module: Run) -> None:
    hardware = [entry for entry in rows(api, "disk") if entry.get("type") not in (None, "file")]
    if not hardware:
        pytest.skip("the router reports no non-file disk")
    slot = str(hardware[0]["slot"])
    result = run_module(NVME, nvme_args(routeros, slot=slot))
    assert_failed_with(result, f"slot: '{slot}' is a {hardware[0]['type']} disk on the router, not a file-backed volume")


# ---------------------------------------------------------------------------------------------
# routeros_info, connection options, faults
# ---------------------------------------------------------------------------------------------


def test_info_reports_state_the_modules_take_back_unchanged(routeros: Any, api: Any, run_module: Run) -> None:
    ports = spare_ports(api, 3, routeros.is_real)
    assert run_module(VLAN, vlan_args(routeros, ports))["changed"]
    assert run_module(NETBOOT, netboot_args(routeros, hostname_mode="option"))["changed"]

    info = run_module(INFO, routeros.connection_args())
    assert not info.get("failed") and not info["changed"], info
    assert info["version"] and info["board"]
    assert isinstance(info["rose_storage"], bool)
    assert info["rose_storage"] == any(package["name"] == "rose-storage" and not package["disabled"] for package in info["packages"])
    bridge = next(item for item in info["bridges"] if item["bridge"]["name"] == BRIDGE)
    server = next(item for item in info["netboot"] if item["server_name"] == "dhcp-test")
    assert server["hostname_mode"] == "option"

    vlan_again = run_module(VLAN, {**routeros.connection_args(), **bridge, "purge": True})
    assert not vlan_again.get("failed") and not vlan_again["changed"], vlan_again
    netboot_again = run_module(NETBOOT, {**routeros.connection_args(), **server, "purge_leases": True})
    assert not netboot_again.get("failed") and not netboot_again["changed"], netboot_again


def test_wrong_password_is_a_clear_failure(routeros: Any, run_module: Run) -> None:
    result = run_module(INFO, {**routeros.connection_args(), "password": "definitely-wrong"})
    assert_failed_with(result, f"connecting to {routeros.username}@{routeros.hostname}:{routeros.port}", "the router refused")
    assert "definitely-wrong" not in result["msg"]


def test_tls_validates_certificates_by_default(routeros_simulator: Callable[..., Any], run_module: Run) -> None:
    target = routeros_simulator(tls=True)
    trusted = run_module(INFO, {**target.connection_args(), "gather_subset": ["system"]})
    assert not trusted.get("failed"), trusted
    assert trusted["version"] and "bridges" not in trusted, "gather_subset=system reads only the system"
    untrusted_args = {**target.connection_args(), "gather_subset": ["system"]}
    del untrusted_args["ca_path"]
    untrusted = run_module(INFO, {**untrusted_args, "validate_certs": True})
    assert_failed_with(untrusted, "TLS failed", "CERTIFICATE_VERIFY_FAILED")
    unvalidated = run_module(INFO, {**untrusted_args, "validate_certs": False})
    assert not unvalidated.get("failed"), unvalidated


def test_connection_drop_mid_converge_then_next_run_converges(routeros_simulator: Callable[..., Any], run_module: Run, tmp_path: Path) -> None:
    """The connection drops in the middle of the writes; a run over a healthy connection finishes the job."""
    state_file = tmp_path / "router-state.json"
    ports = ["ether1", "ether2", "ether3"]
    flaky = routeros_simulator("--ports", ",".join(ports), "--state", str(state_file), drop_after=12)
    broken = run_module(VLAN, vlan_args(flaky, ports))
    assert broken.get("failed"), broken
    assert "the connection to the router was lost" in broken["msg"]
    assert broken["changed"] and broken["applied"], "some changes were made before the drop"
    assert broken["path"] and broken["entry"]

    healthy = routeros_simulator("--ports", ",".join(ports), "--state", str(state_file))
    converged = run_module(VLAN, vlan_args(healthy, ports))
    assert not converged.get("failed"), converged
    assert converged["changed"]
    assert set(broken["applied"]).isdisjoint(converged["changes"]), "the second run redid work the first had done"
    assert not run_module(VLAN, vlan_args(healthy, ports))["changed"]
