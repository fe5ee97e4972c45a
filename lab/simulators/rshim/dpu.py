"""The Arm side of the simulated BlueField: what it logs, over time, after a reset or a pushed boot stream.

Sources of every line emitted here:
- firmware lines: NVIDIA BlueField BSP documentation, "Logging" (example rshim log of a BlueField-2 boot) and the
  BlueField troubleshooting guide (``ERR[BL1]: PSC error -60`` halts the boot; the boot stream then times out);
- installer lines: bfb-build ``ubuntu/24.04/install.sh`` and ``common/install.env/common`` (log/fail/rlog, the
  order of install_dpu_os and global_installation_flow, ``INFO: Rebooting...`` at the end);
- ``Linux up`` and ``DPU is ready``: bfscripts ``bfup`` (run once the installed OS has booted);
- ``In Enhanced NIC mode`` (BlueField-3 in NIC mode, instead of the two lines above): only known from
  rshim-user-space ``scripts/bfb-install``, which waits for it in NIC mode; when it is logged is the simulator's guess;
- ``CRITICAL ERROR``: only known from rshim-user-space ``scripts/bfb-install`` (its finish filter), not from a
  public installer, so the wording after it is the simulator's own. It is written straight to bfrshlog (through
  the installer's rlog, ``ERROR:`` would become ``ERR``) without a level prefix, so it is stored at INFO level
  (mlxbf-bootctl default): a client must recognise it by its text.

Timings are device seconds divided by ``speed``. A reset cancels everything still scheduled.
"""

from __future__ import annotations

import heapq
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lab.simulators.rshim.bfb import BootStreamParser
from lab.simulators.rshim.rshlog import Crash, LogBuffer, installer_log

SCENARIOS = ("success", "error", "critical", "hang", "panic", "busy", "drop", "locked", "stall")

FIRMWARE_BOOT = (
    (0.5, 0, 2, "start"),
    (1.0, 0, 2, "no DDR on MSS0"),
    (1.5, 0, 2, "calc DDR freq (clk_ref 53836948)"),
    (3.0, 0, 2, "DDR POST passed"),
    (3.5, 0, 2, "UEFI loaded"),
    (3.6, 0, 4, "start"),
    (3.7, 0, 4, "runtime"),
    (5.0, 0, 5, "eMMC init"),
    (5.5, 0, 5, "eMMC probed"),
    (6.0, 0, 5, "PCIe enum start"),
    (7.0, 0, 5, "PCIe enum end"),
)
OS_BOOT_SECONDS = 40.0
READY_AFTER_LINUX_UP = 5.0
DISTRO = "Ubuntu"
TARGET_DEVICE = "/dev/mmcblk0"
CONSOLE_LIMIT = 64 * 1024


@dataclass(frozen=True)
class BfCfg:
    """What the installer takes from bf.cfg (bash -n checked, then sourced)."""

    text: str
    valid: bool
    variables: dict[str, str] = field(default_factory=dict)
    functions: frozenset[str] = frozenset()

    def flag(self, name: str, default: str = "yes") -> str:
        return self.variables.get(name) or default


def read_bf_cfg(text: str) -> BfCfg:
    """Check bf.cfg like the installer (``bash -n``) and read the knobs it sets by sourcing it in a clean bash."""
    with tempfile.TemporaryDirectory(prefix="rshim-sim-cfg-") as directory:
        path = Path(directory, "bf.cfg")
        path.write_text(text)
        syntax = subprocess.run(["bash", "-n", str(path)], capture_output=True, check=False, timeout=30)
        if syntax.returncode != 0:
            return BfCfg(text, False)
        names = ("UPDATE_DPU_OS", "UPDATE_ATF_UEFI", "WITH_NIC_FW_UPDATE", "ERASE_EMMC", "NET_RSHIM_MAC", "ubuntu_PASSWORD")
        script = '. "$1" >/dev/null 2>&1 </dev/null; for n in ' + " ".join(names) + ' ; do printf "%s=%s\\0" "$n" "${!n-}"; done; declare -F'
        result = subprocess.run(
            ["bash", "-c", script, "bash", str(path)], capture_output=True, check=False, timeout=30, env={"PATH": "/usr/bin:/bin"}, cwd=directory
        )
    output = result.stdout.decode(errors="replace")
    assignments, _sep, declared = output.rpartition("\0")
    variables = dict(item.split("=", 1) for item in assignments.split("\0") if "=" in item)
    functions = frozenset(line.split()[-1] for line in declared.splitlines() if line.startswith("declare -f"))
    return BfCfg(text, True, variables, functions)


@dataclass(order=True)
class _Event:
    due: float
    sequence: int
    generation: int = field(compare=False)
    action: Callable[[], None] = field(compare=False)


