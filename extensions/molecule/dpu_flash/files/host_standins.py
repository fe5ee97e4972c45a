"""Two effects of a real DPU on its host that the rshim simulator does not produce, for the dpu_flash scenario.

- The host's VLAN interfaces vanish while its DPU is flashed (the host's physical function goes down with the
  DPU's reset). Here: when the simulator records a new open of ``boot`` that reset the DPU, the host interface
  given with --interface is deleted. Only re-applying the host's network configuration brings it back.
- The DPU's SSH server answers only while Linux runs on the Arm cores. Here: a listener on --address/--port sends
  an SSH identification banner (RFC 4253, section 4.2) while the simulated DPU's phase is ``running`` or ``ready``,
  and is closed during a flash.

The simulator's DIR/sim-state.json (--state) is read every --interval seconds. Messages go to stdout (the
journal, under systemd).
"""

from __future__ import annotations

import argparse
import json
import selectors
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

LINUX_PHASES = frozenset({"running", "ready"})
BANNER = b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.10\r\n"


def say(message: str) -> None:
    print(message, flush=True)


def read_state(path: Path) -> dict[str, Any] | None:
    """The simulator's state, or None while it is missing or being replaced."""
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def resets_of(state: dict[str, Any]) -> int:
    """How many opens of ``boot`` reset the DPU since the simulator started."""
    return sum(1 for entry in state.get("boot_opens", []) if isinstance(entry, dict) and entry.get("reset"))


class SshStandIn:
    """A TCP listener that greets every client with an SSH banner, open only while the DPU runs Linux."""

    def __init__(self, address: str, port: int) -> None:
        self.address = address
        self.port = port
        self.listener: socket.socket | None = None

    def open(self) -> None:
        if self.listener is not None:
            return
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.address, self.port))
        listener.listen(8)
        self.listener = listener
        say(f"DPU runs Linux: SSH answers on {self.address}:{self.port}")

    def close(self) -> None:
        if self.listener is None:
            return
        self.listener.close()
        self.listener = None
        say(f"DPU is not running Linux: SSH on {self.address}:{self.port} closed")

    def serve(self, seconds: float) -> None:
        """Greet the clients that connect within ``seconds`` (or just wait that long when closed)."""
        if self.listener is None:
            time.sleep(seconds)
            return
        with selectors.DefaultSelector() as selector:
            selector.register(self.listener, selectors.EVENT_READ)
            if not selector.select(timeout=seconds):
                return
        client, peer = self.listener.accept()
        with client:
            client.sendall(BANNER)
        say(f"SSH banner sent to {peer[0]}:{peer[1]}")


def drop_interface(name: str) -> None:
    outcome = subprocess.run(["ip", "link", "delete", name], capture_output=True, text=True, check=False)
    if outcome.returncode == 0:
        say(f"DPU reset: host interface {name} removed, as a host's VLAN interfaces vanish while its DPU is flashed")
    else:
        say(f"DPU reset: host interface {name} was not there to remove ({outcome.stderr.strip()})")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state", required=True, type=Path, help="the simulator's sim-state.json")
    parser.add_argument("--interface", required=True, help="host interface that vanishes when the DPU resets")
    parser.add_argument("--address", default="127.0.0.1", help="address of the DPU's SSH stand-in")
    parser.add_argument("--port", type=int, default=2222, help="port of the DPU's SSH stand-in")
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between two reads of the state")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    ssh = SshStandIn(args.address, args.port)
    seen: int | None = None
    while True:
        state = read_state(args.state)
        if state is not None:
            resets = resets_of(state)
            if seen is not None and resets > seen:
                drop_interface(args.interface)
            seen = resets
            if state.get("phase") in LINUX_PHASES:
                ssh.open()
            else:
                ssh.close()
        ssh.serve(args.interval)


if __name__ == "__main__":
    raise SystemExit(main())
