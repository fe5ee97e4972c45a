"""This machine: where the lab keeps its state and cache, and the commands it runs (podman with the project's config)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
CONTAINERS_CONF = REPO / "tools" / "podman" / "containers.conf"
CACHE = Path(os.environ.get("DISKLESS_LAB_CACHE", "/var/cache/diskless-lab"))
BASE_IMAGE = os.environ.get("DISKLESS_LAB_BASE_IMAGE", "localhost/diskless-base:latest")
STATE_ROOT = REPO / "lab-state"
# Where the netboot role keeps each host's plaintext /etc and its per-host key on the boot server (its default;
# a lab that overrides netboot_hosts_root passes its boot server's variables to netboot_hosts_root()).
NETBOOT_DEFAULTS = REPO / "roles" / "netboot" / "defaults" / "main.yml"


def netboot_hosts_root(server_vars: dict[str, Any] | None = None) -> str:
    """netboot_hosts_root on a boot server with these variables: theirs if they set it, else the role's default."""
    if server_vars and server_vars.get("netboot_hosts_root"):
        return str(server_vars["netboot_hosts_root"])
    return str(yaml.safe_load(NETBOOT_DEFAULTS.read_text())["netboot_hosts_root"])


def inventory_vars(inventory: Path, host: str, group: str) -> dict[str, Any]:
    """The variables an inventory directory gives HOST of GROUP (group_vars/all, group_vars/GROUP, host_vars/HOST; files or directories of YAML).

    Enough for the lab's own inventory (no Jinja, no other groups): it is read to find where the boot server keeps things.
    """
    found: dict[str, Any] = {}
    for base in (inventory / "group_vars" / "all", inventory / "group_vars" / group, inventory / "host_vars" / host):
        files = sorted(base.glob("*.yml")) if base.is_dir() else [p for p in (base.with_suffix(".yml"),) if p.is_file()]
        for path in files:
            found.update(yaml.safe_load(path.read_text()) or {})
    return found


def run(cmd: list[str], *, timeout: float = 120, check: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, env=env)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {result.returncode}:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return result


def podman_env() -> dict[str, str]:
    return {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}


def podman(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run(["podman", *args], timeout=timeout, check=check, env=podman_env())
