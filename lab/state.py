"""What the lab has created under one state directory, saved before each resource is created, and its removal.

Because every resource is recorded *before* it is created, `down` (also run at exit and by the test fixtures in
`finally`) removes exactly that, even after a crash: the podman network, the boot-server container, the guests'
tap devices and their QEMU processes.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from lab.host import podman
from lab.network import remove_link


@dataclass
class State:
    """Resources created under one state directory; saved before each is created."""

    directory: Path
    network: str | None = None
    container: str | None = None
    taps: list[str] = field(default_factory=list)
    guests: dict[str, int] = field(default_factory=dict)  # name -> QEMU pid

    @property
    def path(self) -> Path:
        return self.directory / "resources.json"

    @classmethod
    def load(cls, directory: Path) -> State:
        path = directory / "resources.json"
        data = json.loads(path.read_text()) if path.exists() else {}
        return cls(directory=directory, **data)

    def save(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        data = {"network": self.network, "container": self.container, "taps": self.taps, "guests": self.guests}
        self.path.write_text(json.dumps(data, indent=2) + "\n")


def is_our_qemu(pid: int, marker: str) -> bool:
    """Whether PID is a QEMU started by the lab (its command line names MARKER, the guest's directory)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return bool(cmdline) and b"qemu-system" in cmdline[0] and any(marker.encode() in part for part in cmdline)


def stop_process(pid: int, marker: str) -> None:
    """Stop a QEMU we started (checked by its command line, so a reused pid is left alone)."""
    if not is_our_qemu(pid, marker):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and is_our_qemu(pid, marker):
        time.sleep(0.2)
    if is_our_qemu(pid, marker):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def down(directory: Path) -> None:
    """Remove everything recorded in `directory`'s state file (idempotent)."""
    state = State.load(directory)
    for name, pid in list(state.guests.items()):
        stop_process(pid, str(directory / name))
        del state.guests[name]
    for tap in list(state.taps):
        remove_link(tap)
        state.taps.remove(tap)
    if state.container:
        podman("rm", "--force", "--time", "5", state.container, check=False, timeout=120)
        state.container = None
    if state.network:
        podman("network", "rm", "--force", state.network, check=False)
        state.network = None
    if directory.exists():
        state.save()
        # logs (ansible.log, */console.log, */qemu.log) stay for a post-mortem; the next `up` removes them
        for path in directory.iterdir():
            keep = path.name in ("resources.json", "ansible.log") or (path.is_dir() and any(path.glob("*.log")))
            if keep:
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        for socket_path in directory.glob("*/console.sock"):
            socket_path.unlink(missing_ok=True)
        for key in directory.glob("*/etc-key"):  # a guest's copy of its per-host key (lab.guests)
            key.unlink(missing_ok=True)
