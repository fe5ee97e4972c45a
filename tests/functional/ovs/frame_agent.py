"""Send and capture Ethernet frames on one interface, run inside a network namespace by the VLAN packet test.

Usage: python frame_agent.py '<json config>'
  {"iface": "up0", "src": "02:..", "send": [{"marker": "u-65", "vlan": 65}, {"marker": "u-untag", "vlan": null}],
   "expect_prefix": "h-", "sentinel": "h-end", "deadline": 10.0, "grace": 0.3}

1. opens a capture socket on the interface, prints "ready";
2. waits for "go" on stdin, then sends its frames (broadcast, EtherType 0x88b5, payload MAGIC + marker);
3. records frames whose marker starts with expect_prefix, with their 802.1Q VLAN IDs outermost first, until the
   sentinel has been seen plus `grace` seconds (frames of one datapath batch can be reordered) or the deadline;
4. prints {"frames": {marker: [[vlans], ...]}, "sentinel_seen": bool} as JSON.
"""

from __future__ import annotations

import json
import select
import sys
import time
from typing import Any

from scapy.config import conf
from scapy.layers.l2 import Dot1Q, Ether
from scapy.packet import Packet, Raw

MAGIC = b"DLTEST:"
ETHERTYPE = 0x88B5  # IEEE local experimental


def build_frame(src: str, marker: str, vlan: int | None) -> Packet:
    ether = Ether(dst="ff:ff:ff:ff:ff:ff", src=src)
    payload = Raw(MAGIC + marker.encode())
    if vlan is None:
        ether.type = ETHERTYPE
        return ether / payload
    return ether / Dot1Q(vlan=vlan, type=ETHERTYPE) / payload


def decode_frame(frame: Packet) -> tuple[str, list[int]] | None:
    """(marker, VLAN IDs outermost first) of a test frame, None for any other traffic."""
    vlans: list[int] = []
    layer = frame.payload
    while isinstance(layer, Dot1Q):
        vlans.append(int(layer.vlan))
        layer = layer.payload
    data = bytes(layer)
    if not data.startswith(MAGIC):
        return None
    return data[len(MAGIC) :].split(b"\0", 1)[0].decode(), vlans


def wait_for_go(deadline: float) -> bool:
    readable = select.select([sys.stdin], [], [], max(0.0, deadline - time.monotonic()))[0]
    return bool(readable) and sys.stdin.readline().strip() == "go"


def capture(listener: Any, config: dict[str, Any], deadline: float) -> dict[str, Any]:
    frames: dict[str, list[list[int]]] = {}
    sentinel_seen = False
    while (remaining := deadline - time.monotonic()) > 0:
        readable = select.select([listener], [], [], remaining)[0]
        if not readable:
            break
        frame = listener.recv()
        decoded = decode_frame(frame) if frame is not None else None
        if decoded is None or not decoded[0].startswith(config["expect_prefix"]):
            continue
        marker, vlans = decoded
        frames.setdefault(marker, []).append(vlans)
        if marker == config["sentinel"] and not sentinel_seen:
            sentinel_seen = True
            deadline = min(deadline, time.monotonic() + config["grace"])
    return {"frames": frames, "sentinel_seen": sentinel_seen}


def main() -> None:
    config = json.loads(sys.argv[1])
    deadline = time.monotonic() + config["deadline"]
    listener = conf.L2listen(iface=config["iface"])
    sender = conf.L2socket(iface=config["iface"])
    try:
        print("ready", flush=True)
        if not wait_for_go(deadline):
            print(json.dumps({"error": "no go"}), flush=True)
            return
        for frame in config["send"]:
            sender.send(build_frame(config["src"], frame["marker"], frame["vlan"]))
        print(json.dumps(capture(listener, config, deadline)), flush=True)
    finally:
        sender.close()
        listener.close()


if __name__ == "__main__":
    main()
