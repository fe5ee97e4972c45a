"""Frames through a real Open vSwitch bridge configured by ovs_bridge prove the DPU's reference VLAN layout.

Reference layout: the uplink p0 brings VLANs 65, 67 and 68 to the DPU; the host behind the representor pf0hpf
must see VLAN 65 untagged (its plain interface) and VLANs 67 and 68 tagged (its VLAN interfaces).

Modelled in OVS as
- p0: ``vlan_mode: trunk`` without trunks - an ordinary trunk, every VLAN tagged on the wire, as the upstream
  switch sends them; other DPU ports (pf0sf0) may need other VLANs, so p0 is not restricted;
- pf0hpf: ``vlan_mode: native-untagged``, ``tag: 65``, ``trunks: [65, 67, 68]`` - tag is the native VLAN: untagged
  frames from the host enter VLAN 65, and VLAN 65 leaves towards the host without a tag, while 67 and 68 pass
  tagged. ``access`` would drop 67/68; ``native-tagged`` would hand VLAN 65 to the host tagged; plain ``trunk``
  would drop the host's untagged frames (they are in VLAN 0, which is not trunked). VLANs not in trunks (99) are
  dropped in both directions.

The two opposite layouts are checked too, so the test shows the configuration decides the outcome.

Topology (all namespaces made here; ovs-vswitchd runs in the session's OVS namespace):
  [uplink ns] switch0 <-veth-> p0 [OVS ns, bridge] pf0hpf <-veth-> hostpf0 [host ns]
Frames are crafted and captured with scapy (the kernel here cannot make 802.1Q sub-interfaces).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import selectors
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.ovs import OvsInstance, run

pytest.importorskip("scapy")

MODULE = "diskless.datacenter.ovs_bridge"
AGENT = Path(__file__).with_name("frame_agent.py")
RunModule = Callable[..., dict[str, Any]]
AGENT_READY_SECONDS = 15.0
AGENT_DEADLINE_SECONDS = 10.0
SENTINEL_GRACE_SECONDS = 0.3

# What each side sends; the last frame of each side is its sentinel (VLAN 68 passes in every layout).
HOST_SENDS = [("h-untagged", None), ("h-67", 67), ("h-99", 99), ("h-end", 68)]
UPLINK_SENDS = [("u-65", 65), ("u-67", 67), ("u-99", 99), ("u-untagged", None), ("u-end", 68)]


@dataclass(frozen=True)
class Layout:
    """How pf0hpf is configured, and which frames (marker -> VLAN IDs seen) must come out on each side."""

    name: str
    host_port: dict[str, Any]
    at_uplink: dict[str, list[list[int]]]
    at_host: dict[str, list[list[int]]]


LAYOUTS = [
    Layout(
        name="reference-65-untagged",
        host_port={"tag": 65, "trunks": [65, 67, 68], "vlan_mode": "native-untagged"},
        at_uplink={"h-untagged": [[65]], "h-67": [[67]], "h-end": [[68]]},
        at_host={"u-65": [[]], "u-67": [[67]], "u-end": [[68]]},
    ),
    Layout(
        name="opposite-no-native-vlan",
        host_port={"trunks": [65, 67, 68], "vlan_mode": "trunk"},
        at_uplink={"h-67": [[67]], "h-end": [[68]]},
        at_host={"u-65": [[65]], "u-67": [[67]], "u-end": [[68]]},
    ),
    Layout(
        name="opposite-65-tagged",
        host_port={"tag": 65, "trunks": [65, 67, 68], "vlan_mode": "native-tagged"},
        at_uplink={"h-untagged": [[65]], "h-67": [[67]], "h-end": [[68]]},
        at_host={"u-65": [[65]], "u-67": [[67]], "u-end": [[68]]},
    ),
]


@dataclass(frozen=True)
class VlanLab:
    bridge: str
    uplink_ns: str
    host_ns: str
    uplink_iface: str = "switch0"
    host_iface: str = "hostpf0"


def make_namespace(stack: contextlib.ExitStack, name: str) -> None:
    run(["ip", "netns", "add", name])
    stack.callback(run, ["ip", "netns", "delete", name])
    run(["ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"])
    run(["ip", "-n", name, "link", "set", "lo", "up"])


def make_veth(ovs: OvsInstance, ovs_end: str, namespace: str, other_end: str) -> None:
    run(["ip", "link", "add", ovs_end, "netns", ovs.netns, "type", "veth", "peer", "name", other_end, "netns", namespace])
    run(["ip", "-n", ovs.netns, "link", "set", ovs_end, "up"])
    run(["ip", "-n", namespace, "link", "set", other_end, "up"])


@pytest.fixture(scope="module")
def lab(ovs: OvsInstance) -> Iterator[VlanLab]:
    suffix = secrets.token_hex(3)
    vlan_lab = VlanLab(bridge=f"tv{suffix}", uplink_ns=f"dcu-{suffix}", host_ns=f"dch-{suffix}")
    with contextlib.ExitStack() as stack:
        make_namespace(stack, vlan_lab.uplink_ns)
        make_namespace(stack, vlan_lab.host_ns)
        # Deleting the namespaces deletes the veth pairs; the bridge goes first (LIFO).
        stack.callback(ovs.vsctl, "--if-exists", "del-br", vlan_lab.bridge)
        make_veth(ovs, "p0", vlan_lab.uplink_ns, vlan_lab.uplink_iface)
        make_veth(ovs, "pf0hpf", vlan_lab.host_ns, vlan_lab.host_iface)
        yield vlan_lab


def start_agent(namespace: str, config: dict[str, Any]) -> subprocess.Popen[str]:
    cmd = ["ip", "netns", "exec", namespace, sys.executable, str(AGENT), json.dumps(config)]
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_ready(agents: list[subprocess.Popen[str]]) -> None:
    with selectors.DefaultSelector() as selector:
        for agent in agents:
            assert agent.stdout is not None
            selector.register(agent.stdout, selectors.EVENT_READ, agent)
        waiting = set(agents)
        while waiting:
            events = selector.select(timeout=AGENT_READY_SECONDS)
            if not events:
                raise AssertionError("frame agents did not open their capture sockets in time")
            for key, _mask in events:
                line = key.fileobj.readline()  # type: ignore[union-attr]
                if line.strip() != "ready":
                    stderr = key.data.communicate(timeout=5)[1]
                    raise AssertionError(f"frame agent failed to start: {line!r} {stderr}")
                selector.unregister(key.fileobj)
                waiting.discard(key.data)


def exchange_frames(lab: VlanLab, round_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Both sides send at once and capture what the other side sent; returns (at uplink, at host)."""

    def config(iface: str, src: str, sends: list[tuple[str, int | None]], expect_prefix: str) -> dict[str, Any]:
        return {
            "iface": iface,
            # A fresh source MAC per round: no datapath flow cached for an earlier layout can match.
            "src": src,
            "send": [{"marker": marker, "vlan": vlan} for marker, vlan in sends],
            "expect_prefix": expect_prefix,
            "sentinel": f"{expect_prefix}end",
            "deadline": AGENT_DEADLINE_SECONDS,
            "grace": SENTINEL_GRACE_SECONDS,
        }

    uplink = start_agent(lab.uplink_ns, config(lab.uplink_iface, f"02:00:00:00:{round_id:02x}:01", UPLINK_SENDS, "h-"))
    host = start_agent(lab.host_ns, config(lab.host_iface, f"02:00:00:00:{round_id:02x}:02", HOST_SENDS, "u-"))
    try:
        wait_ready([uplink, host])
        for agent in (uplink, host):
            assert agent.stdin is not None
            agent.stdin.write("go\n")
            agent.stdin.flush()
        outputs = [agent.communicate(timeout=AGENT_DEADLINE_SECONDS + 10) for agent in (uplink, host)]
    finally:
        for agent in (uplink, host):
            if agent.poll() is None:
                agent.kill()
                agent.wait(timeout=5)
    reports = []
    for stdout, stderr in outputs:
        lines = stdout.strip().splitlines()
        assert lines, f"frame agent printed nothing: {stderr}"
        reports.append(json.loads(lines[-1]))
    return reports[0], reports[1]


@pytest.mark.parametrize("layout", LAYOUTS, ids=[layout.name for layout in LAYOUTS])
def test_layout_decides_which_frames_pass_and_how_they_are_tagged(run_module: RunModule, ovs: OvsInstance, lab: VlanLab, layout: Layout) -> None:
    args = {
        "name": lab.bridge,
        "datapath_type": "netdev",
        "fail_mode": "standalone",
        "ports": [{"name": "p0", "vlan_mode": "trunk"}, {"name": "pf0hpf", **layout.host_port}],
        "purge_ports": True,
        **ovs.module_args(),
    }
    result = run_module(MODULE, args)
    assert not result.get("failed"), result.get("msg")
    assert not result.get("warnings"), result.get("warnings")

    at_uplink, at_host = exchange_frames(lab, LAYOUTS.index(layout) + 1)

    assert at_uplink.get("sentinel_seen") and at_host.get("sentinel_seen"), (at_uplink, at_host)
    assert at_uplink["frames"] == layout.at_uplink, f"host -> uplink through pf0hpf {layout.host_port}"
    assert at_host["frames"] == layout.at_host, f"uplink -> host through pf0hpf {layout.host_port}"
