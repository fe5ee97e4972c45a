"""Unit tests of plugins/module_utils/_rshim.py: misc parsing, BFB checks, device errors, the flash loop.

The misc texts below are written the way rshim-user-space's rshim_fuse_misc_read prints them (``%-16s`` keys,
legends in parentheses, the log section of rshim_log_show), not produced by any code of this collection.
"""

from __future__ import annotations

import errno
import os
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

COLLECTIONS = Path(__file__).resolve().parents[4] / ".build" / "collections"
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))

from ansible_collections.diskless.datacenter.plugins.module_utils import _rshim as rshim

BF2_LEVEL0 = """\
DISPLAY_LEVEL   0 (0:basic, 1:advanced, 2:log)
BOOT_MODE       1 (0:rshim, 1:emmc, 2:emmc-boot-swap)
BOOT_TIMEOUT    300 (seconds)
USB_TIMEOUT     40 (seconds)
DROP_MODE       0 (0:normal, 1:drop)
SW_RESET        0 (1: reset)
DEV_NAME        pcie-0000:03:00.2
DEV_INFO        BlueField-2(Rev 1)
OPN_STR         MBF2H332A-AEEOT
FORCE_CMD       0 (1: send Force command)
"""
LEVEL1_TAIL = """\
BOOT_RESET_SKIP 0 (1: skip)
PEER_MAC        00:1a:ca:ff:ff:01 (rw)
PXE_ID          0x01020304 (rw)
VLAN_ID         10 20 (rw)
CLEAR_ON_READ   1 (0:no, 1:yes)
"""
LOG_HEADER = "---------------------------------------\n             Log Messages\n---------------------------------------\n"
BF3_LOCKED = """\
DISPLAY_LEVEL   2 (0:basic, 1:advanced, 2:log)
BF_MODE         NIC mode
BOOT_MODE       0 (0:rshim, 1:emmc, 2:emmc-boot-swap)
BOOT_TIMEOUT    150 (seconds)
USB_TIMEOUT     40 (seconds)
DROP_MODE       1 (0:normal, 1:drop)
SW_RESET        0 (1: reset)
DEV_NAME        pcie-0000:65:00.1
DEV_INFO        BlueField-3(Rev 1)
OPN_STR         N/A
UP_TIME         179752(s)
SECURE_NIC_MODE 1 (0:no, 1:yes)
FORCE_CMD       0 (1: send Force command)
"""


def misc_with_log(*lines: str, level: int = 2) -> str:
    text = BF2_LEVEL0.replace("DISPLAY_LEVEL   0", f"DISPLAY_LEVEL   {level}")
    return text + LOG_HEADER + "".join(f"{line}\n" for line in lines)


def bfb_header(image_id: int, length: int, following: int, magic: int = rshim.BFB_MAGIC, major: int = 1) -> bytes:
    """Image header laid out as mlx-mkbfb documents it (magic, versions, header words, ID | length, CRC | next IDs)."""
    word0 = magic | major << 32 | 2 << 36 | 3 << 52 | image_id << 56
    return struct.pack("<QQQ", word0, length, following)


def write_bfb(path: Path, images: list[tuple[int, bytes]]) -> Path:
    out = b""
    for index, (image_id, data) in enumerate(images):
        following = 0 if index == len(images) - 1 else 1 << images[index + 1][0]
        out += bfb_header(image_id, len(data), following) + data + b"\0" * (-len(data) % 8)
    path.write_bytes(out)
    return path


# misc parsing ---------------------------------------------------------------------------------------------------
def test_level0_fields_lose_their_legends() -> None:
    misc = rshim.parse_misc(BF2_LEVEL0)
    assert misc.fields == {
        "DISPLAY_LEVEL": "0",
        "BOOT_MODE": "1",
        "BOOT_TIMEOUT": "300",
        "USB_TIMEOUT": "40",
        "DROP_MODE": "0",
        "SW_RESET": "0",
        "DEV_NAME": "pcie-0000:03:00.2",
        "DEV_INFO": "BlueField-2(Rev 1)",
        "OPN_STR": "MBF2H332A-AEEOT",
        "FORCE_CMD": "0",
    }
    assert (misc.display_level, misc.integer("BOOT_MODE"), misc.integer("BOOT_TIMEOUT")) == (0, 1, 300)
    assert (misc.chip, misc.revision, misc.drop_mode) == ("BlueField-2", 1, False)
    assert misc.secure_nic_mode is None and misc.nic_mode is None
    assert misc.log == () and not misc.has_log_section