class Dpu:
    """Runs the scenario's timeline; every callback runs with ``lock`` held."""

    def __init__(
        self, lock: threading.RLock, log: LogBuffer, *, scenario: str, speed: float, release_file: Path, on_change: Callable[[], None], nic_mode: bool = False
    ) -> None:
        self.lock = lock
        self.nic_mode = nic_mode
        self.log = log
        self.scenario = scenario
        self.speed = speed
        self.release_file = release_file
        self.on_change = on_change
        self.phase = "running"
        self.os_present = True
        self.installed_version: str | None = release_file.read_text().strip() if release_file.exists() else None
        self.last_reset = time.monotonic()
        self.console = bytearray()
        self.console_waiters: list[Callable[[], None]] = []
        self.cfg: BfCfg | None = None
        self._installed_now = False
        self._events: list[_Event] = []
        self._generation = 0
        self._sequence = 0
        self._wakeup = threading.Condition(lock)
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="dpu", daemon=True)

    # lifecycle -------------------------------------------------------------------------------------------------
    def start(self) -> None:
        self._preload_previous_boot()
        self._thread.start()

    def stop(self) -> None:
        with self.lock:
            self._stopping = True
            self._wakeup.notify_all()
        self._thread.join(timeout=5)

    @property
    def reads_boot_stream(self) -> bool:
        return self.phase != "halted"

    @property
    def linux_running(self) -> bool:
        return self.phase in ("running", "ready")

    # triggers from the rshim side --------------------------------------------------------------------------------
    def on_reset(self, boot_mode: int) -> None:
        """Chip reset: boot from the rshim boot FIFO (mode 0) or from eMMC."""
        self._generation += 1
        self._events.clear()
        self.last_reset = time.monotonic()
        self.console.clear()
        if boot_mode == 0:
            self.phase = "waiting-for-boot-stream"
            if self.scenario == "stall":
                self.phase = "halted"
                self._at(0.2, self._psc_error)
        else:
            self.phase = "booting"
            self._boot_from_emmc(0.0)
        self.on_change()

    def on_stream_started(self) -> None:
        self.phase = "booting"
        self._firmware(0.0)
        self.on_change()

    def on_stream_complete(self, stream: BootStreamParser) -> None:
        cfg_text = stream.bf_cfg()
        self.cfg = read_bf_cfg(cfg_text) if cfg_text else None
        start = FIRMWARE_BOOT[-1][0] + 3.0
        self._at(start, lambda: self._set_phase("installing"))
        self._install(start + 2.0, stream.doca_version())
        self.on_change()

    # timelines ---------------------------------------------------------------------------------------------------
    def _install(self, t: float, version: str | None) -> None:
        cfg = self.cfg
        uses = cfg.functions if cfg is not None and cfg.valid else frozenset()
        variables = cfg.variables if cfg is not None and cfg.valid else {}
        if cfg is not None:
            t = self._installer(t, "INFO: Found bf.cfg")
        update_os = (variables.get("UPDATE_DPU_OS") or "yes") == "yes"
        if update_os:
            if (variables.get("ERASE_EMMC") or "yes") == "yes":
                t = self._installer(t, f"INFO: Erasing eMMC drive: {TARGET_DEVICE}", then=self._erase_os)
            t = self._installer(t + 2.0, f"INFO: {DISTRO} installation started")
            if self.scenario == "error":
                t = self._installer(t + 5.0, f"Failed to access target device: {TARGET_DEVICE}")
                t = self._installer(t, "ERR Installation failed", then=self._erase_os)
                self._boot_from_emmc(t + 3.0)
                return
            if "bfb_pre_install" in uses:
                t = self._installer(t + 1.0, "INFO: Running bfb_pre_install from bf.cfg")
            t = self._installer(t + 2.0, "Installing OS image")
            if self.scenario == "critical":
                self._at(t + 20.0, self._critical_error)
                return
            if variables.get("ubuntu_PASSWORD"):
                t = self._installer(t + 60.0, "INFO: Changing the default password for user ubuntu")
            if "bfb_modify_os" in uses:
                t = self._installer(t + 5.0, "INFO: Running bfb_modify_os from bf.cfg")
            t = self._installer(t + 10.0, f"INFO: {DISTRO} installation completed", then=lambda: self._install_os(version))
        if "bfb_post_install" in uses:
            t = self._installer(t + 5.0, "INFO: Running bfb_post_install from bf.cfg")
        t = self._installer(t + 2.0, "INFO: Installation finished")
        t = self._installer(t + 3.0, "INFO: Rebooting...")
        self._boot_from_emmc(t + 3.0)

    def _boot_from_emmc(self, t: float) -> None:
        self._at(t, lambda: self._set_phase("booting"))
        self._at(self._firmware(t) + 0.5, self._after_firmware)

    def _firmware(self, t: float) -> float:
        for delay, level, module, text in FIRMWARE_BOOT:
            self._at(t + delay, self._firmware_line(level, module, text))
        return t + FIRMWARE_BOOT[-1][0]

    def _firmware_line(self, level: int, module: int, text: str) -> Callable[[], None]:
        def action() -> None:
            self.log.write_message(level, module, text)

        return action

    def _psc_error(self) -> None:
        self.log.write_message(2, 1, "PSC error -60")

    def _installer(self, t: float, message: str, then: Callable[[], None] | None = None) -> float:
        def action() -> None:
            self._console_line(message)
            self.log.write_from_linux(installer_log(message))
            if then is not None:
                then()

        self._at(t, action)
        return t + 1.0

    # actions -----------------------------------------------------------------------------------------------------
    def _after_firmware(self) -> None:
        """UEFI hands over to the OS on eMMC, if there is one (decided when it happens, not when scheduled)."""
        if not self.os_present:
            self._halt()
        elif self._installed_now and self.scenario == "hang":
            self.on_change()
        elif self._installed_now and self.scenario == "panic":
            registers = (("elr_el3", 0xE0012A40), ("esr_el3", 0x96000010), ("far_el3", 0x0))
            self._crash(Crash("PANIC", 4, 0xE0012A40, registers))
        elif self.nic_mode:
            self._at(OS_BOOT_SECONDS, self._nic_mode_up)
        else:
            self._at(OS_BOOT_SECONDS, self._linux_up)

    def _nic_mode_up(self) -> None:
        self.log.write_from_linux("In Enhanced NIC mode")
        self.phase = "ready"
        self.on_change()

    def _linux_up(self) -> None:
        self.log.write_from_linux("Linux up")
        self._at(READY_AFTER_LINUX_UP, self._ready)

    def _ready(self) -> None:
        self.log.write_from_linux("DPU is ready")
        self.phase = "ready"
        self._console_text(f"\r\n{DISTRO} 22.04.5 LTS localhost hvc0\r\n\r\nlocalhost login: ")
        self.on_change()

    def _erase_os(self) -> None:
        self.os_present = False
        self.installed_version = None
        self.release_file.unlink(missing_ok=True)
        self.on_change()

    def _install_os(self, version: str | None) -> None:
        self.os_present = True
        self.installed_version = version or "unknown"
        self._installed_now = True
        self.release_file.parent.mkdir(parents=True, exist_ok=True)
        self.release_file.write_text(self.installed_version + "\n")
        if self.cfg is not None and self.cfg.valid:
            cfg_copy = self.release_file.parent / "bf.cfg"
            cfg_copy.write_text(self.cfg.text)
            cfg_copy.chmod(0o600)
        self.on_change()

    def _critical_error(self) -> None:
        # Straight to bfrshlog: through the installer's rlog, "ERROR:" would have become "ERR".
        message = f"CRITICAL ERROR: cannot write the OS image to {TARGET_DEVICE}"
        self._console_line(message)
        self.log.write_from_linux(message)
        self._halt()

    def _halt(self) -> None:
        self.phase = "halted"
        self.on_change()

    def _crash(self, crash: Crash) -> None:
        self.log.write_crash(crash)
        self._halt()

    def _set_phase(self, phase: str) -> None:
        self.phase = phase
        self.on_change()

    def _console_line(self, message: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        self._console_text(f"[{stamp}] {message}\r\n")

    def _console_text(self, text: str) -> None:
        self.console += text.encode()
        del self.console[:-CONSOLE_LIMIT]
        waiters, self.console_waiters = self.console_waiters, []
        for wake in waiters:
            wake()

    def _preload_previous_boot(self) -> None:
        """The log a running DPU still holds from its last boot (nobody has read it with CLEAR_ON_READ)."""
        for _delay, level, module, text in FIRMWARE_BOOT:
            self.log.write_message(level, module, text)
        self.log.write_from_linux("Linux up")
        self.log.write_from_linux("DPU is ready")

    # scheduler ---------------------------------------------------------------------------------------------------
    def _at(self, device_seconds: float, action: Callable[[], None]) -> None:
        self._sequence += 1
        due = time.monotonic() + device_seconds / self.speed
        heapq.heappush(self._events, _Event(due, self._sequence, self._generation, action))
        self._wakeup.notify_all()

    def _run(self) -> None:
        with self.lock:
            while not self._stopping:
                if not self._events:
                    self._wakeup.wait()
                    continue
                event = self._events[0]
                delay = event.due - time.monotonic()
                if delay > 0:
                    self._wakeup.wait(timeout=delay)
                    continue
                heapq.heappop(self._events)
                if event.generation == self._generation:
                    event.action()
