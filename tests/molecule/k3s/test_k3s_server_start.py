"""The start path of k3s_server with the stand-in binary (files/fake-k3s.py), after the start-less checks.

The scenario converges with the service start disabled (tests in test_k3s_server.py). Here the same
converge runs again with k3s_server_service_start=true: the role must start the server (Type=notify:
`systemctl start` returns once it reports ready), wait for /readyz, enable it, and fetch the admin
kubeconfig to the controller with the API endpoint instead of 127.0.0.1. A further run must change
nothing and restart nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

testinfra_hosts = ["podman://dc-molecule-k3s-dpu"]
STATE = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"))
SCENARIO = Path(__file__).resolve().parents[3] / "extensions" / "molecule" / Path(__file__).parent.name
CONVERGE = Path(os.environ.get("MOLECULE_SCENARIO_DIRECTORY", SCENARIO)) / "converge.yml"


@dataclass
class Runs:
    first: subprocess.CompletedProcess[str]
    second: subprocess.CompletedProcess[str]
    started_at: str
    after_second: str


def converge_with_start() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "ansible-playbook",
            "-i",
            os.environ["MOLECULE_INVENTORY_FILE"],
            str(CONVERGE),
            "-e",
            json.dumps({"k3s_server_service_start": True}),
            "--tags",
            "k3s_server",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        # Molecule may force colours; the recap is parsed below
        env={**os.environ, "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_NOCOLOR": "1"},
        check=False,
    )


@pytest.fixture(scope="module")
def runs(host: Any) -> Iterator[Runs]:
    first = converge_with_start()
    started_at = host.run("systemctl show k3s -p ActiveEnterTimestampMonotonic").stdout.strip()
    second = converge_with_start()
    yield Runs(first, second, started_at, host.run("systemctl show k3s -p ActiveEnterTimestampMonotonic").stdout.strip())


def test_server_started_ready_and_enabled(host: Any, runs: Runs) -> None:
    assert runs.first.returncode == 0, runs.first.stdout[-4000:] + runs.first.stderr[-2000:]
    service = host.service("k3s")
    assert service.is_running and service.is_enabled
    assert host.run("/usr/local/bin/k3s kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml get --raw=/readyz").stdout.strip() == "ok"


def test_kubeconfig_on_the_controller_points_at_the_api_endpoint(host: Any, runs: Runs) -> None:
    assert runs.first.returncode == 0
    kubeconfig = STATE / "k3s-secrets" / "kubeconfig"
    assert oct(kubeconfig.stat().st_mode & 0o777) == "0o600"
    address = next(address for address in host.interface("eth0").addresses if "." in address)
    assert yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"] == f"https://{address}:6443"
    assert "ZmFrZSBrZXk=" not in runs.first.stdout + runs.first.stderr  # the client key is never printed


def test_running_again_changes_and_restarts_nothing(runs: Runs) -> None:
    assert runs.second.returncode == 0, runs.second.stdout[-4000:]
    recap = [line for line in runs.second.stdout.splitlines() if line.startswith("dc-molecule-k3s-dpu ")]
    assert recap and "changed=0" in recap[0], recap
    assert runs.after_second == runs.started_at
