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

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lab.simulators.rshim.bfb import make_bfb
from lab.simulators.rshim.launcher import RshimSimulator
from tests.support.rshim import BF_CFG, SIMULATOR_SPEED, SIMULATOR_VERSION, RshimTarget, real_target


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
