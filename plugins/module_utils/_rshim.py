# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private API for BlueField rshim devices (/dev/rshimN/{boot,misc}), shared by rshim_info and bfb_install.

Behaviour of the device (rshim-user-space: src/rshim.c, src/rshim_fuse.c, src/rshim_log.c, scripts/bfb-install):

- ``misc`` is text generated when an opened file is first read (one snapshot per open), one ``KEY value`` per line
  with the key padded by ``%-16s`` and most values followed by a legend in parentheses. DISPLAY_LEVEL 1 adds
  advanced keys, DISPLAY_LEVEL 2 appends a "Log Messages" section with lines like `` INFO[MISC]: Linux up``.
  With CLEAR_ON_READ 1 every read empties the log, so each snapshot holds only new lines.
- a ``misc`` write is one ``KEY value`` command; rshim answers EINVAL when it rejects it.
- opening ``boot`` resets the DPU into rshim boot mode; it fails with EBUSY (already open), EINVAL (DROP_MODE 1)
  or EPERM (locked, secure NIC mode). A write fails with ETIMEDOUT when the Arm side stops reading for
  BOOT_TIMEOUT seconds.
- the boot stream is a BFB (image headers with magic 0x13026642) optionally followed by bf.cfg.

Nothing here imports Ansible: the modules stay thin, and this file is tested on its own.
"""

from __future__ import annotations

import errno
import os
import re
import struct
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

BFB_MAGIC = 0x13026642
BFB_HEADER = struct.Struct("<QQQ")
BFB_MAJOR = 1
BFB_INFO_IMAGE_ID = 50
DEVICE_NAME = re.compile(r"^rshim[0-9]+$")
KEY_WIDTH = 16
MISC_READ_LIMIT = 1024 * 1024
PUSH_CHUNK = 1024 * 1024
DEFAULT_READY_PATTERN = "DPU is ready"
NIC_MODE_READY_PATTERN = "In Enhanced NIC mode"
ERROR_LEVELS = frozenset({"ERR", "ASSERT", "PANIC", "Exception"})
# bfb-install stops on "CRITICAL ERROR"; the installer's rlog() rewrites "ERROR:" to "ERR", so accept both spellings.
CRITICAL = re.compile(r"\bCRITICAL ERR(?:OR)?\b", re.IGNORECASE)
LOG_LINE = re.compile(r"^\s*(?P<level>INFO|WARN|ERR|ASSERT)\[(?P<source>[A-Za-z0-9]+)\]: ?(?P<text>.*)$")
CRASH_LINE = re.compile(r"^\s*(?P<level>PANIC|Exception)\((?P<source>[A-Za-z0-9]+)\): ?(?P<text>.*)$")
LEGEND = re.compile(r"^(?P<value>.*?)\s+\([^()]*\)$")
BOOT_MODES = {0: "rshim", 1: "emmc", 2: "emmc-boot-swap"}
EXCERPT_LINES = 15


class RshimError(Exception):
    """A device problem, with a kind a module can map to its message and result."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class FlashError(RshimError):
    """Flashing failed; carries the log read so far and the lines that explain the failure."""

    def __init__(self, kind: str, message: str, log: Sequence[str], excerpt: Sequence[str], bytes_pushed: int) -> None:
        super().__init__(kind, message)
        self.log = list(log)
        self.excerpt = list(excerpt)
        self.bytes_pushed = bytes_pushed


# misc ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LogLine:
    """One line of the rshim log section (level and source are None for register dump lines)."""

    raw: str
    level: str | None
    source: str | None
    text: str

    def __str__(self) -> str:
        return self.raw.strip()


def parse_log_line(raw: str) -> LogLine:
    match = LOG_LINE.match(raw) or CRASH_LINE.match(raw)
    if match is None:
        return LogLine(raw, None, None, raw.strip())
    return LogLine(raw, match.group("level"), match.group("source"), match.group("text"))


