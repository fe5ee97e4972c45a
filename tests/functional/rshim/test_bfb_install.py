"""diskless.datacenter.bfb_install run through ansible-playbook against the simulator or a real rshim device.

Every scenario of the simulator is covered; against a real device (RSHIM_DEVICE, RSHIM_BFB) the tests that need
no fault injection run unchanged and flash it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.rshim import RshimTarget

MODULE = "diskless.datacenter.bfb_install"
INFO = "diskless.datacenter.rshim_info"
Run = Callable[..., dict[str, Any]]


def assert_nothing_pushed(target: RshimTarget) -> None:
    if not target.is_real:
        state = target.sim.state()
        assert state["streams"] == []
        assert [entry for entry in state["boot_opens"] if entry["pid"] != state["holder_pid"]] == []


def test_flash_waits_for_the_dpu_and_keeps_the_log(rshim: Callable[..., RshimTarget], run_module: Run, tmp_path: Path) -> None:
    target = rshim()
    result = run_module(MODULE, target.flash_args(tmp_path, force=True))
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is True
    assert result["ready_line"].endswith("DPU is ready")
    assert result["log"][-1] == result["ready_line"]
    log_file = Path(result["log_path"])
    assert log_file == tmp_path / "logs" / f"{target.device}.log"
    assert result["ready_line"] in log_file.read_text().splitlines()[-1]
    assert result["bytes_pushed"] == Path(target.bfb).stat().st_size + len((target.config or "").encode())
    assert "ubuntu_PASSWORD" not in log_file.read_text()
    if not target.is_real:
        assert result["previous_log"][-1] == "INFO[MISC]: DPU is ready"  # the old boot's line, set aside
        assert "INFO[MISC]: Installation finished" in result["log"]
        assert "INFO[MISC]: Running bfb_modify_os from bf.cfg" in result["log"]
        assert target.sim.installed_cfg.read_text() == target.config
        state = target.sim.state()
        assert (state["phase"], state["clear_on_read"], state["display_level"]) == ("ready", False, 0)
        assert state["misc_writes"] == ["CLEAR_ON_READ 1", "DISPLAY_LEVEL 2", "CLEAR_ON_READ 0", "DISPLAY_LEVEL 0"]


def test_second_run_with_the_same_version_changes_nothing(rshim: Callable[..., RshimTarget], run_module: Run, tmp_path: Path) -> None:
    target = rshim()
    args = target.versioned_args(tmp_path)
    first = run_module(MODULE, args)
    assert not first.get("failed"), first.get("msg")
    assert first["version"] == target.bfb_version
    second = run_module(MODULE, args, diff=True)
    assert not second.get("failed"), second.get("msg")
    assert second["changed"] is False
    assert second["previous_version"] == target.bfb_version
    assert second["diff"]["before"] == second["diff"]["after"] == f"version: {target.bfb_version}\n"
    if not target.is_real:
        assert first["changed"] is True and first["previous_version"] is None
        assert len(target.sim.state()["streams"]) == 1
        forced = run_module(MODULE, {**args, "force": True})
        assert forced["changed"] is True
        assert len(target.sim.state()["streams"]) == 2


def test_check_mode_touches_nothing(rshim: Callable[..., RshimTarget], run_module: Run, tmp_path: Path) -> None:
    target = rshim()
    before = run_module(INFO, target.device_args()) if target.is_real else None
    result = run_module(MODULE, target.flash_args(tmp_path, force=True), check=True, diff=True)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is True
    assert result["msg"].startswith(f"would push {Path(target.bfb).name}")
    assert result["diff"]["after"] == f"version: {Path(target.bfb).name}\n"
    assert not (tmp_path / "logs").exists()
    if before is not None:
        after = run_module(INFO, target.device_args())
        assert (after["display_level"], after["boot_mode"]) == (before["display_level"], before["boot_mode"])
    else:
        state = target.sim.state()
        assert state["misc_writes"] == [] and state["boot_opens"] == [] and state["phase"] == "running"


def test_installer_error_fails_with_the_log_excerpt(rshim: Callable[..., RshimTarget], run_module: Run, tmp_path: Path) -> None:
    target = rshim("error")
    result = run_module(MODULE, target.flash_args(tmp_path))
    assert result["failed"] is True
    assert result["changed"] is True
    assert result["msg"].startswith("rshim0: the DPU reported an error: ERR[MISC]: Installation failed\nlog excerpt:\n")
    assert "INFO[MISC]: Failed to access target device: /dev/mmcblk0" in result["msg"]
    assert result["excerpt"][-1] == "ERR[MISC]: Installation failed"
    log_text = (tmp_path / "logs" / "rshim0.log").read_text()
    assert " ERR[MISC]: Installation failed" in log_text
    assert "# FAILED: the DPU reported an error" in log_text
    assert target.sim.state()["display_level"] == 0


@pytest.mark.parametrize(
    ("scenario", "failing_line"),
    [("critical", "INFO[MISC]: CRITICAL ERROR: cannot write the OS image to /dev/mmcblk0"), ("panic", "PANIC(BL31): PC = 0xe0012a40")],
)
def test_critical_and_panic_lines_fail(rshim: Callable[..., RshimTarget], run_module: Run, tmp_path: Path, scenario: str, failing_line: str) -> None:
    target = rshim(scenario)
    result = run_module(MODULE, target.flash_args(tmp_path))
    assert result["failed"] is True
    assert result["msg"].startswith(f"rshim0: the DPU reported an error: {failing_line}\n")
    assert failing_line in result["excerpt"]


def test_hang_times_out_clearly(rshim: Callable[..., RshimTarget], run_module: Run, tmp_path: Path) -> None:
    target = rshim("hang")
    result = run_module(MODULE, target.flash_args(tmp_path, timeout=2))
    assert result["failed"] is True
    assert result["msg"].startswith("rshim0: timed out after 2 s waiting for a log line matching 'DPU is ready'\nlog excerpt:\n")
    assert result["excerpt"][-1] == "INFO[UEFI]: PCIe enum end"
    assert "INFO[MISC]: Rebooting..." in result["log"]
    assert "INFO[MISC]: DPU is ready" not in result["log"]  # the stale line of the previous boot was set aside


def test_linux_up_can_be_the_ready_line(rshim: Callable[..., RshimTarget], run_module: Run, tmp_path: Path) -> None:
    target = rshim()
    result = run_module(MODULE, target.flash_args(tmp_path, ready_pattern="Linux up", force=True))
    assert not result.get("failed"), result.get("msg")
    assert result["ready_line"].endswith("Linux up")


def test_stalled_boot_stream_fails(rshim: Callable[..., RshimTarget], run_module: Run, tmp_path: Path) -> None:
    target = rshim("stall", "--boot-timeout", "200")
    result = run_module(MODULE, target.flash_args(tmp_path))
    assert result["failed"] is True
    assert result["msg"].startswith("rshim0: the DPU stopped taking the boot stream after 4096 of ")
    assert result["excerpt"] == ["ERR[BL1]: PSC error -60"]
    assert result["bytes_pushed"] == 4096


@pytest.mark.parametrize(
    ("scenario", "words"),
    [
        ("busy", "is busy: held open by pid "),
        ("drop", "is in DROP_MODE 1"),
        ("locked", "is locked (SECURE_NIC_MODE 1)"),
    ],
)
def test_unusable_device_is_refused_before_pushing(rshim: Callable[..., RshimTarget], run_module: Run, tmp_path: Path, scenario: str, words: str) -> None:
    target = rshim(scenario)
    result = run_module(MODULE, target.flash_args(tmp_path))
    assert result["failed"] is True
    assert words in result["msg"]
    assert result["changed"] is False
    assert_nothing_pushed(target)
    assert target.sim.state()["misc_writes"] == []


def test_missing_device(rshim: Callable[..., RshimTarget], run_module: Run, tmp_path: Path) -> None:
    target = rshim()
    result = run_module(MODULE, {**target.flash_args(tmp_path), "device": "rshim97"})
    assert result["failed"] is True
    assert result["msg"].startswith(f"device='rshim97': {target.device_root}/rshim97/boot does not exist")
    assert target.device in result["msg"]


def test_bad_inputs_fail_before_anything_is_touched(rshim: Callable[..., RshimTarget], run_module: Run, tmp_path: Path) -> None:
    target = rshim()
    not_a_bfb = tmp_path / "notes.txt"
    not_a_bfb.write_text("#!/bin/sh\necho hello\n")
    result = run_module(MODULE, {**target.flash_args(tmp_path), "bfb": str(not_a_bfb)})
    assert result["failed"] is True
    assert result["msg"] == f"bfb {str(not_a_bfb)!r} is not a BlueField boot stream: image header magic 0x622f2123 at byte 0, expected 0x13026642"
    secret = "$6$s4lt$D0NotPrintMe"
    result = run_module(MODULE, {**target.flash_args(tmp_path), "config": f"ubuntu_PASSWORD='{secret}'\nbfb_modify_os() {{\n"})
    assert result["failed"] is True
    assert result["msg"].startswith("config: bf.cfg does not pass bash -n, the installer would ignore it:")
    assert secret not in str(result)
    assert_nothing_pushed(target)


def test_version_mismatch_after_flash_fails(rshim: Callable[..., RshimTarget], run_module: Run, tmp_path: Path) -> None:
    target = rshim()
    result = run_module(MODULE, {**target.versioned_args(tmp_path), "bfb_version": "9.9.9"})
    assert result["failed"] is True
    assert result["msg"] == f"{target.device} is ready but runs {target.bfb_version!r}, not bfb_version='9.9.9'"
    assert result["changed"] is True


def test_nic_mode_waits_for_enhanced_nic_mode(rshim: Callable[..., RshimTarget], run_module: Run, tmp_path: Path) -> None:
    target = rshim("success", "--nic-mode")
    result = run_module(MODULE, target.flash_args(tmp_path, force=True))
    assert not result.get("failed"), result.get("msg")
    assert result["ready_line"] == "INFO[MISC]: In Enhanced NIC mode"