def test_level1_fields() -> None:
    misc = rshim.parse_misc(BF2_LEVEL0 + LEVEL1_TAIL)
    assert misc.fields["PEER_MAC"] == "00:1a:ca:ff:ff:01"
    assert misc.fields["VLAN_ID"] == "10 20"
    assert misc.integer("PXE_ID") == 0x01020304
    assert misc.integer("CLEAR_ON_READ") == 1


def test_bluefield3_locked_nic_mode_in_drop_mode() -> None:
    misc = rshim.parse_misc(BF3_LOCKED + LOG_HEADER)
    assert misc.chip == "BlueField-3"
    assert misc.nic_mode is True
    assert misc.secure_nic_mode is True
    assert misc.drop_mode is True
    assert misc.integer("UP_TIME") == 179752
    assert misc.has_log_section and misc.log == ()


def test_sixteen_character_key_has_no_separator() -> None:
    assert rshim.split_misc_line("ABCDEFGHIJKLMNOP7 (x)") == ("ABCDEFGHIJKLMNOP", "7")
    assert rshim.split_misc_line("SECURE_NIC_MODE 1 (0:no, 1:yes)") == ("SECURE_NIC_MODE", "1")


def test_log_section_lines() -> None:
    misc = rshim.parse_misc(
        misc_with_log(
            " INFO[BL2]: start",
            " ERR[MISC]: Installation failed",
            " ASSERT[BL31]: bad state",
            " PANIC(BL31): PC = 0xe0012a40",
            "   elr_el3         0xe0012a40",
            " Exception(UEFI): syndrome = 0x96000010(Data Abort)",
        )
    )
    assert [(line.level, line.source, line.text) for line in misc.log] == [
        ("INFO", "BL2", "start"),
        ("ERR", "MISC", "Installation failed"),
        ("ASSERT", "BL31", "bad state"),
        ("PANIC", "BL31", "PC = 0xe0012a40"),
        (None, None, "elr_el3         0xe0012a40"),
        ("Exception", "UEFI", "syndrome = 0x96000010(Data Abort)"),
    ]
    assert str(misc.log[1]) == "ERR[MISC]: Installation failed"


def test_judge() -> None:
    judge = rshim.LogJudge("DPU is ready", [r"Retrying\.\.\."])
    line = rshim.parse_log_line
    assert judge.is_error(line(" ERR[MISC]: Installation failed"))
    assert judge.is_error(line(" ASSERT[BL31]: x"))
    assert judge.is_error(line(" PANIC(BL31): PC = 0x1"))
    assert judge.is_error(line(" INFO[MISC]: CRITICAL ERROR: eMMC gone"))
    assert judge.is_error(line(" INFO[MISC]: CRITICAL ERR eMMC gone"))  # "ERROR:" after the installer's rlog()
    assert not judge.is_error(line(" ERR[MISC]: Failed to add Ubuntu0 boot entry. Retrying..."))
    assert not judge.is_error(line(" WARN[MISC]: Dual boot is not supported"))
    assert judge.is_ready(line(" INFO[MISC]: DPU is ready"))
    assert not judge.is_ready(line(" INFO[MISC]: Linux up"))
    assert rshim.LogJudge("Linux up").is_ready(line(" INFO[MISC]: Linux up"))


