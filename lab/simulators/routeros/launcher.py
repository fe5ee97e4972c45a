"""Start and stop the RouterOS API simulator as a subprocess on a free loopback port (see ../launcher.py)."""

from __future__ import annotations

import re
import sys

from lab.simulators.launcher import SimulatorLauncher, SimulatorStartError

__all__ = ["READY_LINE", "SimulatorProcess", "SimulatorStartError"]

READY_LINE = re.compile(r"^listening on (?P<host>[^\s:]+|\[[^\]]+\]):(?P<port>\d+)$")


class SimulatorProcess(SimulatorLauncher):
    """One RouterOS simulator; `port` is the one it announced (it listens on --port 0: a free port)."""

    label = "simulator"

    def __init__(self, *args: str, host: str = "127.0.0.1", python: str = sys.executable) -> None:
        super().__init__("lab.simulators.routeros", "--host", host, "--port", "0", *args, python=python)
        self.host = host
        self.port = 0

    def on_ready_line(self, line: str) -> bool:
        match = READY_LINE.match(line)
        if match:
            self.port = int(match.group("port"))
        return match is not None