@dataclass(frozen=True)
class Misc:
    """One snapshot of /dev/rshimN/misc."""

    fields: dict[str, str]
    log: tuple[LogLine, ...] = ()
    has_log_section: bool = False

    def integer(self, key: str) -> int | None:
        match = re.match(r"^\s*(?:0x(?P<hex>[0-9a-fA-F]+)|(?P<dec>-?[0-9]+))", self.fields.get(key, ""))
        if match is None:
            return None
        return int(match.group("hex"), 16) if match.group("hex") else int(match.group("dec"))

    def text(self, key: str) -> str | None:
        return self.fields.get(key)

    @property
    def display_level(self) -> int | None:
        return self.integer("DISPLAY_LEVEL")

    @property
    def drop_mode(self) -> bool:
        return self.integer("DROP_MODE") == 1

    @property
    def secure_nic_mode(self) -> bool | None:
        value = self.integer("SECURE_NIC_MODE")
        return None if value is None else value == 1

    @property
    def nic_mode(self) -> bool | None:
        mode = self.fields.get("BF_MODE")
        return None if mode is None else "NIC mode" in mode

    @property
    def chip(self) -> str | None:
        match = re.match(r"^(BlueField-\d+)", self.fields.get("DEV_INFO", ""))
        return match.group(1) if match else None

    @property
    def revision(self) -> int | None:
        match = re.search(r"\(Rev (\d+)\)", self.fields.get("DEV_INFO", ""))
        return int(match.group(1)) if match else None


def split_misc_line(line: str) -> tuple[str, str] | None:
    """Undo ``%-16s%s``: a key shorter than 16 is followed by spaces up to column 16."""
    if not line.strip() or line[0].isspace():
        return None
    if len(line) > KEY_WIDTH - 1 and line[KEY_WIDTH - 1] != " " and " " not in line[:KEY_WIDTH]:
        key, value = line[:KEY_WIDTH], line[KEY_WIDTH:]
    else:
        key, _separator, value = line.partition(" ")
    value = value.strip()
    legend = LEGEND.match(value)
    return key, legend.group("value") if legend else value


def parse_misc(text: str) -> Misc:
    """Parse misc text as rshim_fuse_misc_read prints it (fields, then an optional log section)."""
    fields: dict[str, str] = {}
    log: list[LogLine] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if set(line.strip()) == {"-"}:
            break
        pair = split_misc_line(line)
        if pair is not None:
            fields[pair[0]] = pair[1]
        index += 1
    has_log = index < len(lines)
    if has_log:
        index += 1
        if index < len(lines) and lines[index].strip() == "Log Messages":
            index += 1
        if index < len(lines) and set(lines[index].strip()) == {"-"}:
            index += 1
        log = [parse_log_line(line) for line in lines[index:] if line.strip()]
    return Misc(fields, tuple(log), has_log)


# BFB ----------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BfbSummary:
    """What the image headers of a BFB file say (checked before anything is pushed)."""

    size: int
    image_ids: tuple[int, ...]
    info: bytes = b""


def _bfb_header(raw: bytes, offset: int, path: str) -> tuple[int, int, int]:
    magic = struct.unpack_from("<I", raw)[0] if len(raw) >= 4 else BFB_MAGIC
    if len(raw) < BFB_HEADER.size and magic == BFB_MAGIC:
        raise RshimError("invalid_bfb", f"bfb {path!r}: truncated image header at byte {offset}")
    if magic != BFB_MAGIC:
        raise RshimError(
            "invalid_bfb", f"bfb {path!r} is not a BlueField boot stream: image header magic 0x{magic:08x} at byte {offset}, expected 0x{BFB_MAGIC:08x}"
        )
    word0, word1, following = BFB_HEADER.unpack(raw)
    major = (word0 >> 32) & 0xF
    if major != BFB_MAJOR:
        raise RshimError("invalid_bfb", f"bfb {path!r}: unsupported image header version {major} at byte {offset}")
    return (word0 >> 56) & 0xFF, word1 & 0xFFFFFFFF, following


