"""The host side of one rshim device: what /dev/rshimN/{boot,misc,console} do (rshim-user-space behaviour).

Facts, not code, from rshim-user-space ``src/rshim.c`` (rshim_boot_open/write/release, rshim_set_drop_mode,
rshim_console_open), ``src/rshim_fuse.c`` (misc read and write) and ``src/rshim_regs.h``:

- opening ``boot`` fails with EINVAL in drop mode, EPERM in locked (secure NIC) mode and EBUSY while it is open;
  otherwise, unless BOOT_RESET_SKIP, it sets BOOT_MODE 0 (boot from rshim), stops the watchdog and resets the chip;
  closing it writes BOOT_MODE 1 (eMMC) back;
- a ``boot`` write that finds no room in the boot FIFO for BOOT_TIMEOUT seconds fails with ETIMEDOUT (a partial
  write returns the bytes taken);
- ``misc`` text is built at the first read of an open file and the next read returns end of file; keys are padded
  with ``%-16s``; DISPLAY_LEVEL 1 adds BOOT_RESET_SKIP, PEER_MAC (after asking the Arm side for up to one second),
  PXE_ID, VLAN_ID, CLEAR_ON_READ; level 2 appends the log; BlueField-3 adds BF_MODE, UP_TIME and SECURE_NIC_MODE;
- a ``misc`` write is one ``KEY value`` command: decimal DISPLAY_LEVEL, BOOT_TIMEOUT, USB_TIMEOUT (0-300, 0 restores
  40), DROP_MODE, CLEAR_ON_READ; hex BOOT_MODE (masked with 3), SW_RESET, BOOT_RESET_SKIP, PXE_ID, FORCE_CMD
  (EINVAL unless in drop mode); PEER_MAC, VLAN_ID, OPN_STR (16 chars), DEBUG_CODE (0x...), DEV_NAME (refresh);
  anything else is EINVAL;
- in drop mode register reads return 0 (BOOT_MODE shows 0, the log is empty) and register writes are dropped;
- ``console`` opens once (EBUSY), not in locked mode (EPERM).

Deliberate differences, because these are FUSE files and not CUSE character devices: the files are regular files
of size 0 (a client must not test for a character device), and ``rshim`` (raw register access) is not provided.
"""

from __future__ import annotations

import errno
import itertools
import json
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from lab.simulators.rshim.bfb import BootStreamParser
from lab.simulators.rshim.dpu import Dpu
from lab.simulators.rshim.fuse import DEFERRED, Deferred, FileEntry, Request
from lab.simulators.rshim.rshlog import SECTION_HEADER, LogBuffer

BOOT_INO, MISC_INO, CONSOLE_INO = 2, 3, 4
FILES = [FileEntry(BOOT_INO, "boot"), FileEntry(MISC_INO, "misc"), FileEntry(CONSOLE_INO, "console")]
BOOT_FIFO_BYTES = 512 * 8
DEFAULT_BOOT_TIMEOUT = 300
DEFAULT_USB_TIMEOUT = 40
BOOT_MODE_MASK = 0x3
BOOT_MODE_EMMC = 1
PEER_RESPONSE_SECONDS = 1.0
MISC_BUFFER = 4069
DEFAULT_PEER_MAC = bytes.fromhex("001acaffff01")


@dataclass
class Chip:
    version: int = 2
    revision: int = 1
    dev_name: str = "pcie-0000:03:00.2"
    opn: str = "MBF2H332A-AEEOT"
    nic_mode: bool = False


@dataclass
class BootSession:
    parser: BootStreamParser = field(default_factory=BootStreamParser)
    fifo_room: int | None = None  # bytes the halted Arm side still leaves in the FIFO, None while it reads
    pending: Request | None = None


@dataclass
class MiscHandle:
    ready: bool = False


