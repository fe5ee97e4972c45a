"""A private Open vSwitch for the functional tests: its own ovsdb-server, and ovs-vswitchd in a network namespace.

`start_open_vswitch` starts both with their own database, socket and OVS_RUNDIR/OVS_LOGDIR/OVS_DBDIR in a work
directory, registering their stop (by the pid in their pidfiles) and the namespace's removal on an ExitStack.
Verification helpers call ovs-vsctl directly, never the collection's code. The fixtures are in
tests/functional/ovs/conftest.py.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OVS_SCHEMA = Path("/usr/share/openvswitch/vswitch.ovsschema")
OVS_PROGRAMS = ("ovsdb-tool", "ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-appctl", "ip")
VSCTL_TIMEOUT = 20
STOP_WAIT_SECONDS = 5.0


def run(cmd: list[str], *, env: dict[str, str] | None = None, timeout: float = 30) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed (rc={proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout


def process_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting for a parent that is not us."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def stop_daemon(pidfile: Path, unixctl: Path) -> None:
    """Ask the daemon to exit through its own control socket; SIGTERM, then SIGKILL, by its pid if it lingers."""
    if not pidfile.exists():
        return
    pid = int(pidfile.read_text().strip())
    with contextlib.suppress(subprocess.TimeoutExpired):
        subprocess.run(["ovs-appctl", "-t", str(unixctl), "--timeout=5", "exit"], capture_output=True, timeout=10, check=False)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        deadline = time.monotonic() + STOP_WAIT_SECONDS
        while process_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not process_alive(pid):
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


@dataclass(frozen=True)
class OvsInstance:
    """A running private Open vSwitch: database socket, work directory, and the netns of ovs-vswitchd."""

    workdir: Path
    socket: Path
    netns: str

    @property
    def db(self) -> str:
        return f"unix:{self.socket}"

    def vsctl(self, *args: str) -> str:
        return run(["ovs-vsctl", f"--db={self.db}", f"--timeout={VSCTL_TIMEOUT}", *args])

    def get(self, table: str, record: str, column: str) -> str:
        """A column in ovs-vsctl's own syntax, e.g. `[65, 67, 68]`, `65`, `[]`, `native-untagged`."""
        return self.vsctl("get", table, record, column).strip()

    def bridge_exists(self, name: str) -> bool:
        proc = subprocess.run(["ovs-vsctl", f"--db={self.db}", "br-exists", name], capture_output=True, text=True, check=False)
        if proc.returncode not in (0, 2):
            raise RuntimeError(f"ovs-vsctl br-exists {name}: {proc.stderr}")
        return proc.returncode == 0

    def ports(self, bridge: str) -> list[str]:
        return sorted(self.vsctl("list-ports", bridge).split())

    def module_args(self) -> dict[str, Any]:
        """Connection arguments of the collection's OVS modules for this instance."""
        return {"db": self.db, "ovs_vsctl": shutil.which("ovs-vsctl"), "timeout": VSCTL_TIMEOUT}


def start_daemon(stack: contextlib.ExitStack, workdir: Path, env: dict[str, str], program: str, args: list[str], *, netns: str | None = None) -> None:
    pidfile = workdir / f"{program}.pid"
    unixctl = workdir / f"{program}.ctl"
    cmd = [program, *args, f"--pidfile={pidfile}", f"--unixctl={unixctl}", f"--log-file={workdir / f'{program}.log'}", "--detach", "--no-chdir"]
    if netns:
        cmd = ["ip", "netns", "exec", netns, *cmd]
    # Registered first: a daemon that wrote its pidfile but failed later is still stopped.
    stack.callback(stop_daemon, pidfile, unixctl)
    run(cmd, env=env)


def start_open_vswitch(stack: contextlib.ExitStack, workdir: Path) -> OvsInstance:
    env = dict(os.environ, OVS_RUNDIR=str(workdir), OVS_LOGDIR=str(workdir), OVS_DBDIR=str(workdir))
    netns = f"dcovs-{os.getpid()}-{secrets.token_hex(2)}"
    run(["ip", "netns", "add", netns])
    stack.callback(run, ["ip", "netns", "delete", netns])
    run(["ip", "netns", "exec", netns, "ip", "link", "set", "lo", "up"])
    run(["ip", "netns", "exec", netns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"])

    database = workdir / "conf.db"
    socket = workdir / "db.sock"
    run(["ovsdb-tool", "create", str(database), str(OVS_SCHEMA)])
    start_daemon(stack, workdir, env, "ovsdb-server", [str(database), f"--remote=punix:{socket}"])
    instance = OvsInstance(workdir=workdir, socket=socket, netns=netns)
    run(["ovs-vsctl", f"--db={instance.db}", "--no-wait", "init"])
    # --disable-system: no kernel datapath here, so do not probe for it.
    start_daemon(stack, workdir, env, "ovs-vswitchd", [instance.db, "--disable-system"], netns=netns)
    return instance


@dataclass(frozen=True)
class UniqueNames:
    """Names unique to one test (short: interface names are limited to 15 characters)."""

    bridge: str
    uplink: str
    host: str
    extra: str