# BFB ------------------------------------------------------------------------------------------------------------
def test_inspect_bfb_walks_the_chain(tmp_path: Path) -> None:
    info = b'{"Members": []}'
    path = write_bfb(tmp_path / "ok.bfb", [(1, b"bl2"), (50, info), (62, b"kernel" * 10)])
    summary = rshim.inspect_bfb(str(path))
    assert summary.image_ids == (1, 50, 62)
    assert summary.info == info
    assert summary.size == path.stat().st_size


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"#!/bin/sh\necho this is not a bfb\n" * 3, "is not a BlueField boot stream: image header magic 0x622f2123 at byte 0"),
        (bfb_header(1, 8, 0, major=2) + b"\0" * 8, "unsupported image header version 2"),
        (bfb_header(1, 4096, 0) + b"short", "runs past the end of the file"),
        (b"Bf\x02\x13", "truncated image header at byte 0"),
        (b"PK\x03\x04", "is not a BlueField boot stream: image header magic 0x04034b50"),
    ],
)
def test_inspect_bfb_refuses(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.bfb"
    path.write_bytes(content)
    with pytest.raises(rshim.RshimError, match=message) as raised:
        rshim.inspect_bfb(str(path))
    assert raised.value.kind == "invalid_bfb"


def test_inspect_bfb_missing_file(tmp_path: Path) -> None:
    with pytest.raises(rshim.RshimError, match="cannot be read"):
        rshim.inspect_bfb(str(tmp_path / "nope.bfb"))


def test_boot_stream_is_bfb_then_config(tmp_path: Path) -> None:
    path = write_bfb(tmp_path / "ok.bfb", [(62, b"x" * 100)])
    stream = rshim.BootStream(str(path), b"UPDATE_DPU_OS=yes\n", chunk_size=7)
    data = b"".join(stream.chunks())
    assert data == path.read_bytes() + b"UPDATE_DPU_OS=yes\n"
    assert stream.size == len(data)


# device ---------------------------------------------------------------------------------------------------------
def make_device_dir(root: Path, name: str = "rshim0", misc: str = BF2_LEVEL0) -> rshim.RshimDevice:
    directory = root / name
    directory.mkdir(parents=True)
    (directory / "boot").write_bytes(b"")
    (directory / "misc").write_text(misc)
    return rshim.RshimDevice(name, str(root))


def test_device_name_is_validated() -> None:
    with pytest.raises(rshim.RshimError, match=r"device='\.\./etc': expected an rshim device name"):
        rshim.RshimDevice("../etc")


def test_missing_device_names_the_others(tmp_path: Path) -> None:
    make_device_dir(tmp_path, "rshim1")
    make_device_dir(tmp_path, "rshim10")
    device = rshim.RshimDevice("rshim0", str(tmp_path))
    with pytest.raises(rshim.RshimError, match=r"rshim devices under .*: rshim1, rshim10") as raised:
        device.require()
    assert raised.value.kind == "missing"


def test_holders_finds_another_process(tmp_path: Path) -> None:
    device = make_device_dir(tmp_path)
    code = "import sys, time; f = open(sys.argv[1], 'ab'); print('open', flush=True); time.sleep(60)"
    holder = subprocess.Popen([sys.executable, "-c", code, device.boot_path], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        holders = device.holders()
        assert [entry.pid for entry in holders] == [holder.pid]
        assert device.boot_path in holders[0].command
        with pytest.raises(rshim.RshimError, match=f"held open by pid {holder.pid}") as raised:
            rshim.check_can_push(device, rshim.parse_misc(BF2_LEVEL0))
        assert raised.value.kind == "busy"
    finally:
        holder.kill()
        holder.wait()
    assert device.holders() == []


def test_own_open_file_does_not_count(tmp_path: Path) -> None:
    device = make_device_dir(tmp_path)
    with open(device.boot_path, "ab"):
        assert device.holders() == []


@pytest.mark.parametrize(
    ("misc", "kind"),
    [(BF2_LEVEL0.replace("DROP_MODE       0", "DROP_MODE       1"), "drop_mode"), (BF3_LOCKED.replace("DROP_MODE       1", "DROP_MODE       0"), "locked")],
)
def test_check_can_push_reads_misc(tmp_path: Path, misc: str, kind: str) -> None:
    device = make_device_dir(tmp_path)
    with pytest.raises(rshim.RshimError) as raised:
        rshim.check_can_push(device, rshim.parse_misc(misc))
    assert raised.value.kind == kind


@pytest.mark.parametrize(
    ("error", "kind", "words"),
    [
        (errno.EBUSY, "busy", "busy"),
        (errno.EINVAL, "drop_mode", "DROP_MODE"),
        (errno.EPERM, "locked", "locked"),
        (errno.ENOENT, "missing", "does not exist"),
        (errno.ENODEV, "gone", "went away"),
        (errno.EIO, "io", "Input/output error"),
    ],
)
def test_open_errors_are_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: int, kind: str, words: str) -> None:
    device = make_device_dir(tmp_path)

    def refuse(path: str, flags: int, *args: object) -> int:
        raise OSError(error, os.strerror(error), path)

    monkeypatch.setattr(rshim.os, "open", refuse)
    with pytest.raises(rshim.RshimError, match=words) as raised:
        device.open_boot()
    assert raised.value.kind == kind


def test_misc_round_trip_on_files(tmp_path: Path) -> None:
    device = make_device_dir(tmp_path)
    assert device.read_misc().fields["DEV_NAME"] == "pcie-0000:03:00.2"
    device.write_misc("DISPLAY_LEVEL", 2)  # one write, no truncation: a character device has no length
    assert (tmp_path / "rshim0" / "misc").read_text().startswith("DISPLAY_LEVEL 2\n")


# the flash loop against a scripted device -----------------------------------------------------------------------
class ScriptedDevice(rshim.RshimDevice):
    """misc answers come from a script (one per read, the last repeats); boot goes to a file."""

    def __init__(self, root: Path, script: list[str]) -> None:
        super().__init__("rshim0", str(root))
        (root / "rshim0").mkdir()
        self.script = script
        self.reads = 0
        self.writes: list[str] = []
        self.pushed = root / "pushed.bin"

    def read_misc_text(self) -> str:
        text = self.script[min(self.reads, len(self.script) - 1)]
        self.reads += 1
        return text

    def write_misc(self, key: str, value: int | str) -> None:
        self.writes.append(f"{key} {value}")

    def open_boot(self) -> int:
        return os.open(self.pushed, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def bfb(tmp_path: Path) -> Path:
    return write_bfb(tmp_path / "image.bfb", [(1, b"bl2" * 100), (62, b"kernel" * 1000)])


def run_flash(device: ScriptedDevice, bfb: Path, clock: FakeClock, sink: Callable[[str], None] | None = None, **options: object) -> rshim.FlashOutcome:
    settings = rshim.FlashOptions(rshim.BootStream(str(bfb), b"UPDATE_DPU_OS=yes\n"), **options)  # type: ignore[arg-type]
    return rshim.Flasher(device, settings, sink or (lambda _line: None), clock=clock, sleep=clock.sleep).run()


def test_flash_sets_aside_old_lines_and_waits_for_ready(tmp_path: Path, bfb: Path) -> None:
    device = ScriptedDevice(
        tmp_path,
        [
            BF2_LEVEL0,
            misc_with_log(" INFO[MISC]: Linux up", " INFO[MISC]: DPU is ready"),
            misc_with_log(" INFO[BL2]: start"),
            misc_with_log(" INFO[MISC]: Installation finished", " INFO[MISC]: Rebooting..."),
            misc_with_log(),
            misc_with_log(" INFO[MISC]: Linux up", " INFO[MISC]: DPU is ready"),
        ],
    )
    sink: list[str] = []
    clock = FakeClock()
    outcome = run_flash(device, bfb, clock, sink.append, poll_interval=5.0)
    assert outcome.previous_log == ["INFO[MISC]: Linux up", "INFO[MISC]: DPU is ready"]
    assert outcome.log == [
        "INFO[BL2]: start",
        "INFO[MISC]: Installation finished",
        "INFO[MISC]: Rebooting...",
        "INFO[MISC]: Linux up",
        "INFO[MISC]: DPU is ready",
    ]
    assert outcome.ready_line == "INFO[MISC]: DPU is ready"
    assert device.pushed.read_bytes() == bfb.read_bytes() + b"UPDATE_DPU_OS=yes\n"
    assert outcome.bytes_pushed == device.pushed.stat().st_size
    assert device.writes == ["CLEAR_ON_READ 1", "DISPLAY_LEVEL 2", "CLEAR_ON_READ 0", "DISPLAY_LEVEL 0"]
    assert "# before push: INFO[MISC]: DPU is ready" in sink
    assert " INFO[MISC]: Rebooting..." in sink
    assert any(line.startswith("# pushed ") and line.endswith("(100%)") for line in sink)
    assert outcome.elapsed == pytest.approx(10.0)


def test_flash_fails_on_an_error_line_with_the_lines_before_it(tmp_path: Path, bfb: Path) -> None:
    before = [f" INFO[MISC]: step {number}" for number in range(20)]
    device = ScriptedDevice(
        tmp_path,
        [
            BF2_LEVEL0.replace("DISPLAY_LEVEL   0", "DISPLAY_LEVEL   1"),
            misc_with_log(),
            misc_with_log(*before),
            misc_with_log(" INFO[MISC]: Failed to access target device: /dev/mmcblk0", " ERR[MISC]: Installation failed", " INFO[BL2]: start"),
        ],
    )
    with pytest.raises(rshim.FlashError, match=r"the DPU reported an error: ERR\[MISC\]: Installation failed") as raised:
        run_flash(device, bfb, FakeClock())
    error = raised.value
    assert error.kind == "dpu_error"
    assert error.excerpt[-2:] == ["INFO[MISC]: Failed to access target device: /dev/mmcblk0", "ERR[MISC]: Installation failed"]
    assert len(error.excerpt) == rshim.EXCERPT_LINES
    assert error.log[-1] == "INFO[BL2]: start"
    assert device.writes[-2:] == ["CLEAR_ON_READ 0", "DISPLAY_LEVEL 1"]


def test_flash_times_out_naming_the_pattern(tmp_path: Path, bfb: Path) -> None:
    device = ScriptedDevice(tmp_path, [BF2_LEVEL0, misc_with_log(), misc_with_log(" INFO[UEFI]: PCIe enum end"), misc_with_log()])
    clock = FakeClock()
    with pytest.raises(rshim.FlashError, match=r"timed out after 30 s waiting for a log line matching 'Linux up'") as raised:
        run_flash(device, bfb, clock, ready_pattern="Linux up", timeout=30.0, poll_interval=4.0)
    assert raised.value.kind == "timeout"
    assert raised.value.excerpt == ["INFO[UEFI]: PCIe enum end"]
    assert clock.now == pytest.approx(1030.0)


def test_flash_write_error_reports_progress_and_log(tmp_path: Path, bfb: Path) -> None:
    device = ScriptedDevice(tmp_path, [BF2_LEVEL0, misc_with_log(), misc_with_log(" ERR[BL1]: PSC error -60")])
    reader, writer = os.pipe()
    os.close(reader)
    device.open_boot = lambda: writer  # type: ignore[method-assign]
    with pytest.raises(rshim.FlashError, match=r"failed after 0 of \d+ bytes: Broken pipe") as raised:
        run_flash(device, bfb, FakeClock())
    assert raised.value.excerpt == ["ERR[BL1]: PSC error -60"]
    with pytest.raises(OSError, match="Bad file descriptor"):
        os.fstat(writer)


def test_monotonic_default_clock_is_used(tmp_path: Path, bfb: Path) -> None:
    device = ScriptedDevice(tmp_path, [BF2_LEVEL0, misc_with_log(), misc_with_log(" INFO[MISC]: DPU is ready")])
    started = time.monotonic()
    outcome = rshim.Flasher(device, rshim.FlashOptions(rshim.BootStream(str(bfb)), poll_interval=0.01)).run()
    assert outcome.ready_line == "INFO[MISC]: DPU is ready"
    assert 0 <= outcome.elapsed <= time.monotonic() - started
