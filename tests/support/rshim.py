"""rshim test targets: a real rshim device named by RSHIM_* variables, or the rshim simulator (lab.simulators.rshim).

`RshimTarget` holds the module arguments that point at a device and the simulator when there is one; the fixture
``rshim`` is in tests/functional/rshim/conftest.py (its docstring lists the environment of a real device).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from lab.simulators.rshim.launcher import RshimSimulator

SIMULATOR_SPEED = 1000.0
SIMULATOR_VERSION = "2.9.1-sim"
SIMULATOR_POLL = 0.05
SIMULATOR_TIMEOUT = 20
REAL_POLL = 1.0
BF_CFG = """UPDATE_ATF_UEFI=no
ubuntu_PASSWORD='$6$rounds=5000$s4lt$N0tARealHashButQuotedLikeOne/.'
bfb_modify_os()
{
\tprintf '%s\\n' dpu0 > /mnt/etc/hostname
}
"""


@dataclass
class RshimTarget:
    """Where a test flashes: the module arguments that point at it, and the simulator when there is one."""

    device_root: str
    device: str
    bfb: str
    bfb_version: str | None
    version_source: dict[str, str] = field(default_factory=dict)
    config: str | None = None
    timeout: int = SIMULATOR_TIMEOUT
    poll_interval: float = SIMULATOR_POLL
    simulator: RshimSimulator | None = None

    @property
    def is_real(self) -> bool:
        return self.simulator is None

    @property
    def sim(self) -> RshimSimulator:
        if self.simulator is None:
            raise AssertionError("this check needs the simulator")
        return self.simulator

    def device_args(self) -> dict[str, Any]:
        return {"device": self.device, "device_root": self.device_root}

    def flash_args(self, tmp_path: Path, **extra: Any) -> dict[str, Any]:
        args: dict[str, Any] = {
            **self.device_args(),
            "bfb": self.bfb,
            "timeout": self.timeout,
            "poll_interval": self.poll_interval,
            "log_path": str(tmp_path / "logs" / "{device}.log"),
        }
        if self.config is not None:
            args["config"] = self.config
        args.update(extra)
        return {key: value for key, value in args.items() if value is not None}

    def versioned_args(self, tmp_path: Path, **extra: Any) -> dict[str, Any]:
        if not self.bfb_version or not self.version_source:
            pytest.skip("RSHIM_BFB_VERSION and RSHIM_VERSION_COMMAND are needed for version checks on a real device")
        return self.flash_args(tmp_path, bfb_version=self.bfb_version, **self.version_source, **extra)


def real_target() -> RshimTarget | None:
    device_path = os.environ.get("RSHIM_DEVICE")
    bfb = os.environ.get("RSHIM_BFB")
    if not (device_path and bfb):
        return None
    config_path = os.environ.get("RSHIM_BF_CFG")
    command = os.environ.get("RSHIM_VERSION_COMMAND")
    return RshimTarget(
        device_root=os.path.dirname(device_path.rstrip("/")) or "/dev",
        device=os.path.basename(device_path.rstrip("/")),
        bfb=bfb,
        bfb_version=os.environ.get("RSHIM_BFB_VERSION"),
        version_source={"current_version_command": command} if command else {},
        config=Path(config_path).read_text() if config_path else None,
        timeout=int(os.environ.get("RSHIM_TIMEOUT", "2400")),
        poll_interval=REAL_POLL,
    )