class RshimDevice:
    """FileHandlers for the FUSE server, plus the registers and state rshim keeps for one device."""

    def __init__(self, state_dir: Path, scenario: str, speed: float, chip: Chip, boot_timeout: int = DEFAULT_BOOT_TIMEOUT) -> None:
        self.lock = threading.RLock()
        self.state_dir = state_dir
        self.scenario = scenario
        self.speed = speed
        self.chip = chip
        self.display_level = 0
        self.boot_mode = BOOT_MODE_EMMC
        self.boot_timeout = boot_timeout
        self.usb_timeout = DEFAULT_USB_TIMEOUT
        self.drop_mode = scenario == "drop"
        self.locked_mode = scenario == "locked"
        self.skip_boot_reset = False
        self.clear_on_read = False
        self.force_cmd_pending = False
        self.peer_mac = DEFAULT_PEER_MAC
        self.pxe_id = 0
        self.vlan = (0, 0)
        self.is_boot_open = False
        self.is_console_open = False
        self.log = LogBuffer()
        release_file = state_dir / "dpu" / "etc" / "mlnx-release"
        self.dpu = Dpu(self.lock, self.log, scenario=scenario, speed=speed, release_file=release_file, on_change=self.publish, nic_mode=chip.nic_mode)
        self.boot: BootSession | None = None
        self.handles: dict[int, MiscHandle | BootSession | None] = {}
        self.history: dict[str, list[object]] = {"boot_opens": [], "streams": [], "misc_writes": []}
        self.holder_pid: int | None = None
        self._handle_ids = itertools.count(1)

    # FUSE FileHandlers --------------------------------------------------------------------------------------------
    def open(self, ino: int, flags: int, request: Request) -> int:
        with self.lock:
            handle = next(self._handle_ids)
            if ino == BOOT_INO:
                self.handles[handle] = self._boot_open(request.pid)
            elif ino == MISC_INO:
                self.handles[handle] = MiscHandle()
            else:
                self._console_open()
                self.handles[handle] = None
            return handle

    def read(self, ino: int, handle: int, offset: int, size: int, request: Request) -> bytes | Deferred:
        if ino == MISC_INO:
            return self._misc_read(handle, size)
        if ino == CONSOLE_INO:
            return self._console_read(size, request)
        raise OSError(errno.EINVAL, "boot is write-only")

    def write(self, ino: int, handle: int, offset: int, data: bytes, request: Request) -> int | Deferred:
        if ino == MISC_INO:
            with self.lock:
                try:
                    self._misc_write(data)
                finally:
                    self.publish()
            return len(data)
        if ino == BOOT_INO:
            return self._boot_write(handle, data, request)
        return len(data)

    def release(self, ino: int, handle: int) -> None:
        with self.lock:
            session = self.handles.pop(handle, None)
            if ino == BOOT_INO and isinstance(session, BootSession):
                self._boot_release(session)
            elif ino == CONSOLE_INO:
                self.is_console_open = False

    # boot -----------------------------------------------------------------------------------------------------------
    def _boot_open(self, pid: int) -> BootSession:
        if self.drop_mode:
            raise OSError(errno.EINVAL, "boot fail (drop mode)")
        if self.locked_mode:
            raise OSError(errno.EPERM, "boot fail (locked mode)")
        if self.is_boot_open:
            raise OSError(errno.EBUSY, "boot already open")
        self.is_boot_open = True
        self.history["boot_opens"].append({"pid": pid, "reset": not self.skip_boot_reset})
        if not self.skip_boot_reset:
            self.boot_mode = 0
            self.dpu.on_reset(0)
        self.boot = BootSession()
        self.publish()
        return self.boot

    def _boot_write(self, handle: int, data: bytes, request: Request) -> int | Deferred:
        with self.lock:
            session = self.handles.get(handle)
            if not isinstance(session, BootSession):
                raise OSError(errno.EBADF, "not a boot handle")
            if session.fifo_room is None and not self.dpu.reads_boot_stream:
                session.fifo_room = BOOT_FIFO_BYTES
            if session.fifo_room is not None:
                return self._fill_stalled_fifo(session, data, request)
            parser = session.parser
            was_started, before = parser.started, parser.received
            parser.feed(data)
            if parser.error is not None:
                # The boot loader stops reading at the bad bytes; only the boot FIFO still takes data.
                room = parser.error_offset - before + BOOT_FIFO_BYTES
                taken = min(len(data), room)
                parser.received = before + taken
                session.fifo_room = room - taken
                return taken
            if not was_started and parser.started and not self.skip_boot_reset:
                self.dpu.on_stream_started()
            return len(data)

    def _fill_stalled_fifo(self, session: BootSession, data: bytes, request: Request) -> int | Deferred:
        taken = min(len(data), session.fifo_room or 0)
        if taken:
            assert session.fifo_room is not None
            session.fifo_room -= taken
            session.parser.received += taken
            return taken
        session.pending = request
        timer = threading.Timer(self.boot_timeout / self.speed, lambda: request.fail(errno.ETIMEDOUT))
        timer.daemon = True

        def interrupted(pending: Request) -> None:
            timer.cancel()
            pending.fail(errno.EINTR)

        request.on_interrupt = interrupted
        timer.start()
        return DEFERRED

    def _boot_release(self, session: BootSession) -> None:
        self.boot_mode = BOOT_MODE_EMMC
        self.is_boot_open = False
        parser = session.parser
        self.history["streams"].append(
            {
                "bytes": parser.received,
                "images": [image.image_id for image in parser.images],
                "complete": parser.complete,
                "error": parser.error,
                "bf_cfg": parser.bf_cfg() is not None,
            }
        )
        if parser.complete and not self.skip_boot_reset and self.dpu.reads_boot_stream:
            self.dpu.on_stream_complete(parser)
        self.boot = None
        self.publish()

    # misc -----------------------------------------------------------------------------------------------------------
    def _misc_read(self, handle: int, size: int) -> bytes:
        with self.lock:
            misc = self.handles.get(handle)
            if not isinstance(misc, MiscHandle) or misc.ready:
                return b""
            misc.ready = True
            if self.display_level == 1 and not self.dpu.linux_running:
                time.sleep(PEER_RESPONSE_SECONDS / self.speed)
            text = self.render_misc().encode()[:MISC_BUFFER]
            self.publish()
            return text[:size]

    def render_misc(self) -> str:
        """The misc text exactly as rshim_fuse_misc_read formats it."""
        lines = [f"{'DISPLAY_LEVEL':<16}{self.display_level} (0:basic, 1:advanced, 2:log)"]
        if self.chip.version == 3:
            lines.append(f"{'BF_MODE':<16}{'NIC mode' if self.chip.nic_mode else 'DPU mode'}")
        boot_mode = 0 if self.drop_mode else self.boot_mode
        lines += [
            f"{'BOOT_MODE':<16}{boot_mode} (0:rshim, 1:emmc, 2:emmc-boot-swap)",
            f"{'BOOT_TIMEOUT':<16}{self.boot_timeout} (seconds)",
            f"{'USB_TIMEOUT':<16}{self.usb_timeout} (seconds)",
            f"{'DROP_MODE':<16}{int(self.drop_mode)} (0:normal, 1:drop)",
            f"{'SW_RESET':<16}0 (1: reset)",
            f"{'DEV_NAME':<16}{self.chip.dev_name}",
            f"{'DEV_INFO':<16}BlueField-{self.chip.version}(Rev {self.chip.revision})",
        ]
        if self.chip.version >= 2:
            lines.append(f"{'OPN_STR':<16}{self.chip.opn or 'N/A'}")
        if self.chip.version == 3:
            up_time = int((time.monotonic() - self.dpu.last_reset) * self.speed)
            lines.append(f"{'UP_TIME':<16}{up_time}(s)")
            lines.append(f"{'SECURE_NIC_MODE':<16}{int(self.locked_mode)} (0:no, 1:yes)")
        lines.append(f"{'FORCE_CMD':<16}{int(self.force_cmd_pending)} (1: send Force command)")
        text = "\n".join(lines) + "\n"
        if self.display_level == 1:
            mac = self.peer_mac if self.dpu.linux_running else bytes(6)
            text += f"{'BOOT_RESET_SKIP':<16}{int(self.skip_boot_reset)} (1: skip)\n"
            text += f"{'PEER_MAC':<16}{':'.join(f'{octet:02x}' for octet in mac)} (rw)\n"
            text += f"{'PXE_ID':<16}0x{self.pxe_id:08x} (rw)\n"
            text += f"{'VLAN_ID':<16}{self.vlan[0]} {self.vlan[1]} (rw)\n"
            text += f"{'CLEAR_ON_READ':<16}{int(self.clear_on_read)} (0:no, 1:yes)\n"
        elif self.display_level == 2:
            text += self._log_section()
        return text

    def _log_section(self) -> str:
        if self.drop_mode:  # register reads return 0: the word index reads as 0, nothing is listed
            return SECTION_HEADER
        return self.log.show(self.clear_on_read)

    def _misc_write(self, data: bytes) -> None:
        text = data[:4095].decode(errors="replace")
        words = text.split()
        if not words:
            raise OSError(errno.EINVAL, "empty misc write")
        key = words[0]
        rest = text[len(key) :]  # rshim parses the value from buffer + strlen(key), not from after the key
        self.history["misc_writes"].append(text.strip())
        handler = {
            "DISPLAY_LEVEL": self._set_display_level,
            "BOOT_TIMEOUT": self._set_boot_timeout,
            "USB_TIMEOUT": self._set_usb_timeout,
            "DROP_MODE": self._set_drop_mode,
            "CLEAR_ON_READ": self._set_clear_on_read,
            "BOOT_MODE": self._set_boot_mode,
            "SW_RESET": self._sw_reset,
            "BOOT_RESET_SKIP": self._set_boot_reset_skip,
            "PEER_MAC": self._set_peer_mac,
            "PXE_ID": self._set_pxe_id,
            "VLAN_ID": self._set_vlan,
            "OPN_STR": self._set_opn,
            "DEBUG_CODE": self._set_debug_code,
            "FORCE_CMD": self._force_cmd,
            "DEV_NAME": self._refresh_dev_name,
        }.get(key)
        if handler is None:
            raise OSError(errno.EINVAL, f"unknown misc key {key}")
        handler(rest)

    def _set_display_level(self, rest: str) -> None:
        self.display_level = scan_int(rest, 10)

    def _set_boot_timeout(self, rest: str) -> None:
        self.boot_timeout = scan_int(rest, 10)

    def _set_usb_timeout(self, rest: str) -> None:
        value = scan_int(rest, 10)
        if not 0 <= value <= 300:
            raise OSError(errno.EINVAL, "USB_TIMEOUT out of range")
        self.usb_timeout = value or DEFAULT_USB_TIMEOUT

    def _set_drop_mode(self, rest: str) -> None:
        self.drop_mode = bool(scan_int(rest, 10))

    def _set_clear_on_read(self, rest: str) -> None:
        self.clear_on_read = bool(scan_int(rest, 10))

    def _set_boot_mode(self, rest: str) -> None:
        value = scan_int(rest, 16)
        if not self.drop_mode:
            self.boot_mode = value & BOOT_MODE_MASK

    def _sw_reset(self, rest: str) -> None:
        if scan_int(rest, 16) and not self.drop_mode:
            self.dpu.on_reset(self.boot_mode)

    def _set_boot_reset_skip(self, rest: str) -> None:
        self.skip_boot_reset = bool(scan_int(rest, 16))

    def _set_peer_mac(self, rest: str) -> None:
        match = re.match(r"\s*" + ":".join([r"([0-9a-fA-F]+)"] * 6), rest)
        if match is None:
            raise OSError(errno.EINVAL, "PEER_MAC needs six hex octets")
        self.peer_mac = bytes(int(part, 16) & 0xFF for part in match.groups())

    def _set_pxe_id(self, rest: str) -> None:
        self.pxe_id = scan_int(rest, 16) & 0xFFFFFFFF

    def _set_vlan(self, rest: str) -> None:
        numbers = re.findall(r"-?\d+", rest)[:2]
        if not numbers:
            raise OSError(errno.EINVAL, "VLAN_ID needs numbers")
        first = int(numbers[0])
        second = int(numbers[1]) if len(numbers) > 1 else 0
        self.vlan = (first, second)

    def _set_opn(self, rest: str) -> None:
        words = rest.split()
        if not words:
            raise OSError(errno.EINVAL, "OPN_STR needs a value")
        self.chip.opn = words[0][:16]

    def _set_debug_code(self, rest: str) -> None:
        if re.match(r"\s*0x[0-9a-fA-F]+", rest) is None:
            raise OSError(errno.EINVAL, "DEBUG_CODE needs 0x...")

    def _force_cmd(self, rest: str) -> None:
        if scan_int(rest, 16):
            if not self.drop_mode:
                raise OSError(errno.EINVAL, "FORCE_CMD only in drop mode")
            self.force_cmd_pending = True

    def _refresh_dev_name(self, _rest: str) -> None:
        if not self.chip.dev_name.startswith("pcie-"):
            raise OSError(errno.EINVAL, "DEV_NAME refresh is for PCIe devices")

    # console --------------------------------------------------------------------------------------------------------
    def _console_open(self) -> None:
        if self.is_console_open:
            raise OSError(errno.EBUSY, "console already open")
        if self.locked_mode:
            raise OSError(errno.EPERM, "console (locked mode)")
        self.is_console_open = True

    def _console_read(self, size: int, request: Request) -> bytes | Deferred:
        with self.lock:
            if self.dpu.console:
                data = bytes(self.dpu.console[:size])
                del self.dpu.console[:size]
                return data

            def wake() -> None:
                data = bytes(self.dpu.console[:size])
                del self.dpu.console[:size]
                request.reply(data)

            self.dpu.console_waiters.append(wake)
            request.on_interrupt = lambda pending: pending.fail(errno.EINTR)
            return DEFERRED

    # state for tests ------------------------------------------------------------------------------------------------
    def publish(self) -> None:
        """Write sim-state.json (what a test may inspect: pushes, misc writes, the DPU's phase and release)."""
        state = {
            "scenario": self.scenario,
            "phase": self.dpu.phase,
            "installed_version": self.dpu.installed_version,
            "display_level": self.display_level,
            "clear_on_read": self.clear_on_read,
            "boot_mode": self.boot_mode,
            "drop_mode": self.drop_mode,
            "boot_open": self.is_boot_open,
            "holder_pid": self.holder_pid,
            **self.history,
        }
        path = self.state_dir / "sim-state.json"
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(state, indent=1))
        os.replace(temporary, path)


def scan_int(rest: str, base: int) -> int:
    """sscanf("%d") / sscanf("%x"): leading blanks, optional sign (and 0x for hex), digits; EINVAL without digits."""
    pattern = r"\s*([+-]?)(?:0[xX])?([0-9a-fA-F]+)" if base == 16 else r"\s*([+-]?)([0-9]+)"
    match = re.match(pattern, rest)
    if match is None:
        raise OSError(errno.EINVAL, "number expected")
    value = int(match.group(2), base)
    return -value if match.group(1) == "-" else value
