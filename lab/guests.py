"""The lab's diskless QEMU guests: power (tap, QEMU, serial console) and login on their console."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from lab.console import SerialConsole
from lab.host import run
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


def console_socket(state_dir: Path, name: str) -> Path:
    """Where guest NAME's serial console listens (a unix socket QEMU serves)."""
    return state_dir / name / "console.sock"


def password_hash(password: str) -> str:
    """SHA-512 crypt hash (openssl), as /etc/shadow wants it."""
    return run(["openssl", "passwd", "-6", password]).stdout.strip()


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
        return console_socket(self.directory, self.name)

    def qemu_command(self) -> list[str]:
        return [
            "qemu-system-x86_64", "-name", self.name, "-accel", "tcg", "-m", str(self.memory_mb), "-smp", str(self.cpus),
            "-display", "none", "-monitor", "none", "-nodefaults",
            # wait=on: the guest starts when the lab is listening, so no boot output is lost
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
        add_tap(self.tap, self.bridge)
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
            stop_process(self.process.pid, str(self.directory / self.name))
            self.process.wait(timeout=10)
            state.guests.pop(self.name, None)
            self.process = None
        remove_link(self.tap)
        if self.tap in state.taps:
            state.taps.remove(self.tap)
        state.save()
