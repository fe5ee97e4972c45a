"""The lab's diskless QEMU guests: power (tap, QEMU, serial console) and login on their console."""

from __future__ import annotations

import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from lab.console import SerialConsole
from lab.host import podman, run
from lab.network import add_tap, remove_link
from lab.state import State, stop_process

# Test-only root password: it goes into each guest's own /etc/shadow, never into the shared image.
ROOT_PASSWORD = "diskless-e2e"
LOGIN_TIMEOUT = float(os.environ.get("DISKLESS_LAB_LOGIN_TIMEOUT", "600"))
# Guests' console: the serial console only (no display). The login prompt comes from console-getty
# (agetty on /dev/console), not serial-getty@ttyS0: the latter waits for udev to announce ttyS0, which
# under TCG on a loaded machine was seen not to happen at all (four guests at once: one never got a
# prompt). console-getty needs no device unit.
GUEST_KERNEL_PARAMS = "console=ttyS0,115200n8 systemd.mask=serial-getty@ttyS0.service systemd.wants=console-getty.service"


# The sealed /etc (docs/security.md): the initramfs reads the host's key from this QEMU fw_cfg file
# (kernel parameter diskless.etc_key=fw_cfg:opt/io.diskless/etc-key, the netboot role's default).
ETC_KEY_FW_CFG = "opt/io.diskless/etc-key"
ETC_KEY = re.compile(r"[0-9a-f]{64}\n?")


@dataclass(frozen=True)
class BootServer:
    """The boot-server container a guest boots from, and its netboot_hosts_root (where each host's etc-key is)."""

    container: str
    hosts_root: str

    def key_path(self, hostname: str) -> str:
        return f"{self.hosts_root}/{hostname}/etc-key"

    def etc_key(self, hostname: str) -> str | None:
        """HOSTNAME's per-host key (64 hex digits), None when the boot server has none (delivery nfs, or an older boot server).

        Read with `podman exec ... cat`; never part of an error message.
        """
        path = self.key_path(hostname)
        probe = podman("exec", self.container, "test", "-e", path, check=False)
        if probe.returncode == 1:
            return None
        if probe.returncode != 0:
            raise RuntimeError(f"{self.container}: cannot look for {path} (podman exec exited {probe.returncode}: {probe.stderr.strip()[-500:]})")
        result = podman("exec", self.container, "cat", path, check=False)
        if result.returncode != 0 or not ETC_KEY.fullmatch(result.stdout):
            raise RuntimeError(f"{self.container}: {path} is unreadable or not 64 lower-case hex digits (exit {result.returncode}; content not shown)")
        return result.stdout.strip()


def write_private(path: Path, text: str) -> None:
    """Write TEXT to a new file mode 0600 (an existing file or link at PATH is replaced, never followed)."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def console_socket(state_dir: Path, name: str) -> Path:
    """Where guest NAME's serial console listens (a unix socket QEMU serves)."""
    return state_dir / name / "console.sock"


def password_hash(password: str) -> str:
    """SHA-512 crypt hash (openssl), as /etc/shadow wants it."""
    return run(["openssl", "passwd", "-6", password]).stdout.strip()


@dataclass
class Guest:
    """A diskless QEMU guest (TCG, virtio-net, network boot) whose serial console is a unix socket.

    With a boot server, power_on gives the guest its per-host key of the sealed /etc (the boot server's
    <hosts_root>/<hostname>/etc-key, copied to a 0600 file in the guest's directory) as the fw_cfg file
    opt/io.diskless/etc-key; without one, or when the boot server has no key for it, it boots without.
    """

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
    boot_server: BootServer | None = None
    hostname: str = ""  # the host name the boot server knows it by (default: name)
    etc_key_file: Path | None = None  # set by power_on when the guest got its key

    @property
    def socket_path(self) -> Path:
        return console_socket(self.directory, self.name)

    @property
    def key_path(self) -> Path:
        return self.socket_path.parent / "etc-key"

    def provision_etc_key(self) -> str:
        """Copy this host's key from the boot server to key_path (0600) for fw_cfg; return what was done (never the key)."""
        hostname = self.hostname or self.name
        self.etc_key_file = None
        self.key_path.unlink(missing_ok=True)
        if self.boot_server is None:
            return f"{self.name}: no boot server given: booting without a per-host key (no fw_cfg {ETC_KEY_FW_CFG})"
        key = self.boot_server.etc_key(hostname)
        if key is None:
            where = f"{self.boot_server.container}:{self.boot_server.key_path(hostname)}"
            return f"{self.name}: {where} absent (delivery nfs, or an older boot server): booting without a per-host key (no fw_cfg)"
        if "," in str(self.key_path):
            raise RuntimeError(f"{self.key_path}: QEMU's -fw_cfg option cannot take a path with a comma")
        write_private(self.key_path, key + "\n")
        self.etc_key_file = self.key_path
        return f"{self.name}: per-host key of {hostname} from {self.boot_server.container} as fw_cfg {ETC_KEY_FW_CFG} ({self.key_path}, mode 0600)"

    def qemu_command(self) -> list[str]:
        return [
            "qemu-system-x86_64", "-name", self.name, "-accel", "tcg", "-m", str(self.memory_mb), "-smp", str(self.cpus),
            "-display", "none", "-monitor", "none", "-nodefaults",
            # wait=on: the guest starts when the lab is listening, so no boot output is lost
            "-serial", f"unix:{self.socket_path},server=on,wait=on",
            "-netdev", f"tap,id=net0,ifname={self.tap},script=no,downscript=no",
            "-device", f"virtio-net-pci,netdev=net0,mac={self.mac}",
            "-boot", "n", "-vga", "none",
        ] + (["-fw_cfg", f"name={ETC_KEY_FW_CFG},file={self.etc_key_file}"] if self.etc_key_file else [])  # fmt: skip

    def power_on(self, state: State) -> None:
        """Create the tap, start QEMU and attach the console (the guest starts running then)."""
        workdir = self.socket_path.parent
        workdir.mkdir(parents=True, exist_ok=True)
        self.socket_path.unlink(missing_ok=True)
        note = self.provision_etc_key()
        print(f"lab: {note}", flush=True)
        state.taps.append(self.tap)
        state.save()
        add_tap(self.tap, self.bridge)
        log = (workdir / "qemu.log").open("ab")
        log.write(f"lab: {note}\n".encode())
        log.flush()
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
            stop_process(self.process.pid, str(self.directory / self.name))
            self.process.wait(timeout=10)
            state.guests.pop(self.name, None)
            self.process = None
        self.key_path.unlink(missing_ok=True)  # the key stays on the boot server only
        self.etc_key_file = None
        remove_link(self.tap)
        if self.tap in state.taps:
            state.taps.remove(self.tap)
        state.save()
