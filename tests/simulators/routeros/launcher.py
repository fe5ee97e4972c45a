"""Start and stop the RouterOS API simulator as a subprocess (used by test fixtures)."""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

REPO = Path(__file__).resolve().parents[3]
READY_LINE = re.compile(r"^listening on (?P<host>[^\s:]+|\[[^\]]+\]):(?P<port>\d+)$")
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


class SimulatorStartError(RuntimeError):
    """The simulator exited or stayed silent instead of announcing its port."""


class SimulatorProcess:
    """One simulator subprocess; a context manager that always stops what it started."""

    def __init__(self, *args: str, host: str = "127.0.0.1", python: str = sys.executable) -> None:
        self.command = [python, "-m", "tests.simulators.routeros", "--host", host, "--port", "0", *args]
        self.host = host
        self.port = 0
        self._process: subprocess.Popen[str] | None = None
        self._stderr = tempfile.TemporaryFile(mode="w+t")  # noqa: SIM115 - closed in stop()
        self._stderr_after_stop = ""

    def start(self) -> SimulatorProcess:
        self._process = subprocess.Popen(
            self.command, cwd=REPO, stdout=subprocess.PIPE, stderr=self._stderr, text=True, env=dict(os.environ, PYTHONUNBUFFERED="1")
        )
        try:
            self.port = self._wait_for_port(self._process)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_for_port(self, process: subprocess.Popen[str]) -> int:
        assert process.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if not selector.select(timeout=deadline - time.monotonic()):
                    break
                line = process.stdout.readline()
                if not line:
                    raise SimulatorStartError(f"simulator exited with {process.wait()}: {self.stderr_text()}")
                match = READY_LINE.match(line.strip())
                if match:
                    return int(match.group("port"))
        raise SimulatorStartError(f"simulator did not announce its port within {START_TIMEOUT} s: {self.stderr_text()}")

    def stderr_text(self) -> str:
        """What the simulator wrote on stderr (fault notices, tracebacks); still available after stop()."""
        if self._stderr.closed:
            return self._stderr_after_stop
        self._stderr.seek(0)
        return self._stderr.read()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

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
                    process.wait()
            if process.stdout is not None:
                process.stdout.close()
            status = process.returncode
        if not self._stderr.closed:
            self._stderr_after_stop = self.stderr_text()
            self._stderr.close()
        return status

    def __enter__(self) -> SimulatorProcess:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
