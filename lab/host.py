"""This machine: where the lab keeps its state and cache, and the commands it runs (podman with the project's config)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CONTAINERS_CONF = REPO / "tools" / "podman" / "containers.conf"
CACHE = Path(os.environ.get("DISKLESS_LAB_CACHE", "/var/cache/diskless-lab"))
BASE_IMAGE = os.environ.get("DISKLESS_LAB_BASE_IMAGE", "localhost/diskless-base:latest")
STATE_ROOT = REPO / "lab-state"


def run(cmd: list[str], *, timeout: float = 120, check: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, env=env)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {result.returncode}:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return result


def podman_env() -> dict[str, str]:
    return {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}


def podman(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run(["podman", *args], timeout=timeout, check=check, env=podman_env())
