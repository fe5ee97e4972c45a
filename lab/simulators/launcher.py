"""Start and stop a simulator as a subprocess: the one launcher of the RouterOS and the rshim simulator.

The simulator runs as ``python -m lab.simulators.NAME ARGS`` from the repository root; it announces on stdout
that it is ready (the RouterOS simulator its loopback port, picked by the kernel from ``--port 0``; the rshim
simulator its device directory). Its stderr goes to a log that stays readable after `stop`; `stop` ends the
process it started by its PID (SIGTERM, SIGKILL if it does not exit).
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


class SimulatorStartError(RuntimeError):
    """The simulator exited or stayed silent instead of announcing that it is ready."""


class SimulatorLauncher:
    """One simulator subprocess; a context manager that always stops what it started.

    Subclasses name the module and read the ready line (`on_ready_line` returns True once it came).
    """

    label = "simulator"

    def __init__(self, module: str, *args: str, python: str = sys.executable) -> None:
        self.command = [python, "-m", module, *args]
        self._process: subprocess.Popen[str] | None = None
        self._stderr = tempfile.TemporaryFile(mode="w+t")  # noqa: SIM115 - closed in stop()
        self._stderr_after_stop = ""

    def on_ready_line(self, line: str) -> bool:
        """Whether this stdout line (stripped) says the simulator is ready; may record what it announces."""
        raise NotImplementedError

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> Self:
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
                    raise SimulatorStartError(f"{self.label} exited with {process.wait()}: {self.stderr_text()}")
                if self.on_ready_line(line.strip()):
                    return
        raise SimulatorStartError(f"{self.label} not ready within {START_TIMEOUT} s: {self.stderr_text()}")

    def stderr_text(self) -> str:
        """What the simulator wrote on stderr (fault notices, tracebacks); still available after stop()."""
        if self._stderr.closed:
            return self._stderr_after_stop
        self._stderr.seek(0)
        return self._stderr.read()

    def after_stop(self) -> None:
        """Clean-up once the process is gone (e.g. a mount it left)."""

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL if it does not exit; returns the exit status."""
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
            if process.stdout is not None:
                process.stdout.close()
            status = process.returncode
        self.after_stop()
        if not self._stderr.closed:
            self._stderr_after_stop = self.stderr_text()
            self._stderr.close()
        return status

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