def inspect_bfb(path: str) -> BfbSummary:
    """Walk the image headers of a BFB; raise RshimError(invalid_bfb) when it is not one."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as stream:
            ids: list[int] = []
            info = b""
            offset = 0
            while True:
                image_id, length, following = _bfb_header(stream.read(BFB_HEADER.size), offset, path)
                ids.append(image_id)
                padded = length + (-length % 8)
                if image_id == BFB_INFO_IMAGE_ID:
                    info = stream.read(length)
                    stream.seek(padded - length, os.SEEK_CUR)
                else:
                    stream.seek(padded, os.SEEK_CUR)
                offset += BFB_HEADER.size + padded
                if offset > size:
                    raise RshimError("invalid_bfb", f"bfb {path!r}: image ID {image_id} runs past the end of the file")
                if following == 0 or offset == size:
                    return BfbSummary(size, tuple(ids), info)
    except OSError as exc:
        raise RshimError("invalid_bfb", f"bfb {path!r} cannot be read: {exc.strerror}") from exc


@dataclass
class BootStream:
    """The bytes pushed into ``boot``: the BFB file, then bf.cfg if any."""

    bfb_path: str
    config: bytes = b""
    chunk_size: int = PUSH_CHUNK

    @property
    def size(self) -> int:
        return os.path.getsize(self.bfb_path) + len(self.config)

    def chunks(self) -> Iterator[bytes]:
        with open(self.bfb_path, "rb") as bfb:
            yield from iter(lambda: bfb.read(self.chunk_size), b"")
        for start in range(0, len(self.config), self.chunk_size):
            yield self.config[start : start + self.chunk_size]


# device -------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Holder:
    pid: int
    command: str


OPEN_ERRORS = {
    errno.ENOENT: ("missing", "{path} does not exist"),
    errno.EBUSY: ("busy", "{path} is busy: another process holds it open (a running bfb-install or cat?)"),
    errno.EINVAL: ("drop_mode", "{path} refused the open with EINVAL: the device is in DROP_MODE (another rshim endpoint such as the BMC owns it)"),
    errno.EPERM: ("locked", "{path} refused the open with EPERM: the device is locked (secure NIC mode); rshim cannot push a boot stream"),
    errno.ENODEV: ("gone", "{path}: the rshim device went away (ENODEV)"),
}


class RshimDevice:
    """One rshim device directory, ``<device_root>/<name>``."""

    def __init__(self, name: str, device_root: str = "/dev") -> None:
        if not DEVICE_NAME.match(name):
            raise RshimError("invalid", f"device={name!r}: expected an rshim device name such as rshim0")
        self.name = name
        self.device_root = device_root
        self.path = os.path.join(device_root, name)
        self.boot_path = os.path.join(self.path, "boot")
        self.misc_path = os.path.join(self.path, "misc")
        self.console_path = os.path.join(self.path, "console")

    def exists(self) -> bool:
        return os.path.exists(self.boot_path) and os.path.exists(self.misc_path)

    def available(self) -> list[str]:
        """rshim devices present under device_root."""
        try:
            names = os.listdir(self.device_root)
        except OSError:
            return []
        return sorted((name for name in names if DEVICE_NAME.match(name)), key=lambda name: int(name[5:]))

    def require(self) -> None:
        if self.exists():
            return
        others = ", ".join(self.available()) or "none"
        raise RshimError(
            "missing",
            f"device={self.name!r}: {self.boot_path} does not exist (rshim devices under {self.device_root}: {others}); "
            "is the rshim service running and does it own this DPU?",
        )

    def read_misc(self) -> Misc:
        return parse_misc(self.read_misc_text())

    def read_misc_text(self) -> str:
        fd = self._open(self.misc_path, os.O_RDONLY)
        try:
            chunks: list[bytes] = []
            total = 0
            while total < MISC_READ_LIMIT:
                chunk = os.read(fd, 64 * 1024)
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
        except OSError as exc:
            raise RshimError("io", f"reading {self.misc_path} failed: {exc.strerror}") from exc
        finally:
            os.close(fd)
        return b"".join(chunks).decode(errors="replace")

    def write_misc(self, key: str, value: int | str) -> None:
        """One ``KEY value`` command in one write, on a fresh open like ``echo KEY value > misc``."""
        command = f"{key} {value}\n".encode()
        fd = self._open(self.misc_path, os.O_WRONLY)
        try:
            os.write(fd, command)
        except OSError as exc:
            kind = "rejected" if exc.errno == errno.EINVAL else "io"
            raise RshimError(kind, f"{self.misc_path} rejected {key} {value}: {exc.strerror}") from exc
        finally:
            os.close(fd)

    def holders(self) -> list[Holder]:
        """Processes other than this one with ``boot`` open (scan of /proc/*/fd)."""
        target = os.path.realpath(self.boot_path)
        found: list[Holder] = []
        for entry in _proc_pids():
            if entry == os.getpid():
                continue
            if _holds(entry, target):
                found.append(Holder(entry, _command_line(entry)))
        return found

    def open_boot(self) -> int:
        return self._open(self.boot_path, os.O_WRONLY)

    def _open(self, path: str, flags: int) -> int:
        try:
            return os.open(path, flags | os.O_CLOEXEC)
        except OSError as exc:
            kind, template = OPEN_ERRORS.get(exc.errno or 0, ("io", "{path}: " + str(exc.strerror)))
            message = template.format(path=path)
            if exc.errno == errno.EBUSY:
                holders = self.holders()
                if holders:
                    message += " - held by " + ", ".join(f"pid {holder.pid} ({holder.command})" for holder in holders)
            raise RshimError(kind, message) from exc


def _proc_pids() -> list[int]:
    try:
        return [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []


def _holds(pid: int, target: str) -> bool:
    directory = f"/proc/{pid}/fd"
    try:
        descriptors = os.listdir(directory)
    except OSError:
        return False
    for descriptor in descriptors:
        try:
            if os.readlink(os.path.join(directory, descriptor)) == target:
                return True
        except OSError:
            continue
    return False


def _command_line(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace").strip() or "?"
    except OSError:
        return "?"


def check_can_push(device: RshimDevice, misc: Misc) -> None:
    """Refuse before touching ``boot`` when rshim would refuse it or another process holds it."""
    if misc.drop_mode:
        raise RshimError(
            "drop_mode",
            f"{device.path} is in DROP_MODE 1: rshim ignores the device (another endpoint such as the BMC owns it); "
            f"release it there or write 'DROP_MODE 0' to {device.misc_path} first",
        )
    if misc.secure_nic_mode:
        raise RshimError("locked", f"{device.path} is locked (SECURE_NIC_MODE 1): rshim cannot push a boot stream to a DPU in secure NIC mode")
    holders = device.holders()
    if holders:
        who = ", ".join(f"pid {holder.pid} ({holder.command})" for holder in holders)
        raise RshimError("busy", f"{device.boot_path} is busy: held open by {who}")


# log watching -------------------------------------------------------------------------------------------------------
class LogJudge:
    """Decides whether a log line means ready, failed, or neither."""

    def __init__(self, ready_pattern: str, ignore_error_patterns: Sequence[str] = ()) -> None:
        self.ready = re.compile(ready_pattern)
        self.ignored = [re.compile(pattern) for pattern in ignore_error_patterns]

    def is_error(self, line: LogLine) -> bool:
        failed = line.level in ERROR_LEVELS or bool(CRITICAL.search(line.text))
        return failed and not any(pattern.search(line.raw) for pattern in self.ignored)

    def is_ready(self, line: LogLine) -> bool:
        return bool(self.ready.search(line.text))


class LogWatcher:
    """Reads new log lines: DISPLAY_LEVEL 2 with CLEAR_ON_READ 1, restored afterwards."""

    def __init__(self, device: RshimDevice) -> None:
        self.device = device
        self.original_level: int | None = None

    def start(self) -> list[LogLine]:
        """Switch the log on and drain what is already there; returns those old lines."""
        misc = self.device.read_misc()
        self.original_level = misc.display_level
        self.device.write_misc("CLEAR_ON_READ", 1)
        self.device.write_misc("DISPLAY_LEVEL", 2)
        return list(misc.log) + self.poll()

    def poll(self) -> list[LogLine]:
        return list(self.device.read_misc().log)

    def stop(self) -> str | None:
        """Restore CLEAR_ON_READ 0 and the display level; returns a warning instead of raising."""
        try:
            self.device.write_misc("CLEAR_ON_READ", 0)
            self.device.write_misc("DISPLAY_LEVEL", self.original_level if self.original_level is not None else 0)
        except RshimError as exc:
            return f"could not restore the rshim display settings: {exc.message}"
        return None


# flashing -----------------------------------------------------------------------------------------------------------
@dataclass
class FlashOptions:
    stream: BootStream
    ready_pattern: str = DEFAULT_READY_PATTERN
    ignore_error_patterns: Sequence[str] = ()
    timeout: float = 1800.0
    poll_interval: float = 1.0


@dataclass
class FlashOutcome:
    ready_line: str
    log: list[str]
    previous_log: list[str]
    bytes_pushed: int
    elapsed: float
    warnings: list[str] = field(default_factory=list)


class Flasher:
    """Pushes a boot stream and follows the rshim log until the DPU is ready, fails, or time runs out."""

    def __init__(
        self,
        device: RshimDevice,
        options: FlashOptions,
        sink: Callable[[str], None] = lambda _line: None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.device = device
        self.options = options
        self.judge = LogJudge(options.ready_pattern, options.ignore_error_patterns)
        self.sink = sink
        self.clock = clock
        self.sleep = sleep
        self.log: list[str] = []
        self.bytes_pushed = 0
        self._started = 0.0
        self._deadline = 0.0
        self._next_poll = 0.0
        self._ready: str | None = None

    def run(self) -> FlashOutcome:
        self._started = self.clock()
        self._deadline = self._started + self.options.timeout
        watcher = LogWatcher(self.device)
        try:
            previous = [str(line) for line in watcher.start()]
            for line in previous:
                self.sink(f"# before push: {line}")
            self._push(watcher)
            self._wait(watcher)
        finally:
            warning = watcher.stop()
        if self._ready is None:  # _wait() returns only once a ready line was seen
            raise RshimError("internal", "no ready line after waiting")
        return FlashOutcome(self._ready, self.log, previous, self.bytes_pushed, self.clock() - self._started, [warning] if warning else [])

    def _push(self, watcher: LogWatcher) -> None:
        total = self.options.stream.size
        self.sink(f"# pushing {total} bytes into {self.device.boot_path}")
        fd = self.device.open_boot()
        next_mark = 10
        try:
            for chunk in self.options.stream.chunks():
                self._write_all(fd, chunk, total, watcher)
                percent = self.bytes_pushed * 100 // total if total else 100
                if percent >= next_mark:
                    self.sink(f"# pushed {self.bytes_pushed}/{total} bytes ({percent}%)")
                    next_mark = percent // 10 * 10 + 10
                if self._due():
                    self._take(watcher.poll())
                if self.clock() >= self._deadline:
                    self._fail("timeout", f"timed out after {self.options.timeout:g} s while pushing the boot stream ({self.bytes_pushed} of {total} bytes)")
        finally:
            os.close(fd)

    def _write_all(self, fd: int, chunk: bytes, total: int, watcher: LogWatcher) -> None:
        view = memoryview(chunk)
        while view:
            try:
                written = os.write(fd, view)
            except OSError as exc:
                self._record(self._final_lines(watcher))
                if exc.errno == errno.ETIMEDOUT:
                    self._fail(
                        "stalled",
                        f"the DPU stopped taking the boot stream after {self.bytes_pushed} of {total} bytes "
                        "(rshim BOOT_TIMEOUT expired: the Arm side is not reading it)",
                    )
                self._fail("io", f"writing {self.device.boot_path} failed after {self.bytes_pushed} of {total} bytes: {exc.strerror}")
            self.bytes_pushed += written
            view = view[written:]

    def _wait(self, watcher: LogWatcher) -> None:
        self.sink("# boot stream pushed; waiting for the DPU")
        while self._ready is None:
            self._take(watcher.poll())
            if self._ready is not None:
                return
            if self.clock() >= self._deadline:
                self._fail("timeout", f"timed out after {self.options.timeout:g} s waiting for a log line matching {self.options.ready_pattern!r}")
            self.sleep(max(0.0, min(self.options.poll_interval, self._deadline - self.clock())))

    def _due(self) -> bool:
        now = self.clock()
        if now < self._next_poll:
            return False
        self._next_poll = now + self.options.poll_interval
        return True

    def _record(self, lines: Sequence[LogLine]) -> None:
        for line in lines:
            self.log.append(str(line))
            self.sink(line.raw.rstrip("\n"))

    def _take(self, lines: Sequence[LogLine]) -> None:
        """Record lines; stop at the first error line (after recording the rest of the snapshot)."""
        for index, line in enumerate(lines):
            if self.judge.is_error(line):
                anchor = len(self.log) + index
                self._record(lines)
                self._fail("dpu_error", f"the DPU reported an error: {line}", anchor=anchor)
            if self._ready is None and self.judge.is_ready(line):
                self._ready = str(line)
        self._record(lines)

    def _final_lines(self, watcher: LogWatcher) -> list[LogLine]:
        try:
            return watcher.poll()
        except RshimError:
            return []

    def _fail(self, kind: str, message: str, anchor: int | None = None) -> None:
        """Raise FlashError with the lines leading to the failure (the full log keeps what came after)."""
        last = len(self.log) - 1 if anchor is None else anchor
        excerpt = self.log[max(0, last - EXCERPT_LINES + 1) : last + 1]
        self.sink(f"# FAILED: {message}")
        raise FlashError(kind, message, self.log, excerpt, self.bytes_pushed)


def boot_mode_name(value: int | None) -> str | None:
    return None if value is None else BOOT_MODES.get(value, "unknown")
