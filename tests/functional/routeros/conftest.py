"""RouterOS test peers: a real router when ROUTEROS_* is set, otherwise the API simulator.

Fixtures
- ``routeros``: function-scoped ``RouterOSTarget``; against the simulator a fresh process with fresh state.
- ``routeros_full_plan``: ``routeros``, skipped against a real router unless ROUTEROS_ALLOW_FULL_PLAN=1.
- ``routeros_session``: the same, one per test session (share state between tests at your own risk).
- ``routeros_simulator``: factory ``routeros_simulator(*extra_args, version=None, drop_after=None, tls=False)``
  starting an extra simulator (e.g. ``drop_after=3`` for fault tests); skips the test against a real router.
- ``routeros_api``: factory ``routeros_api(target=None)`` returning a logged-in librouteros ``Api`` for
  direct checks (defaults to the ``routeros`` target); every connection is closed after the test.

Environment for a real router: ROUTEROS_HOST, ROUTEROS_USERNAME, ROUTEROS_PASSWORD, optional
ROUTEROS_TLS=1, ROUTEROS_PORT (default 8729 with TLS else 8728), ROUTEROS_CA_PATH (turns certificate
validation on), ROUTEROS_VALIDATE_CERTS=0/1 to override that.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lab.simulators.routeros.launcher import SimulatorProcess
from tests.support.routeros import SIMULATOR_HOST, RouterOSTarget, connect_api, real_router_from_env, simulator_args, target_of


@pytest.fixture(scope="session")
def routeros_real() -> RouterOSTarget | None:
    return real_router_from_env()


@pytest.fixture
def routeros(routeros_real: RouterOSTarget | None) -> Iterator[RouterOSTarget]:
    if routeros_real is not None:
        yield routeros_real
        return
    with SimulatorProcess(*simulator_args(), host=SIMULATOR_HOST) as simulator:
        yield target_of(simulator)


@pytest.fixture
def routeros_full_plan(routeros: RouterOSTarget) -> RouterOSTarget:
    """``routeros`` for tests that apply the whole reference plan: a real router only with ROUTEROS_ALLOW_FULL_PLAN=1."""
    if routeros.is_real and os.environ.get("ROUTEROS_ALLOW_FULL_PLAN") != "1":
        pytest.skip("applies the whole reference plan: set ROUTEROS_ALLOW_FULL_PLAN=1 to run it against the real router")
    return routeros


@pytest.fixture(scope="session")
def routeros_session(routeros_real: RouterOSTarget | None) -> Iterator[RouterOSTarget]:
    if routeros_real is not None:
        yield routeros_real
        return
    with SimulatorProcess(*simulator_args(), host=SIMULATOR_HOST) as simulator:
        yield target_of(simulator)


@pytest.fixture
def routeros_simulator(routeros_real: RouterOSTarget | None, tmp_path: Path) -> Iterator[Callable[..., RouterOSTarget]]:
    """Factory for extra simulators (faults, versions, TLS); skips the test against a real router."""
    if routeros_real is not None:
        pytest.skip("needs the RouterOS simulator (fault injection / version choice); ROUTEROS_HOST points at a real router")
    started: list[SimulatorProcess] = []

    def start(*extra_args: str, version: str | None = None, drop_after: int | None = None, tls: bool = False) -> RouterOSTarget:
        cert_dir = tmp_path / f"simulator-{len(started)}"
        cert_dir.mkdir()
        simulator = SimulatorProcess(*simulator_args(*extra_args, version=version, drop_after=drop_after, tls=tls, cert_dir=cert_dir), host=SIMULATOR_HOST)
        started.append(simulator)
        simulator.start()
        return target_of(simulator, tls=tls, cert_dir=cert_dir)

    try:
        yield start
    finally:
        for simulator in started:
            simulator.stop()


@pytest.fixture
def routeros_api(request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """Factory ``routeros_api(target=None)`` -> logged-in librouteros Api, closed after the test.

    Without a target it connects to the ``routeros`` fixture's router (started on first use)."""
    connections: list[Any] = []

    def open_connection(target: RouterOSTarget | None = None) -> Any:
        api = connect_api(target if target is not None else request.getfixturevalue("routeros"))
        connections.append(api)
        return api

    try:
        yield open_connection
    finally:
        for api in connections:
            api.close()
