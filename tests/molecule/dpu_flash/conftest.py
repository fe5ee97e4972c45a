"""Reach the container with `podman exec`; read the scenario's variables."""

from __future__ import annotations

from typing import Any

import pytest
import testinfra
from testinfra.backend.ansible import AnsibleBackend

PODMAN_CONNECTIONS = ("podman", "containers.podman.podman")


@pytest.fixture(scope="module")
def dpu_host(host: Any) -> Any:
    """The diskless host, through `podman exec` when it is a podman container.

    testinfra's ansible backend runs one ansible-playbook per command (seconds each); `podman exec` takes a
    fraction of that. Other connections are used as given.
    """
    backend = host.backend
    if isinstance(backend, AnsibleBackend) and not backend.force_ansible:
        variables = backend.ansible_runner.get_variables(backend.host)
        if variables.get("ansible_connection") in PODMAN_CONNECTIONS:
            return testinfra.get_host(f"podman://{variables.get('ansible_host', backend.host)}")
    return host


@pytest.fixture(scope="module")
def scenario(host: Any) -> dict[str, Any]:
    """The scenario's inventory variables (scenario_* from molecule.yml) as Ansible resolves them."""
    backend = host.backend
    if not isinstance(backend, AnsibleBackend):
        pytest.skip("the scenario's variables come from the Molecule inventory (ansible connection)")
    return dict(backend.ansible_runner.get_variables(backend.host))
