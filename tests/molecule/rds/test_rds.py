"""The router after converge, read back through librouteros and compared with the reference inventory.

The expected values come from the inventory's datacenter model (the same filter playbooks/network.yml
uses), not from the role: VLANs of dc_vlans, ports of the hosts' dc_rds_port, the boot VLAN's static
leases from the hosts' MACs, the NVMe/TCP exports of dc_nvme_exports.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.playbook import REPO, VENV_BIN, ansible_env
from tests.support.routeros import RouterOSTarget, connect_api

RDS = "rds1"
BRIDGE = "bridge1"
UPLINK = "qsfp28-1-1"
EDGE_GROUPS = ("dpus", "diskless_hosts")


@pytest.fixture(scope="module")
def router() -> RouterOSTarget:
    settings = yaml.safe_load((Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "simulator.yml").read_text())
    routeros = settings["dc_routeros"]
    return RouterOSTarget(hostname=settings["ansible_host"], port=int(routeros["port"]), username=routeros["username"], password=routeros["password"])


@pytest.fixture(scope="module")
def api(router: RouterOSTarget) -> Iterator[Any]:
    connection = connect_api(router)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def model() -> dict[str, Any]:
    """The datacenter model of inventories/example, as the layer playbooks compute it."""
    result = subprocess.run(
        [str(VENV_BIN / "ansible"), "-i", "inventories/example", RDS, "-c", "local", "-m", "ansible.builtin.debug",
         "-a", "msg={{ hostvars | diskless.datacenter.datacenter_model(groups) }}"],
        capture_output=True, text=True, env=ansible_env(), cwd=REPO, timeout=120, check=True,
    )  # fmt: skip
    return json.loads(result.stdout)["plays"][0]["tasks"][0]["hosts"][RDS]["msg"]


def rows(api: Any, *path: str) -> list[dict[str, Any]]:
    return [row for row in api.path(*path) if not row.get("dynamic")]


def names(text: object) -> set[str]:
    return {name for name in str(text or "").split(",") if name}


def edge_hosts(model: dict[str, Any]) -> list[dict[str, Any]]:
    return [host for host in model["hosts"].values() if host.get("rds_port") and host["group"] in EDGE_GROUPS]


def tagged_vlans(model: dict[str, Any], host: dict[str, Any]) -> set[int]:
    """A DPU carries the control and storage VLANs tagged, every edge host the VLANs it has an address on; the boot VLAN is untagged."""
    roles = model["vlan_roles"]
    wanted = {int(vlan_id) for vlan_id in host["addresses"]}
    if host["group"] == "dpus":
        wanted |= {roles[role] for role in ("control", "storage") if roles.get(role)}
    return wanted - {roles["boot"]}


def test_bridge_filters_vlans(api: Any) -> None:
    (bridge,) = rows(api, "interface", "bridge")
    assert (bridge["name"], bridge["vlan-filtering"]) == (BRIDGE, True)


def test_bridge_vlan_table_matches_the_inventory(api: Any, model: dict[str, Any]) -> None:
    boot = model["vlan_roles"]["boot"]
    expected = {}
    for vlan in model["vlans"]:
        tagged = {BRIDGE, UPLINK} | {host["rds_port"] for host in edge_hosts(model) if vlan["id"] in tagged_vlans(model, host)}
        untagged = {host["rds_port"] for host in edge_hosts(model)} if vlan["id"] == boot else set()
        expected[str(vlan["id"])] = (tagged, untagged)
    table = {str(row["vlan-ids"]): (names(row.get("tagged")), names(row.get("untagged"))) for row in rows(api, "interface", "bridge", "vlan")}
    assert table == expected


def test_bridge_ports_carry_the_boot_vlan_untagged(api: Any, model: dict[str, Any]) -> None:
    ports = {row["interface"]: row for row in rows(api, "interface", "bridge", "port")}
    assert set(ports) == {UPLINK} | {host["rds_port"] for host in edge_hosts(model)}
    assert (ports[UPLINK]["pvid"], ports[UPLINK]["frame-types"]) == (1, "admit-only-vlan-tagged")
    for host in edge_hosts(model):
        port = ports[host["rds_port"]]
        assert (port["bridge"], port["pvid"], port["comment"]) == (BRIDGE, model["vlan_roles"]["boot"], host["name"])


def test_vlan_interfaces_carry_the_rds_addresses(api: Any, model: dict[str, Any]) -> None:
    addresses = {row["interface"]: row["address"] for row in rows(api, "ip", "address")}
    interfaces = {row["vlan-id"]: row for row in rows(api, "interface", "vlan")}
    rds = model["hosts"][RDS]
    assert set(interfaces) == {vlan["id"] for vlan in model["vlans"]}
    for vlan in model["vlans"]:
        interface = interfaces[vlan["id"]]
        assert interface["name"] == f"vlan{vlan['id']}-{vlan['name']}"
        assert addresses[interface["name"]] == f"{rds['addresses'][str(vlan['id'])]}/{vlan['prefixlen']}"
        if vlan["mtu"]:
            assert interface["mtu"] == vlan["mtu"]


def test_static_leases_keyed_by_mac_match_the_reservations(api: Any, model: dict[str, Any]) -> None:
    boot = model["boot_vlan"]
    (server,) = [row for row in rows(api, "ip", "dhcp-server") if row["interface"] == f"vlan{boot['id']}-{boot['name']}"]
    leases = {str(row["mac-address"]).lower(): row for row in rows(api, "ip", "dhcp-server", "lease") if row["server"] == server["name"]}
    assert set(leases) == {reservation["mac"].lower() for reservation in model["boot_reservations"]}
    options = {row["name"]: row["value"] for row in rows(api, "ip", "dhcp-server", "option")}
    for reservation in model["boot_reservations"]:
        lease = leases[reservation["mac"].lower()]
        assert lease["address"] == reservation["ip"]
        assert lease["dhcp-option"] == f"hostname-{reservation['hostname']}"
        assert options[lease["dhcp-option"]] == f"'{reservation['hostname']}'"


def test_dhcp_network_and_pool_of_the_boot_vlan(api: Any, model: dict[str, Any]) -> None:
    boot = model["boot_vlan"]
    (network,) = [row for row in rows(api, "ip", "dhcp-server", "network") if row["address"] == boot["subnet"]]
    assert network["gateway"] == boot["gateway"]
    assert network["dns-server"] == ",".join(model["dns_servers"])
    assert network["domain"] == model["domain"]
    pools = {row["name"]: row["ranges"] for row in rows(api, "ip", "pool")}
    assert list(pools.values()) == ["-".join(boot["dhcp_range"])]


def test_nvme_exports_match_the_inventory(api: Any, model: dict[str, Any]) -> None:
    disks = {row["slot"]: row for row in rows(api, "disk") if row.get("type") == "file"}
    assert set(disks) == {export["slot"] for export in model["nvme_exports"]}
    for export in model["nvme_exports"]:
        disk = disks[export["slot"]]
        assert disk["file-path"].lstrip("/") == export["file_path"]
        assert (disk["nvme-tcp-export"], disk["nvme-tcp-server-port"]) == (True, export["port"])
        assert disk["nvme-tcp-server-nqn"] == export["nqn"]
        assert names(disk.get("nvme-tcp-server-allow-host-name")) == set(export["allowed_hosts"])


def test_the_idempotence_run_only_read_the_router() -> None:
    """The simulator's command log (one connection per module run): after the first converge's last write come the
    idempotence converge's three module runs (bridge VLANs, netboot, the export), each a login and one print per menu."""
    log = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "router-commands.log"
    connections: dict[str, list[str]] = {}
    for line in log.read_text(encoding="utf-8").splitlines():
        number, command = line.split("\t", 1)
        connections.setdefault(number, []).append(command)
    runs = list(connections.values())
    writers = [index for index, commands in enumerate(runs) if any(command != "/login" and not command.endswith("/print") for command in commands)]
    assert writers, "the first converge must have written"
    idempotence = runs[writers[-1] + 1 : writers[-1] + 4]
    assert len(idempotence) == 3, runs
    for commands in idempotence:
        assert commands[0] == "/login" and all(command.endswith("/print") for command in commands[1:]), commands
        assert len(commands[1:]) == len(set(commands[1:])), f"a menu was read twice: {commands}"
