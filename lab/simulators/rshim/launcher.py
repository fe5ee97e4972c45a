"""Start and stop the rshim simulator as a subprocess (see ../launcher.py); always unmounts what it mounted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lab.simulators.launcher import SimulatorLauncher, SimulatorStartError
from lab.simulators.rshim.fuse import unmount_fuse

__all__ = ["RshimSimulator", "SimulatorStartError", "is_mounted"]


def is_mounted(path: Path) -> bool:
    target = str(path)
    with open("/proc/self/mounts") as mounts:
        return any(line.split()[1] == target for line in mounts)


class RshimSimulator(SimulatorLauncher):
    """One simulator process serving ``<root>/<device>``; a context manager that stops and unmounts."""

    label = "rshim simulator"

    def __init__(self, root: Path, scenario: str = "success", *extra: str, speed: float = 1.0, device: str = "rshim0") -> None:
        self.root = root.resolve()
        self.device = device
        self.scenario = scenario
        super().__init__("lab.simulators.rshim", "--dir", str(self.root), "--device", device, "--scenario", scenario, "--speed", str(speed), *extra)

    @property
    def device_dir(self) -> Path:
        return self.root / self.device

    @property
    def release_file(self) -> Path:
        """The simulated DPU's /etc/mlnx-release."""
        return self.root / "dpu" / "etc" / "mlnx-release"

    @property
    def installed_cfg(self) -> Path:
        return self.root / "dpu" / "etc" / "bf.cfg"

    def state(self) -> dict[str, Any]:
        return dict(json.loads((self.root / "sim-state.json").read_text()))

    def on_ready_line(self, line: str) -> bool:
        return line.startswith("READY ")

    def after_stop(self) -> None:
        if is_mounted(self.device_dir):
            unmount_fuse(str(self.device_dir))
