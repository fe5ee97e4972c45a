"""rshim test peers: a real rshim device when RSHIM_DEVICE and RSHIM_BFB are set, otherwise the rshim simulator.

Fixture ``rshim``: parametrized over ``simulator`` and ``real``; a factory ``rshim(scenario="success", *args)``
returning an ``RshimTarget``. Against the simulator it starts a fresh simulator process (stopped and unmounted
after the test); against the real device only the ``success`` scenario exists (an installer error, a hang or a
busy/drop/locked device cannot be produced on purpose), other scenarios skip with that reason. The ``real``
parameter skips itself when the environment does not name a device.

Environment for a real device (the tests flash it):
  RSHIM_DEVICE          e.g. /dev/rshim0
  RSHIM_BFB             path of a BFB to install
  RSHIM_BFB_VERSION     the version the DPU reports once RSHIM_BFB is installed (idempotence tests)
  RSHIM_VERSION_COMMAND command printing the version the DPU runs, e.g. ssh ubuntu@192.168.100.2 cat /etc/mlnx-release
  RSHIM_BF_CFG          optional bf.cfg to push with the BFB
  RSHIM_TIMEOUT         seconds a flash may take (default 2400)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from lab.simulators.rshim.bfb import make_bfb
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


@pytest.fixture(params=["simulator", pytest.param("real", marks=pytest.mark.real_device)])
def rshim(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., RshimTarget]]:
    started: list[RshimSimulator] = []

    def start(scenario: str = "success", *args: str) -> RshimTarget:
        if request.param == "real":
            target = real_target()
            if target is None:
                pytest.skip("real rshim device not configured: set RSHIM_DEVICE (e.g. /dev/rshim0) and RSHIM_BFB (a BFB path)")
            if scenario != "success" or args:
                options = f" ({' '.join(args)})" if args else ""
                pytest.skip(f"scenario {scenario!r}{options} cannot be produced on a real DPU")
            return target
        root = tmp_path / f"sim{len(started)}"
        bfb = tmp_path / "image.bfb"
        if not bfb.exists():
            bfb.write_bytes(make_bfb(SIMULATOR_VERSION))
        simulator = RshimSimulator(root, scenario, *args, speed=SIMULATOR_SPEED)
        started.append(simulator)
        simulator.start()
        return RshimTarget(
            device_root=str(root),
            device=simulator.device,
            bfb=str(bfb),
            bfb_version=SIMULATOR_VERSION,
            version_source={"current_version_file": str(simulator.release_file)},
            config=BF_CFG,
            simulator=simulator,
        )

    yield start
    for simulator in started:
        simulator.stop()
