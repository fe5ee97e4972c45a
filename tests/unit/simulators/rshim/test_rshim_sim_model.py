"""The simulator's building blocks against the documented formats (no mount needed).

Expected values come from rshim-user-space (rshim_log.c, rshim_fuse.c, rshim_regs.h, mlx-mkbfb), Linux
mlxbf-bootctl (rsh_log_store) and bfb-build (rlog), quoted in the simulator modules' docstrings.
"""

from __future__ import annotations

import errno
import struct

import pytest

from lab.simulators.rshim import bfb
from lab.simulators.rshim.device import scan_int
from lab.simulators.rshim.rshlog import CAPACITY_WORDS, SECTION_HEADER, Crash, LogBuffer, installer_log


@pytest.mark.parametrize(
    ("installer_message", "shown"),
    [
        ("INFO: Installation finished", " INFO[MISC]: Installation finished\n"),
        ("ERR Installation failed", " ERR[MISC]: Installation failed\n"),
        ("ERROR: Failed to update eMMC", " ERR[MISC]: Failed to update eMMC\n"),
        ("WARNING: shred utility was not found", " WARN[MISC]: shred utility was not found\n"),
        ("Installing OS image", " INFO[MISC]: Installing OS image\n"),
        ("INFO: Rebooting...", " INFO[MISC]: Rebooting...\n"),
    ],
)
def test_installer_messages_as_rshim_shows_them(installer_message: str, shown: str) -> None:
    log = LogBuffer()
    assert log.write_from_linux(installer_log(installer_message) + "\n")
    assert log.show(clear_on_read=False) == SECTION_HEADER + shown


def test_bfrshlog_level_needs_more_text_than_the_level_name() -> None:
    log = LogBuffer()
    log.write_from_linux("ERR")  # len("ERR") + 1 is not < 3: stays an INFO message
    log.write_from_linux("ASSERT x")
    assert log.show(clear_on_read=False) == SECTION_HEADER + " INFO[MISC]: ERR\n ASSERT[MISC]: x\n"


def test_word_accounting_and_capacity() -> None:
    log = LogBuffer()
    assert log.write_message(0, 0, "12345678")  # one data word + header
    assert log.index == 2
    assert log.write_message(0, 0, "123456789")  # two data words + header
    assert log.index == 5
    while log.write_message(0, 2, "x" * 40):  # 6 words each until the buffer is full
        pass
    assert log.index == CAPACITY_WORDS
    assert not log.write_message(0, 0, "lost")


def test_last_message_is_cut_to_the_space_left() -> None:
    log = LogBuffer()
    for _attempt in range(20):
        log.write_message(0, 2, "y" * 40)  # 20 * (1 + 5) = 120 words
    log.write_message(0, 0, "abc")  # 122
    # 5 data words wanted; 122 + 5 + 1 >= 127, so 127 - 122 - 1 = 4 words (32 bytes) are kept
    assert log.write_message(0, 0, "DPU is ready, and more text after it")
    assert log.index == CAPACITY_WORDS
    assert not log.write_message(0, 0, "DPU is ready")
    assert log.show(clear_on_read=False).splitlines()[-1] == " INFO[MISC]: DPU is ready, and more text afte"


def test_nothing_listed_while_the_index_is_at_most_one() -> None:
    log = LogBuffer()
    assert log.show(clear_on_read=True) == SECTION_HEADER


def test_clear_on_read() -> None:
    log = LogBuffer()
    log.write_message(2, 4, "boom")
    assert log.show(clear_on_read=False).endswith(" ERR[BL31]: boom\n")
    assert log.show(clear_on_read=True).endswith(" ERR[BL31]: boom\n")
    assert log.show(clear_on_read=True) == SECTION_HEADER


def test_crash_entries() -> None:
    log = LogBuffer()
    log.write_crash(Crash("PANIC", 4, 0xE0012A40, (("elr_el3", 0xE0012A40), ("far_el3", 0))))
    log.write_crash(Crash("Exception", 5, 0x96000010, ()))
    assert log.show(clear_on_read=False) == SECTION_HEADER + (
        " PANIC(BL31): PC = 0xe0012a40\n   elr_el3         0xe0012a40\n   far_el3         0x0\n Exception(UEFI): syndrome = 0x96000010\n"
    )


def test_bfb_magic_is_bf_on_disk() -> None:
    header = bfb.pack_header(62, b"data", 0)
    assert header[:4] == b"Bf\x02\x13"
    word0, word1, following = struct.unpack("<QQQ", header)
    assert (word0 >> 32) & 0xF == 1 and (word0 >> 52) & 0xF == 3 and word0 >> 56 == 62
    assert word1 & 0xFFFFFFFF == 4 and following == 0


def test_parser_reads_a_stream_in_any_pieces() -> None:
    stream = bfb.make_bfb("2.9.1") + b"UPDATE_DPU_OS=yes\n\0\0\0"
    parser = bfb.BootStreamParser()
    for start in range(0, len(stream), 1000):
        parser.feed(stream[start : start + 1000])
    assert parser.complete and parser.error is None
    assert [image.image_id for image in parser.images] == [1, 3, 5, 59, 50, 62, 63]
    assert parser.bf_cfg() == "UPDATE_DPU_OS=yes\n"
    assert parser.doca_version() == "2.9.1"
    assert parser.received == len(stream)


@pytest.mark.parametrize(
    ("stream", "message"),
    [
        (b"\x7fELF" + b"\0" * 60, "bad image header magic 0x464c457f"),
        (bfb.make_bfb(corrupt_crc=True), "CRC mismatch in image ID 1"),
        (bfb.pack_header(1, b"x", 0)[:4] + struct.pack("<I", 1 | 3 << 4 | 3 << 20) + b"\0" * 16, "unsupported image header version 1.3"),
    ],
)
def test_parser_refuses_what_the_boot_loader_would(stream: bytes, message: str) -> None:
    parser = bfb.BootStreamParser()
    parser.feed(stream)
    assert parser.error is not None and message in parser.error
    assert not parser.complete
    assert parser.error_offset >= bfb.HEADER.size


@pytest.mark.parametrize(("text", "base", "value"), [(" 2", 10, 2), ("10", 16, 16), (" 0x1f", 16, 31), ("-1", 10, -1), ("7 (rest)", 10, 7)])
def test_scan_int_like_sscanf(text: str, base: int, value: int) -> None:
    assert scan_int(text, base) == value


def test_scan_int_without_digits_is_einval() -> None:
    with pytest.raises(OSError) as raised:
        scan_int(" x", 10)
    assert raised.value.errno == errno.EINVAL
