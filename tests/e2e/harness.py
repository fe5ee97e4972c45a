"""QEMU diskless-boot harness: a boot server in a podman container, diskless QEMU guests on its bridge.

Everything this module creates is written to a state file *before* it is created, so `down` (also run
at exit and by the test fixtures in `finally`) removes exactly that, even after a crash:
  - a podman network (its Linux bridge carries the boot VLAN; the host holds the gateway address);
  - the boot-server container (systemd as PID 1, privileged: mmdebstrap chroots and NFS-Ganesha's
    file handles need it), with the image cache and the hosts' /etc trees bind-mounted from the host;
  - one tap device per guest on that bridge, and the QEMU process (TCG) behind it.
The boot server is configured by the collection's playbook (playbooks/boot.yml) from a generated
inventory, exactly as a real one would be. The shared root image is cached across runs in
$DISKLESS_LAB_CACHE (default /var/cache/diskless-lab), keyed by the recipe hash of the rootfs role.

CLI (run from the repository root):
  python -m tests.e2e.harness up [--clients N]          self-contained lab, boots N guests to login
  python -m tests.e2e.harness boot --network NET --name HOST --mac MAC [--state DIR]
                                                          one guest on an existing podman network
  python -m tests.e2e.harness console HOST [--state DIR]  attach to a guest's serial console (Ctrl-] leaves)
  python -m tests.e2e.harness down [--state DIR]          stop everything recorded in the state directory
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import ipaddress
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import termios
import time
import tty
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.e2e.console import SerialConsole

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
CONTAINERS_CONF = REPO / "tools" / "podman" / "containers.conf"
CACHE = Path(os.environ.get("DISKLESS_LAB_CACHE", "/var/cache/diskless-lab"))
BASE_IMAGE = os.environ.get("DISKLESS_LAB_BASE_IMAGE", "localhost/diskless-base:latest")
STATE_ROOT = REPO / "lab-state"
# Test-only root password: it goes into each guest's own /etc/shadow, never into the shared image.
ROOT_PASSWORD = "diskless-e2e"
LOGIN_TIMEOUT = float(os.environ.get("DISKLESS_LAB_LOGIN_TIMEOUT", "600"))
# Guests' console: the serial console only (no display). The login prompt comes from console-getty
# (agetty on /dev/console), not serial-getty@ttyS0: the latter waits for udev to announce ttyS0, which
# under TCG on a loaded machine was seen not to happen at all (four guests at once: one never got a
# prompt). console-getty needs no device unit.
GUEST_KERNEL_PARAMS = "console=ttyS0,115200n8 systemd.mask=serial-getty@ttyS0.service systemd.wants=console-getty.service"


def run(cmd: list[str], *, timeout: float = 120, check: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, env=env)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {result.returncode}:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return result


def podman_env() -> dict[str, str]:
    return {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}


def podman(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run(["podman", *args], timeout=timeout, check=check, env=podman_env())


def bridge_of(network: str) -> str:
    """The Linux bridge behind a podman network (netavark creates it when the first container joins)."""
    return str(json.loads(podman("network", "inspect", network).stdout)[0]["network_interface"])


# ---- what has been created: the state file ---------------------------------------------------
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


def _is_our_qemu(pid: int, marker: str) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return bool(cmdline) and b"qemu-system" in cmdline[0] and any(marker.encode() in part for part in cmdline)


def _stop_process(pid: int, marker: str) -> None:
    """Stop a QEMU we started (checked by its command line, so a reused pid is left alone)."""
    if not _is_our_qemu(pid, marker):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _is_our_qemu(pid, marker):
        time.sleep(0.2)
    if _is_our_qemu(pid, marker):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def down(directory: Path) -> None:
    """Remove everything recorded in `directory`'s state file (idempotent)."""
    state = State.load(directory)
    for name, pid in list(state.guests.items()):
        _stop_process(pid, str(directory / name))
        del state.guests[name]
    for tap in list(state.taps):
        run(["ip", "link", "del", tap], check=False)
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


