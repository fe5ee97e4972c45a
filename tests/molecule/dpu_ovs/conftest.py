"""Run container commands with `podman exec`."""

from __future__ import annotations

from typing import Any

import pytest
import testinfra
from testinfra.backend.ansible import AnsibleBackend

PODMAN_CONNECTIONS = ("podman", "containers.podman.podman")


@pytest.fixture(scope="module")
def dpu(host: Any) -> Any:
    """The scenario's host, through `podman exec` when it is a podman container.

    testinfra's ansible backend does not know the podman connection and runs one ansible-playbook per
    command (seconds each); `podman exec` takes a fraction of that. Other connections are used as given.
    """
    backend = host.backend
    if isinstance(backend, AnsibleBackend) and not backend.force_ansible:
        variables = backend.ansible_runner.get_variables(backend.host)
        if variables.get("ansible_connection") in PODMAN_CONNECTIONS:
            return testinfra.get_host(f"podman://{backend.host}")
    return host
