"""diskless.datacenter.rshim_info run through ansible-playbook against the simulator or a real rshim device."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.support.rshim import RshimTarget

MODULE = "diskless.datacenter.rshim_info"
Run = Callable[..., dict[str, Any]]


def test_reports_the_misc_fields(rshim: Callable[..., RshimTarget], run_module: Run) -> None:
    target = rshim()
    result = run_module(MODULE, target.device_args(), check=True)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False
    assert result["exists"] is True
    assert target.device in result["devices"]
    assert result["chip"].startswith("BlueField-")
    assert result["dev_info"].startswith(result["chip"] + "(Rev ")
    assert result["dev_name"].startswith(("pcie-", "usb-"))
    assert result["boot_mode_name"] in ("rshim", "emmc", "emmc-boot-swap")
    assert isinstance(result["boot_timeout"], int)
    assert result["misc"]["DEV_NAME"] == result["dev_name"]
    assert result["held"] is False and result["holders"] == []
    if not target.is_real:
        assert result["misc"] == {
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
        assert result["msg"] == "rshim0 is a BlueField-2(Rev 1) at pcie-0000:03:00.2, boot mode emmc"
        assert target.sim.state()["misc_writes"] == []


def test_advanced_fields_and_log_restore_the_display_level(rshim: Callable[..., RshimTarget], run_module: Run) -> None:
    target = rshim()
    result = run_module(MODULE, {**target.device_args(), "advanced": True, "log": True})
    assert not result.get("failed"), result.get("msg")
    assert set(result["advanced"]) == {"BOOT_RESET_SKIP", "PEER_MAC", "PXE_ID", "VLAN_ID", "CLEAR_ON_READ"}
    assert isinstance(result["log"], list)
    if target.is_real:
        assert run_module(MODULE, target.device_args())["display_level"] == result["display_level"]
    else:
        assert result["advanced"]["PEER_MAC"] == "00:1a:ca:ff:ff:01"
        assert result["log"][-2:] == ["INFO[MISC]: Linux up", "INFO[MISC]: DPU is ready"]
        state = target.sim.state()
        assert state["misc_writes"] == ["DISPLAY_LEVEL 1", "DISPLAY_LEVEL 0", "DISPLAY_LEVEL 2", "DISPLAY_LEVEL 0"]
        assert state["display_level"] == result["display_level"] == 0


def test_missing_device_is_reported_not_failed(rshim: Callable[..., RshimTarget], run_module: Run) -> None:
    target = rshim()
    result = run_module(MODULE, {"device": "rshim97", "device_root": target.device_root})
    assert not result.get("failed"), result.get("msg")
    assert result["exists"] is False
    assert result["msg"].startswith(f"{target.device_root}/rshim97 does not exist")
    assert target.device in result["devices"]


def test_busy_device_names_the_holder(rshim: Callable[..., RshimTarget], run_module: Run) -> None:
    target = rshim("busy")
    result = run_module(MODULE, target.device_args())
    holder = target.sim.state()["holder_pid"]
    assert result["held"] is True
    assert [entry["pid"] for entry in result["holders"]] == [holder]
    assert result["msg"].endswith(f"boot held by pid {holder}")
    assert result["boot_mode_name"] == "rshim"  # the holder's open switched the DPU to rshim boot


def test_drop_mode_and_locked_device(rshim: Callable[..., RshimTarget], run_module: Run) -> None:
    dropped = run_module(MODULE, rshim("drop").device_args())
    assert dropped["drop_mode"] is True
    assert "DROP_MODE" in dropped["msg"]
    locked = run_module(MODULE, rshim("locked").device_args())
    assert (locked["chip"], locked["secure_nic_mode"], locked["bf_mode"]) == ("BlueField-3", True, "DPU mode")
    assert isinstance(locked["up_time"], int)
    assert locked["msg"].endswith("locked (secure NIC mode)")
