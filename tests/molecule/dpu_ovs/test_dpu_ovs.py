"""Verify the dpu_ovs role by reading Open vSwitch back inside the container.

The database is read with `ovs-vsctl --format=json --data=json` and decoded here (RFC 7047 values), not
with the collection's code. How frames are forwarded is asked from the running ovs-vswitchd with
`ofproto/trace`, so the checks cover what the switch does with the configuration, not only what is stored.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

BRIDGE = "ovsbr1"
UPLINK = "p0"
HOST = "pf0hpf"
EXTRA = "pf0sf0"
DROPIN = "/etc/systemd/system/ovs-vswitchd.service.d/diskless-userspace-datapath.conf"


def decode(value: Any) -> Any:
    """An OVSDB JSON value: ["set", [..]] -> list, ["map", [[k, v]..]] -> dict, ["uuid", u] -> u."""
    if isinstance(value, list) and len(value) == 2 and value[0] == "set":
        return [decode(item) for item in value[1]]
    if isinstance(value, list) and len(value) == 2 and value[0] == "map":
        return {decode(key): decode(item) for key, item in value[1]}
    if isinstance(value, list) and len(value) == 2 and value[0] == "uuid":
        return value[1]
    return value


def as_set(value: Any) -> list[Any]:
    """A set column: a one-element set is printed as the bare element."""
    return value if isinstance(value, list) else [value]


def table(dpu: Any, name: str) -> dict[str, dict[str, Any]]:
    """Rows of one table keyed by their name (or "." for the single Open_vSwitch row)."""
    document = json.loads(dpu.check_output(f"ovs-vsctl --timeout=10 --format=json --data=json list {name}"))
    rows = [{column: decode(cell) for column, cell in zip(document["headings"], row, strict=True)} for row in document["data"]]
    return {str(row.get("name", ".")): row for row in rows}


@pytest.fixture(scope="module")
def bridges(dpu: Any) -> dict[str, dict[str, Any]]:
    return table(dpu, "Bridge")


@pytest.fixture(scope="module")
def ports(dpu: Any) -> dict[str, dict[str, Any]]:
    return table(dpu, "Port")


def test_services_enabled_and_running(dpu: Any) -> None:
    assert dpu.service("openvswitch-switch").is_enabled
    for unit in ("ovsdb-server", "ovs-vswitchd"):
        assert dpu.service(unit).is_running, unit


def test_vswitchd_runs_userspace_only_through_the_drop_in(dpu: Any) -> None:
    assert dpu.file(DROPIN).contains("--disable-system")
    assert "--disable-system" in dpu.process.get(comm="ovs-vswitchd").args


def test_bridge_has_the_listed_ports(bridges: dict[str, dict[str, Any]], ports: dict[str, dict[str, Any]]) -> None:
    bridge = bridges[BRIDGE]
    assert bridge["datapath_type"] == "netdev"
    assert bridge["fail_mode"] == "standalone"
    names = sorted(name for name, port in ports.items() if port["_uuid"] in as_set(bridge["ports"]))
    assert names == sorted([BRIDGE, UPLINK, HOST, EXTRA])


def test_uplink_is_a_trunk_of_every_vlan(ports: dict[str, dict[str, Any]]) -> None:
    uplink = ports[UPLINK]
    assert uplink["vlan_mode"] == "trunk"
    assert uplink["tag"] == []
    assert uplink["trunks"] == []


def test_host_port_has_vlan_65_untagged_and_67_68_tagged(ports: dict[str, dict[str, Any]]) -> None:
    host_port = ports[HOST]
    assert host_port["vlan_mode"] == "native-untagged"
    assert host_port["tag"] == 65
    assert sorted(as_set(host_port["trunks"])) == [65, 67, 68]


def test_extra_port_keeps_its_default_vlan_setup(ports: dict[str, dict[str, Any]]) -> None:
    extra = ports[EXTRA]
    assert (extra["vlan_mode"], extra["tag"], extra["trunks"]) == ([], [], [])


def test_hardware_offload_is_on(dpu: Any) -> None:
    assert table(dpu, "Open_vSwitch")["."]["other_config"].get("hw-offload") == "true"


@pytest.mark.parametrize("interface", [UPLINK, HOST, EXTRA])
def test_interface_has_no_error(dpu: Any, interface: str) -> None:
    assert dpu.check_output(f"ovs-vsctl --timeout=10 get Interface {interface} error") == "[]"


def test_vswitchd_was_restarted_after_hw_offload_was_written(dpu: Any) -> None:
    """ovs-vswitchd reads hw-offload when it starts: the handler must have restarted it after the write."""
    lines = dpu.check_output("journalctl --no-pager -o json SYSLOG_IDENTIFIER=ovs-vsctl + UNIT=ovs-vswitchd.service").splitlines()
    messages = [str(json.loads(line).get("MESSAGE", "")) for line in lines if line.strip()]
    writes = [index for index, message in enumerate(messages) if "Called as" in message and "hw-offload" in message]
    starts = [index for index, message in enumerate(messages) if message.startswith("Started ovs-vswitchd")]
    assert writes, "no ovs-vsctl call wrote hw-offload"
    assert starts, "ovs-vswitchd never started"
    assert starts[-1] > writes[-1], messages


# --------------------------------------------------------------------------- forwarding, asked from ovs-vswitchd


@pytest.fixture(scope="module")
def datapath_ports(dpu: Any) -> dict[str, str]:
    """`ovs-appctl dpctl/show`: datapath port number -> port name (traces print datapath port numbers)."""
    found = re.findall(r"^\s*port (\d+): (\S+)", dpu.check_output("ovs-appctl dpctl/show"), flags=re.MULTILINE)
    return dict(found)


def forwarding(dpu: Any, datapath_ports: dict[str, str], in_port: str, vlan: int | None) -> dict[str, int | None]:
    """Where a broadcast frame entering `in_port` leaves, and with which VLAN tag (None: untagged)."""
    flow = f"in_port={in_port},dl_src=02:00:00:00:a0:01,dl_dst=ff:ff:ff:ff:ff:ff"
    if vlan is not None:
        flow += f",dl_vlan={vlan}"
    trace = dpu.check_output(f"ovs-appctl ofproto/trace {BRIDGE} {flow}")
    match = re.search(r"^Datapath actions: (.*)$", trace, flags=re.MULTILINE)
    assert match, trace
    outputs: dict[str, int | None] = {}
    current = vlan
    for action in re.findall(r"push_vlan\([^)]*\)|pop_vlan|\d+", match.group(1)):
        if action.startswith("push_vlan"):
            vid = re.search(r"vid=(\d+)", action)
            assert vid, action
            current = int(vid.group(1))
        elif action == "pop_vlan":
            current = None
        else:
            outputs[datapath_ports[action]] = current
    return outputs


# (frame enters at, with VLAN tag, leaves at, with VLAN tag); None: untagged
FORWARDED: list[tuple[str, int | None, str, int | None]] = [
    (HOST, None, UPLINK, 65),  # the host's untagged frames go up in VLAN 65
    (HOST, 67, UPLINK, 67),
    (HOST, 68, UPLINK, 68),
    (UPLINK, 65, HOST, None),  # VLAN 65 reaches the host untagged
    (UPLINK, 67, HOST, 67),
    (UPLINK, 68, HOST, 68),
    (UPLINK, 99, EXTRA, 99),  # pf0sf0 carries every VLAN
]


@pytest.mark.parametrize("case", FORWARDED, ids=[f"{a}-{v}-to-{b}-{w}" for a, v, b, w in FORWARDED])
def test_vlan_reaches_the_other_side(dpu: Any, datapath_ports: dict[str, str], case: tuple[str, int | None, str, int | None]) -> None:
    in_port, vlan, out_port, expected = case
    outputs = forwarding(dpu, datapath_ports, in_port, vlan)
    assert out_port in outputs, outputs
    assert outputs[out_port] == expected, outputs


@pytest.mark.parametrize(("in_port", "vlan", "out_port"), [(UPLINK, 99, HOST), (UPLINK, None, HOST), (HOST, 99, UPLINK)])
def test_vlan_outside_the_host_trunks_is_dropped(dpu: Any, datapath_ports: dict[str, str], in_port: str, vlan: int | None, out_port: str) -> None:
    assert out_port not in forwarding(dpu, datapath_ports, in_port, vlan)
