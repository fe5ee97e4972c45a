"""Start and stop the rshim simulator as a subprocess (used by test fixtures); always unmounts what it mounted."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.simulators.rshim.fuse import unmount_fuse

REPO = Path(__file__).resolve().parents[3]
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


class SimulatorStartError(RuntimeError):
    """The simulator exited or stayed silent instead of announcing its device."""


def is_mounted(path: Path) -> bool:
    target = str(path)
    with open("/proc/self/mounts") as mounts:
        return any(line.split()[1] == target for line in mounts)


class RshimSimulator:
    """One simulator process serving ``<root>/<device>``; a context manager that stops and unmounts."""

    def __init__(self, root: Path, scenario: str = "success", *extra: str, speed: float = 1.0, device: str = "rshim0") -> None:
        self.root = root.resolve()
        self.device = device
        self.scenario = scenario
        self.command = [sys.executable, "-m", "tests.simulators.rshim", "--dir", str(self.root), "--device", device, "--scenario", scenario]
        self.command += ["--speed", str(speed), *extra]
        self._process: subprocess.Popen[str] | None = None
        self._stderr = tempfile.TemporaryFile(mode="w+t")  # noqa: SIM115 - closed in stop()

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

    def start(self) -> RshimSimulator:
        self._process = subprocess.Popen(
            self.command, cwd=REPO, stdout=subprocess.PIPE, stderr=self._stderr, text=True, env=dict(os.environ, PYTHONUNBUFFERED="1")
        )
        try:
            self._wait_until_ready(self._process)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if not selector.select(timeout=deadline - time.monotonic()):
                    break
                line = process.stdout.readline()
                if not line:
                    raise SimulatorStartError(f"rshim simulator exited with {process.wait()}: {self.stderr_text()}")
                if line.startswith("READY "):
                    return
        raise SimulatorStartError(f"rshim simulator not ready within {START_TIMEOUT} s: {self.stderr_text()}")

    def stderr_text(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read()

    def stop(self) -> int | None:
        """SIGTERM (SIGKILL if needed), then make sure the mount point is gone."""
        process, self._process = self._process, None
        status = None
        if process is not None:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=STOP_TIMEOUT)
            status = process.returncode
            if process.stdout is not None:
                process.stdout.close()
        if is_mounted(self.device_dir):
            unmount_fuse(str(self.device_dir))
        if not self._stderr.closed:
            self._stderr.close()
        return status

    def __enter__(self) -> RshimSimulator:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None) -> None:
        self.stop()