# ---- guests -----------------------------------------------------------------------------------
@dataclass
class Guest:
    """A diskless QEMU guest (TCG, virtio-net, network boot) whose serial console is a unix socket."""

    name: str
    mac: str
    bridge: str
    tap: str
    directory: Path
    memory_mb: int = 1024
    cpus: int = 2
    process: subprocess.Popen[bytes] | None = None
    console: SerialConsole | None = None
    powered_on_at: float = 0.0

    @property
    def socket_path(self) -> Path:
        return self.directory / self.name / "console.sock"

    def qemu_command(self) -> list[str]:
        return [
            "qemu-system-x86_64", "-name", self.name, "-accel", "tcg", "-m", str(self.memory_mb), "-smp", str(self.cpus),
            "-display", "none", "-monitor", "none", "-nodefaults",
            # wait=on: the guest starts when the harness is listening, so no boot output is lost
            "-serial", f"unix:{self.socket_path},server=on,wait=on",
            "-netdev", f"tap,id=net0,ifname={self.tap},script=no,downscript=no",
            "-device", f"virtio-net-pci,netdev=net0,mac={self.mac}",
            "-boot", "n", "-vga", "none",
        ]  # fmt: skip

    def power_on(self, state: State) -> None:
        """Create the tap, start QEMU and attach the console (the guest starts running then)."""
        workdir = self.socket_path.parent
        workdir.mkdir(parents=True, exist_ok=True)
        self.socket_path.unlink(missing_ok=True)
        state.taps.append(self.tap)
        state.save()
        run(["ip", "tuntap", "add", "dev", self.tap, "mode", "tap"])
        run(["ip", "link", "set", self.tap, "master", self.bridge])
        run(["ip", "link", "set", self.tap, "up"])
        log = (workdir / "qemu.log").open("ab")
        self.process = subprocess.Popen(self.qemu_command(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        state.guests[self.name] = self.process.pid
        state.save()
        self.console = SerialConsole(self.socket_path, workdir / "console.log")
        self.powered_on_at = time.monotonic()

    def wait_for_login(self, hostname: str, timeout: float = LOGIN_TIMEOUT) -> float:
        """Seconds from power-on to the login prompt."""
        assert self.console is not None
        # not anchored at the line's end: kernel messages may follow the prompt on the same line
        self.console.expect(rf"^{hostname} login:", timeout)
        return time.monotonic() - self.powered_on_at

    def login(self, hostname: str, timeout: float = LOGIN_TIMEOUT) -> None:
        assert self.console is not None
        self.console.login("root", ROOT_PASSWORD, hostname=hostname, timeout=timeout)

    def reboot(self) -> None:
        """Reboot from inside; the same QEMU resets and boots from the network again."""
        assert self.console is not None
        self.console.send_line("systemctl reboot")
        self.powered_on_at = time.monotonic()

    def power_off(self, state: State) -> None:
        if self.console is not None:
            self.console.close()
            self.console = None
        if self.process is not None:
            _stop_process(self.process.pid, str(self.directory / self.name))
            self.process.wait(timeout=10)
            state.guests.pop(self.name, None)
            self.process = None
        run(["ip", "link", "del", self.tap], check=False)
        if self.tap in state.taps:
            state.taps.remove(self.tap)
        state.save()


# ---- the self-contained lab -------------------------------------------------------------------
@dataclass(frozen=True)
class ClientSpec:
    name: str
    mac: str
    octet: int
    kernel_params: str = ""


@dataclass
class LabSpec:
    name: str = "dc-e2e"
    boot_subnet: str = "10.98.65.0/24"
    mgmt_subnet: str = "10.98.64.0/24"
    server_octet: int = 2
    clients: tuple[ClientSpec, ...] = (
        ClientSpec("e2e-node1", "52:54:00:98:65:11", 11, "e2e.host=e2e-node1 intel_iommu=on iommu=pt"),
        ClientSpec("e2e-node2", "52:54:00:98:65:12", 12, "e2e.host=e2e-node2 diskless.tmpfs=/var/lib/rancher:size=64m,mode=0700"),
    )
    # DISKLESS_LAB_PLAYBOOK: another playbook with the same interface (e.g. one under development)
    playbook: Path = Path(os.environ.get("DISKLESS_LAB_PLAYBOOK", REPO / "playbooks" / "boot.yml"))
    # group_vars of the boot server; router advertisements end iPXE's 15 s wait for an IPv6 router
    server_vars: dict[str, Any] = field(default_factory=lambda: {"netboot_kernel_params": GUEST_KERNEL_PARAMS, "dnsmasq_ra_interfaces": ["eth0"]})
    memory_mb: int = 1024
    cpus: int = 2

    @property
    def state_dir(self) -> Path:
        return STATE_ROOT / self.name

    def address(self, octet: int) -> str:
        return str(ipaddress.ip_network(self.boot_subnet)[octet])

    @property
    def server_ip(self) -> str:
        return self.address(self.server_octet)

    @property
    def server_ip6(self) -> str:
        """The boot server's unique-local IPv6 address, fd00:B:C::2/64 for a boot subnet 10.B.C.0/24."""
        _a, b, c, _d = ipaddress.ip_network(self.boot_subnet).network_address.packed
        return f"fd00:{b}:{c}::{self.server_octet}/64"


class Lab:
    """Network, boot-server container, inventory, playbook run and guests of one lab."""

    def __init__(self, spec: LabSpec) -> None:
        self.spec = spec
        self.state = State(directory=spec.state_dir)
        self.guests: dict[str, Guest] = {}
        self.bridge = ""
        self._log_offset = 0
        self._password_hash = password_hash(ROOT_PASSWORD)  # once: a new salt on every run would be a change

    # ---- lifecycle ---------------------------------------------------------------------------
    def up(self) -> None:
        """Network and boot-server container, ready for the playbook."""
        down(self.spec.state_dir)  # leftovers of an interrupted run under the same name
        shutil.rmtree(self.spec.state_dir, ignore_errors=True)  # and its logs
        atexit.register(self.down)
        images = CACHE / "images"
        hosts = self.spec.state_dir / "hosts"
        images.mkdir(parents=True, exist_ok=True)
        hosts.mkdir(parents=True, exist_ok=True)
        network = self.state.network = f"{self.spec.name}-boot"
        self.state.save()
        gateway = self.spec.address(1)
        podman("network", "create", "--subnet", self.spec.boot_subnet, "--gateway", gateway, "--disable-dns", network)
        container = self.state.container = f"{self.spec.name}-server"
        self.state.save()
        podman(
            "run", "--detach", "--name", container, "--hostname", container, "--privileged", "--systemd", "always",
            "--network", f"{network}:ip={self.spec.server_ip}",
            "--volume", f"{images}:/srv/diskless/images", "--volume", f"{hosts}:/srv/diskless/hosts",
            BASE_IMAGE, "/sbin/init",
        )  # fmt: skip
        self._wait_for_systemd(container)
        # set inside the container: an IPv6 podman network would switch on IPv6 forwarding on this machine
        podman("exec", container, "ip", "-6", "address", "replace", self.spec.server_ip6, "dev", "eth0", "nodad")
        self.bridge = bridge_of(network)

    def _wait_for_systemd(self, container: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = podman("exec", container, "systemctl", "is-system-running", check=False).stdout.strip()
            if status in ("running", "degraded"):
                return
            time.sleep(1)
        raise RuntimeError(f"{container}: systemd did not finish starting in {timeout:.0f} s")

    def down(self) -> None:
        for guest in list(self.guests.values()):
            guest.power_off(self.state)
        self.guests.clear()
        down(self.spec.state_dir)

    # ---- configuration -----------------------------------------------------------------------
    def inventory(self) -> Path:
        """Write the lab's inventory (the collection's model: dc_* variables) and return its directory."""
        directory = self.spec.state_dir / "inventory"
        (directory / "group_vars").mkdir(parents=True, exist_ok=True)
        hosts: dict[str, Any] = {
            "all": {
                "vars": {
                    "dc_domain": "e2e.test",
                    "dc_vlans": [
                        {"id": 64, "name": "mgmt", "subnet": self.spec.mgmt_subnet},
                        {"id": 65, "name": "pxe", "subnet": self.spec.boot_subnet},
                    ],
                    "dc_vlan_roles": {"mgmt": 64, "boot": 65},
                },
                "children": {
                    "boot_servers": {
                        "hosts": {
                            self.state.container: {
                                "ansible_connection": "containers.podman.podman",
                                "ansible_python_interpreter": "/usr/bin/python3",
                                "dc_host_octet": self.spec.server_octet,
                            }
                        }
                    },
                    "diskless_hosts": {
                        "hosts": {c.name: {"dc_macs": [c.mac], "dc_host_octet": c.octet, "dc_kernel_params": c.kernel_params} for c in self.spec.clients}
                    },
                },
            }
        }
        (directory / "hosts.yml").write_text(yaml.safe_dump(hosts, sort_keys=False))
        server_vars = {"nfs_server_implementation": "ganesha", "netboot_root_password_hash": self._password_hash, **self.spec.server_vars}
        (directory / "group_vars" / "boot_servers.yml").write_text(yaml.safe_dump(server_vars, sort_keys=False))
        return directory

    def configure(self, extra_vars: dict[str, Any] | None = None, *, check: bool = False, timeout: float = 1800) -> float:
        """Run the boot playbook against the lab; return its wall time. Fails with the log's tail."""
        inventory = self.inventory()
        log = self.spec.state_dir / "ansible.log"
        cmd = [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), str(self.spec.playbook)]
        if check:
            cmd += ["--check", "--diff"]
        if extra_vars:
            cmd += ["--extra-vars", json.dumps(extra_vars)]
        env = {
            **podman_env(),
            "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
            "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".build" / "collections"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        started = time.monotonic()
        self._log_offset = log.stat().st_size if log.exists() else 0
        with log.open("a") as out:
            result = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=REPO, env=env, timeout=timeout, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"ansible-playbook exited {result.returncode}; log {log}:\n{log.read_text()[-4000:]}")
        return time.monotonic() - started

    def last_recap(self) -> dict[str, int]:
        """The boot server's counters (ok, changed, failed, ...) in the PLAY RECAP of the last playbook run."""
        text = (self.spec.state_dir / "ansible.log").read_text()[self._log_offset :]
        line = next(line for line in text.splitlines() if line.startswith(f"{self.state.container} ") and "changed=" in line)
        return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", line)}

    # ---- guests ------------------------------------------------------------------------------
    def client(self, name: str) -> ClientSpec:
        return next(c for c in self.spec.clients if c.name == name)

    def power_on(self, name: str) -> Guest:
        client = self.client(name)
        index = self.spec.clients.index(client)
        guest = Guest(
            name=name, mac=client.mac, bridge=self.bridge, tap=f"{self.spec.name[:10]}-t{index}",
            directory=self.spec.state_dir, memory_mb=self.spec.memory_mb, cpus=self.spec.cpus,
        )  # fmt: skip
        guest.power_on(self.state)
        self.guests[name] = guest
        return guest

    def power_off(self, name: str) -> None:
        self.guests.pop(name).power_off(self.state)

    def server_exec(self, *cmd: str, check: bool = True) -> str:
        assert self.state.container is not None
        return podman("exec", self.state.container, *cmd, check=check).stdout


def password_hash(password: str) -> str:
    """SHA-512 crypt hash (openssl), as /etc/shadow wants it."""
    return run(["openssl", "passwd", "-6", password]).stdout.strip()


@contextlib.contextmanager
def running_lab(spec: LabSpec) -> Iterator[Lab]:
    """A configured lab that is torn down on exit, whatever happens."""
    lab = Lab(spec)
    try:
        lab.up()
        lab.configure()
        yield lab
    finally:
        lab.down()


# ---- CLI --------------------------------------------------------------------------------------
def _cmd_up(args: argparse.Namespace) -> int:
    spec = LabSpec(name=args.name)  # both hosts configured; the first --clients powered on
    lab = Lab(spec)
    lab.up()
    atexit.unregister(lab.down)  # the CLI leaves the lab running; `down` removes it
    print(f"lab: boot server {lab.state.container} at {spec.server_ip} on bridge {lab.bridge}; configuring...", flush=True)
    print(f"lab: playbook took {lab.configure():.0f} s", flush=True)
    for client in spec.clients[: args.clients]:
        guest = lab.power_on(client.name)
        print(f"lab: {client.name} ({client.mac}) at login after {guest.wait_for_login(client.name):.0f} s", flush=True)
        assert guest.console is not None
        guest.console.close()
    print(f"lab: up. Console: python -m tests.e2e.harness console NAME --state {spec.state_dir}; root password {ROOT_PASSWORD}")
    print(f"lab: stop everything: python -m tests.e2e.harness down --state {spec.state_dir}")
    return 0


def _cmd_boot(args: argparse.Namespace) -> int:
    state_dir = Path(args.state) if args.state else STATE_ROOT / args.network
    state = State.load(state_dir)
    guest = Guest(name=args.name, mac=args.mac.lower(), bridge=bridge_of(args.network), tap=args.tap or f"{args.name[:12]}-t", directory=state_dir)
    guest.power_on(state)
    seconds = guest.wait_for_login(args.hostname or args.name)
    assert guest.console is not None
    guest.console.close()
    print(f"{args.name}: power-on to login prompt in {seconds:.0f} s")
    print(f"console: python -m tests.e2e.harness console {args.name} --state {state_dir}")
    print(f"stop: python -m tests.e2e.harness down --state {state_dir}")
    return 0


def _cmd_console(args: argparse.Namespace) -> int:
    state_dir = Path(args.state) if args.state else STATE_ROOT / "dc-e2e"
    sock_path = state_dir / args.name / "console.sock"
    import socket

    sock = socket.socket(socket.AF_UNIX)
    sock.connect(str(sock_path))
    print(f"connected to {args.name}; Ctrl-] leaves", flush=True)
    saved = termios.tcgetattr(sys.stdin) if sys.stdin.isatty() else None
    try:
        if saved is not None:
            tty.setraw(sys.stdin)
        sock.sendall(b"\r")
        while True:
            readable = select.select([sys.stdin, sock], [], [])[0]
            if sock in readable:
                data = sock.recv(4096)
                if not data:
                    return 0
                os.write(sys.stdout.fileno(), data)
            if sys.stdin in readable:
                data = os.read(sys.stdin.fileno(), 1024)
                if not data or b"\x1d" in data:
                    return 0
                sock.sendall(data)
    finally:
        if saved is not None:
            termios.tcsetattr(sys.stdin, termios.TCSADRAIN, saved)
        sock.close()


def _cmd_down(args: argparse.Namespace) -> int:
    state_dir = Path(args.state) if args.state else STATE_ROOT / args.name
    down(state_dir)
    print(f"down: removed everything recorded in {state_dir}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.e2e.harness", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="self-contained lab: network, boot server, playbook, guests at login")
    up.add_argument("--name", default="dc-lab-qemu")
    up.add_argument("--clients", type=int, default=1, choices=[1, 2])
    up.set_defaults(func=_cmd_up)
    boot = sub.add_parser("boot", help="one guest on an existing podman network")
    boot.add_argument("--network", required=True)
    boot.add_argument("--name", required=True)
    boot.add_argument("--mac", required=True)
    boot.add_argument("--hostname", help="host name expected at the login prompt (default: --name)")
    boot.add_argument("--tap")
    boot.add_argument("--state")
    boot.set_defaults(func=_cmd_boot)
    console = sub.add_parser("console", help="attach to a guest's serial console")
    console.add_argument("name")
    console.add_argument("--state")
    console.set_defaults(func=_cmd_console)
    stop = sub.add_parser("down", help="stop everything recorded in a state directory")
    stop.add_argument("--name", default="dc-lab-qemu")
    stop.add_argument("--state")
    stop.set_defaults(func=_cmd_down)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
