"""The mounted simulator against documented rshim-user-space behaviour, through plain system calls.

Every expectation cites its source: rshim.c (boot open/release/write, drop and locked modes, console open),
rshim_fuse.c (misc text and commands), rshim_log.c (log section), bfb-build install.sh / install.env/common (the
installer's lines and their order), bfscripts bfup (``Linux up``, ``DPU is ready``), the NVIDIA troubleshooting
guide (``ERR[BL1]: PSC error -60`` and ``write error: Connection timed out``).
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lab.simulators.rshim.bfb import make_bfb
from lab.simulators.rshim.launcher import RshimSimulator, is_mounted

SPEED = 100.0  # fast, yet slow enough that a loaded machine still drains the 127-word log buffer in time
WAIT = 15.0
BF_CFG = """UPDATE_ATF_UEFI=no
ubuntu_PASSWORD='$6$salt$hash'
bfb_pre_install()
{
\t:
}
bfb_modify_os()
{
\techo dpu0 > /mnt/etc/hostname
}
"""
BF2_LEVEL0 = (
    "DISPLAY_LEVEL   0 (0:basic, 1:advanced, 2:log)\n"
    "BOOT_MODE       1 (0:rshim, 1:emmc, 2:emmc-boot-swap)\n"
    "BOOT_TIMEOUT    300 (seconds)\n"
    "USB_TIMEOUT     40 (seconds)\n"
    "DROP_MODE       0 (0:normal, 1:drop)\n"
    "SW_RESET        0 (1: reset)\n"
    "DEV_NAME        pcie-0000:03:00.2\n"
    "DEV_INFO        BlueField-2(Rev 1)\n"
    "OPN_STR         MBF2H332A-AEEOT\n"
    "FORCE_CMD       0 (1: send Force command)\n"
)


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[Callable[..., RshimSimulator]]:
    started: list[RshimSimulator] = []

    def start(scenario: str = "success", *extra: str) -> RshimSimulator:
        sim = RshimSimulator(tmp_path / f"dev{len(started)}", scenario, *extra, speed=SPEED)
        started.append(sim)
        return sim.start()

    yield start
    for sim in started:
        sim.stop()
        assert not is_mounted(sim.device_dir)


def read(path: Path) -> str:
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, 65536).decode()
    finally:
        os.close(fd)


def write(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def misc_errno(sim: RshimSimulator, text: str) -> int:
    with pytest.raises(OSError) as raised:
        write(sim.device_dir / "misc", text)
    return raised.value.errno or 0


def log_lines(sim: RshimSimulator) -> list[str]:
    text = read(sim.device_dir / "misc")
    marker = "             Log Messages\n---------------------------------------\n"
    return text.split(marker, 1)[1].splitlines() if marker in text else []


def push(sim: RshimSimulator, data: bytes) -> None:
    fd = os.open(sim.device_dir / "boot", os.O_WRONLY)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def follow_log(sim: RshimSimulator, until: Callable[[dict[str, object], list[str]], bool]) -> list[str]:
    """Collect log lines (CLEAR_ON_READ 1 must be set) until the condition holds or WAIT runs out."""
    lines: list[str] = []
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        lines += log_lines(sim)
        if until(sim.state(), lines):
            # The device logs before it changes phase: lines written between our read and the state read are
            # in the buffer now, so drain once more.
            return lines + log_lines(sim)
        time.sleep(0.02)
    raise AssertionError(f"condition not reached; state {sim.state()}, log {lines}")


def wait_state(sim: RshimSimulator, condition: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The release of a closed file reaches the simulator after close() returns: wait for its effect."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        state = sim.state()
        if condition(state):
            return state
        time.sleep(0.02)
    raise AssertionError(f"condition not reached; state {sim.state()}")


def watch(sim: RshimSimulator) -> None:
    write(sim.device_dir / "misc", "CLEAR_ON_READ 1")
    write(sim.device_dir / "misc", "DISPLAY_LEVEL 2")
    log_lines(sim)  # the previous boot's lines


# misc -----------------------------------------------------------------------------------------------------------
def test_misc_text_is_formatted_like_rshim(simulator: Callable[..., RshimSimulator]) -> None:
    sim = simulator()
    assert sorted(os.listdir(sim.device_dir)) == ["boot", "console", "misc"]
    assert read(sim.device_dir / "misc") == BF2_LEVEL0


def test_misc_is_one_snapshot_per_open(simulator: Callable[..., RshimSimulator]) -> None:
    sim = simulator()
    fd = os.open(sim.device_dir / "misc", os.O_RDONLY)
    try:
        assert os.read(fd, 20) == BF2_LEVEL0.encode()[:20]
        assert os.read(fd, 65536) == b""  # rshim_fuse_misc_read: the next read of the same open file is EOF
    finally:
        os.close(fd)


def test_misc_commands(simulator: Callable[..., RshimSimulator]) -> None:
    sim = simulator()
    misc = sim.device_dir / "misc"
    write(misc, "BOOT_MODE 6\n")  # hex, masked with 3
    assert "BOOT_MODE       2 (" in read(misc)
    write(misc, "BOOT_MODE 10")  # 0x10 & 3
    assert "BOOT_MODE       0 (" in read(misc)
    write(misc, "USB_TIMEOUT 0")  # 0 restores the default 40
    assert "USB_TIMEOUT     40 (seconds)" in read(misc)
    write(misc, "DISPLAY_LEVEL 1")
    write(misc, "PXE_ID 1f")
    write(misc, "VLAN_ID 5")
    write(misc, "BOOT_RESET_SKIP 1")
    level1 = read(misc)
    assert level1.endswith(
        "BOOT_RESET_SKIP 1 (1: skip)\n"
        "PEER_MAC        00:1a:ca:ff:ff:01 (rw)\n"
        "PXE_ID          0x0000001f (rw)\n"
        "VLAN_ID         5 0 (rw)\n"
        "CLEAR_ON_READ   0 (0:no, 1:yes)\n"
    )
    assert misc_errno(sim, "USB_TIMEOUT 301") == errno.EINVAL
    assert misc_errno(sim, "NO_SUCH_KEY 1") == errno.EINVAL
    assert misc_errno(sim, "DISPLAY_LEVEL two") == errno.EINVAL
    assert misc_errno(sim, "FORCE_CMD 1") == errno.EINVAL  # only in drop mode
    assert misc_errno(sim, "PEER_MAC 00:11:22") == errno.EINVAL
    assert misc_errno(sim, " DISPLAY_LEVEL 2") == errno.EINVAL  # the value is read from buffer + strlen(key)
    assert sim.state()["misc_writes"][-1] == "DISPLAY_LEVEL 2"


def test_clear_on_read(simulator: Callable[..., RshimSimulator]) -> None:
    sim = simulator()
    write(sim.device_dir / "misc", "DISPLAY_LEVEL 2")
    first = log_lines(sim)
    assert first[-2:] == [" INFO[MISC]: Linux up", " INFO[MISC]: DPU is ready"]  # a running DPU still holds its boot log
    assert log_lines(sim) == first
    write(sim.device_dir / "misc", "CLEAR_ON_READ 1")
    assert log_lines(sim) == first
    assert log_lines(sim) == []


# boot -----------------------------------------------------------------------------------------------------------
def test_boot_open_switches_to_rshim_boot_mode_and_close_restores_emmc(simulator: Callable[..., RshimSimulator]) -> None:
    sim = simulator()
    fd = os.open(sim.device_dir / "boot", os.O_WRONLY)
    try:
        assert "BOOT_MODE       0 (" in read(sim.device_dir / "misc")
        with pytest.raises(OSError) as raised:
            os.open(sim.device_dir / "boot", os.O_WRONLY)
        assert raised.value.errno == errno.EBUSY
    finally:
        os.close(fd)
    assert "BOOT_MODE       1 (" in read(sim.device_dir / "misc")
    assert sim.state()["boot_opens"] == [{"pid": os.getpid(), "reset": True}]


def test_success_installs_and_boots(simulator: Callable[..., RshimSimulator]) -> None:
    sim = simulator()
    watch(sim)
    push(sim, make_bfb("2.9.1") + BF_CFG.encode())
    lines = follow_log(sim, lambda state, _lines: state["phase"] == "ready")
    assert lines == [
        " INFO[BL2]: start",
        " INFO[BL2]: no DDR on MSS0",
        " INFO[BL2]: calc DDR freq (clk_ref 53836948)",
        " INFO[BL2]: DDR POST passed",
        " INFO[BL2]: UEFI loaded",
        " INFO[BL31]: start",
        " INFO[BL31]: runtime",
        " INFO[UEFI]: eMMC init",
        " INFO[UEFI]: eMMC probed",
        " INFO[UEFI]: PCIe enum start",
        " INFO[UEFI]: PCIe enum end",
        " INFO[MISC]: Found bf.cfg",
        " INFO[MISC]: Erasing eMMC drive: /dev/mmcblk0",
        " INFO[MISC]: Ubuntu installation started",
        " INFO[MISC]: Running bfb_pre_install from bf.cfg",
        " INFO[MISC]: Installing OS image",
        " INFO[MISC]: Changing the default password for user ubuntu",
        " INFO[MISC]: Running bfb_modify_os from bf.cfg",
        " INFO[MISC]: Ubuntu installation completed",
        " INFO[MISC]: Installation finished",
        " INFO[MISC]: Rebooting...",
        " INFO[BL2]: start",
        " INFO[BL2]: no DDR on MSS0",
        " INFO[BL2]: calc DDR freq (clk_ref 53836948)",
        " INFO[BL2]: DDR POST passed",
        " INFO[BL2]: UEFI loaded",
        " INFO[BL31]: start",
        " INFO[BL31]: runtime",
        " INFO[UEFI]: eMMC init",
        " INFO[UEFI]: eMMC probed",
        " INFO[UEFI]: PCIe enum start",
        " INFO[UEFI]: PCIe enum end",
        " INFO[MISC]: Linux up",
        " INFO[MISC]: DPU is ready",
    ]
    assert sim.release_file.read_text() == "2.9.1\n"
    assert sim.installed_cfg.read_text() == BF_CFG
    assert wait_state(sim, lambda state: not state["boot_open"])["streams"] == [
        {"bytes": len(make_bfb("2.9.1")) + len(BF_CFG), "images": [1, 3, 5, 59, 50, 62, 63], "complete": True, "error": None, "bf_cfg": True}
    ]


def test_without_clear_on_read_the_1k_buffer_fills_up(simulator: Callable[..., RshimSimulator]) -> None:
    sim = simulator()
    write(sim.device_dir / "misc", "DISPLAY_LEVEL 2")
    push(sim, make_bfb("2.9.1"))
    follow_log(sim, lambda state, _lines: state["phase"] == "ready")
    lines = log_lines(sim)
    # The previous boot's 37 words were never cleared: the new boot's last lines find no room in 127 words.
    assert lines.index(" INFO[MISC]: DPU is ready") == 12
    assert lines.count(" INFO[MISC]: DPU is ready") == 1
    assert lines.count(" INFO[MISC]: Linux up") == 1
    assert " INFO[MISC]: Rebooting..." in lines


def test_sw_reset_boots_the_installed_os(simulator: Callable[..., RshimSimulator]) -> None:
    sim = simulator("success", "--installed-version", "2.8.0")
    watch(sim)
    write(sim.device_dir / "misc", "SW_RESET 1")
    lines = follow_log(sim, lambda state, _lines: state["phase"] == "ready")
    assert lines[0] == " INFO[BL2]: start" and lines[-2:] == [" INFO[MISC]: Linux up", " INFO[MISC]: DPU is ready"]
    assert sim.release_file.read_text() == "2.8.0\n"


def test_console_shows_the_installer(simulator: Callable[..., RshimSimulator]) -> None:
    sim = simulator()
    fd = os.open(sim.device_dir / "console", os.O_RDWR)
    try:
        with pytest.raises(OSError) as raised:
            os.open(sim.device_dir / "console", os.O_RDONLY)
        assert raised.value.errno == errno.EBUSY
        push(sim, make_bfb("2.9.1"))
        seen = b""
        while b"login: " not in seen:
            seen += os.read(fd, 4096)  # blocks until the simulated DPU prints something
    finally:
        os.close(fd)
    assert b"] INFO: Ubuntu installation started\r\n" in seen


# scenarios ------------------------------------------------------------------------------------------------------
def test_installer_error(simulator: Callable[..., RshimSimulator]) -> None:
    sim = simulator("error", "--installed-version", "2.8.0")
    watch(sim)
    push(sim, make_bfb("2.9.1"))
    lines = follow_log(sim, lambda state, _lines: state["phase"] == "halted")
    failure = lines.index(" ERR[MISC]: Installation failed")
    assert lines[failure - 1] == " INFO[MISC]: Failed to access target device: /dev/mmcblk0"
    assert " INFO[MISC]: Linux up" not in lines
    assert not sim.release_file.exists()  # the eMMC was erased before the failure


def test_critical_error_is_an_info_line(simulator: Callable[..., RshimSimulator]) -> None:
    sim = simulator("critical")
    watch(sim)
    push(sim, make_bfb("2.9.1"))
    lines = follow_log(sim, lambda state, _lines: state["phase"] == "halted")
    assert lines[-1] == " INFO[MISC]: CRITICAL ERROR: cannot write the OS image to /dev/mmcblk0"  # no level prefix: INFO


def test_hang_never_comes_up(simulator: Callable[..., RshimSimulator]) -> None:
    sim = simulator("hang")
    watch(sim)
    push(sim, make_bfb("2.9.1"))
    lines = follow_log(sim, lambda _state, lines: lines.count(" INFO[UEFI]: PCIe enum end") == 2)
    time.sleep(3 * 45 / SPEED)  # three times the simulated OS boot time of the success scenario
    lines += log_lines(sim)
    assert lines[-1] == " INFO[UEFI]: PCIe enum end"
    assert sim.state()["phase"] == "booting"
    assert sim.release_file.read_text() == "2.9.1\n"


def test_panic_dumps_registers(simulator: Callable[..., RshimSimulator]) -> None:
    sim = simulator("panic")
    watch(sim)
    push(sim, make_bfb("2.9.1"))
    lines = follow_log(sim, lambda state, _lines: state["phase"] == "halted")
    assert lines[-4:] == [" PANIC(BL31): PC = 0xe0012a40", "   elr_el3         0xe0012a40", "   esr_el3         0x96000010", "   far_el3         0x0"]


def test_busy_boot_is_held_by_another_process(simulator: Callable[..., RshimSimulator]) -> None:
    sim = simulator("busy")
    holder = sim.state()["holder_pid"]
    with pytest.raises(OSError) as raised:
        os.open(sim.device_dir / "boot", os.O_WRONLY)
    assert raised.value.errno == errno.EBUSY
    links = {os.readlink(f"/proc/{holder}/fd/{fd}") for fd in os.listdir(f"/proc/{holder}/fd")}
    assert str(sim.device_dir / "boot") in links


def test_drop_mode(simulator: Callable[..., RshimSimulator]) -> None:
    sim = simulator("drop")
    with pytest.raises(OSError) as raised:
        os.open(sim.device_dir / "boot", os.O_WRONLY)
    assert raised.value.errno == errno.EINVAL
    write(sim.device_dir / "misc", "DISPLAY_LEVEL 2")
    write(sim.device_dir / "misc", "FORCE_CMD 1")
    text = read(sim.device_dir / "misc")
    assert "DROP_MODE       1 (0:normal, 1:drop)" in text
    assert "BOOT_MODE       0 (" in text  # register reads return 0 in drop mode
    assert "FORCE_CMD       1 (1: send Force command)" in text
    assert log_lines(sim) == []
    write(sim.device_dir / "misc", "DROP_MODE 0")
    os.close(os.open(sim.device_dir / "boot", os.O_WRONLY))


def test_locked_bluefield3(simulator: Callable[..., RshimSimulator]) -> None:
    sim = simulator("locked")
    for name in ("boot", "console"):
        with pytest.raises(OSError) as raised:
            os.open(sim.device_dir / name, os.O_WRONLY)
        assert raised.value.errno == errno.EPERM
    text = read(sim.device_dir / "misc")
    assert text.startswith("DISPLAY_LEVEL   0 (0:basic, 1:advanced, 2:log)\nBF_MODE         DPU mode\nBOOT_MODE       1 (")
    assert "DEV_INFO        BlueField-3(Rev 1)\nOPN_STR         900-9D3B6-00CV-AA0\nUP_TIME         " in text
    assert "(s)\nSECURE_NIC_MODE 1 (0:no, 1:yes)\nFORCE_CMD       0 (1: send Force command)\n" in text


def test_stall_times_out_like_cat(simulator: Callable[..., RshimSimulator]) -> None:
    sim = simulator("stall", "--boot-timeout", "100")
    watch(sim)
    proc = subprocess.run(["sh", "-c", f"cat > {sim.device_dir}/boot"], input=make_bfb("2.9.1"), capture_output=True, check=False, timeout=WAIT)
    assert proc.returncode == 1
    assert b"write error: Connection timed out" in proc.stderr
    assert log_lines(sim) == [" ERR[BL1]: PSC error -60"]
    assert wait_state(sim, lambda state: bool(state["streams"]))["streams"][0]["bytes"] == 4096


def test_not_a_bfb_stalls_after_the_fifo(simulator: Callable[..., RshimSimulator]) -> None:
    sim = simulator("success", "--boot-timeout", "100")
    with pytest.raises(OSError) as raised:
        push(sim, b"#!/bin/sh\n" * 10000)
    assert raised.value.errno == errno.ETIMEDOUT
    stream = wait_state(sim, lambda state: bool(state["streams"]))["streams"][0]
    assert stream["bytes"] == 24 + 4096
    assert stream["error"] == "bad image header magic 0x622f2123 (expected 0x13026642)"


def test_interrupted_writer_releases_boot(simulator: Callable[..., RshimSimulator]) -> None:
    sim = simulator("stall", "--boot-timeout", "100000")
    writer = subprocess.Popen(["sh", "-c", f"exec cat > {sim.device_dir}/boot"], stdin=subprocess.PIPE)
    assert writer.stdin is not None
    writer.stdin.write(b"\0" * 65536)
    writer.stdin.flush()
    wait_state(sim, lambda state: bool(state["boot_open"]))
    writer.send_signal(signal.SIGINT)
    assert writer.wait(timeout=WAIT) != 0
    writer.stdin.close()
    wait_state(sim, lambda state: not state["boot_open"])
    os.close(os.open(sim.device_dir / "boot", os.O_WRONLY))


def test_state_file_is_json(simulator: Callable[..., RshimSimulator]) -> None:
    sim = simulator()
    state = json.loads((sim.root / "sim-state.json").read_text())
    assert state["phase"] == "running" and state["streams"] == [] and state["boot_opens"] == []


def test_nic_mode_ends_in_enhanced_nic_mode(simulator: Callable[..., RshimSimulator]) -> None:
    sim = simulator("success", "--nic-mode")
    assert "BF_MODE         NIC mode\n" in read(sim.device_dir / "misc")
    watch(sim)
    push(sim, make_bfb("2.9.1"))
    lines = follow_log(sim, lambda state, _lines: state["phase"] == "ready")
    assert lines[-2:] == [" INFO[UEFI]: PCIe enum end", " INFO[MISC]: In Enhanced NIC mode"]
