"""RouterOS test peers: a real router when ROUTEROS_* is set, otherwise the API simulator.

Fixtures
- ``routeros``: function-scoped ``RouterOSTarget``; against the simulator a fresh process with fresh state.
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
import ssl
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest

from lab.simulators.routeros.launcher import SimulatorProcess

SIMULATOR_USERNAME = "admin"
SIMULATOR_PASSWORD = "simulator-secret"
SIMULATOR_HOST = "127.0.0.1"


@dataclass(frozen=True)
class RouterOSTarget:
    """Where a test talks to RouterOS, and with which credentials."""

    hostname: str
    port: int
    username: str
    password: str
    tls: bool = False
    validate_certs: bool = False
    ca_path: str | None = None
    is_real: bool = False

    def connection_args(self) -> dict[str, Any]:
        """Connection options as the collection's modules take them (ca_path only when set)."""
        args = {key: value for key, value in asdict(self).items() if key != "is_real"}
        if args["ca_path"] is None:
            del args["ca_path"]
        return args


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def real_router_from_env() -> RouterOSTarget | None:
    """The real router named by ROUTEROS_* variables, or None when they are not all set."""
    host = os.environ.get("ROUTEROS_HOST")
    username = os.environ.get("ROUTEROS_USERNAME")
    password = os.environ.get("ROUTEROS_PASSWORD")
    if not (host and username and password is not None):
        return None
    tls = _env_flag("ROUTEROS_TLS", False)
    ca_path = os.environ.get("ROUTEROS_CA_PATH") or None
    return RouterOSTarget(
        hostname=host,
        port=int(os.environ.get("ROUTEROS_PORT") or (8729 if tls else 8728)),
        username=username,
        password=password,
        tls=tls,
        validate_certs=_env_flag("ROUTEROS_VALIDATE_CERTS", ca_path is not None),
        ca_path=ca_path,
        is_real=True,
    )


def simulator_args(*extra_args: str, version: str | None = None, drop_after: int | None = None, tls: bool = False, cert_dir: Path | None = None) -> list[str]:
    args = ["--username", SIMULATOR_USERNAME, "--password", SIMULATOR_PASSWORD]
    if version is not None:
        args += ["--version", version]
    if drop_after is not None:
        args += ["--drop-after", str(drop_after)]
    if tls:
        if cert_dir is None:
            raise ValueError("a TLS simulator needs cert_dir to publish its certificate")
        args += ["--tls", "--cert-out", str(cert_dir / "routeros-simulator.pem")]
    return [*args, *extra_args]


def target_of(simulator: SimulatorProcess, *, tls: bool = False, cert_dir: Path | None = None) -> RouterOSTarget:
    ca_path = str(cert_dir / "routeros-simulator.pem") if tls and cert_dir is not None else None
    return RouterOSTarget(
        hostname=simulator.host,
        port=simulator.port,
        username=SIMULATOR_USERNAME,
        password=SIMULATOR_PASSWORD,
        tls=tls,
        validate_certs=ca_path is not None,
        ca_path=ca_path,
        is_real=False,
    )


def connect_api(target: RouterOSTarget, timeout: float = 10.0) -> Any:
    """A logged-in librouteros Api for direct checks (caller closes it)."""
    import librouteros

    ssl_wrapper = None
    if target.tls:
        if target.validate_certs:
            context = ssl.create_default_context(cafile=target.ca_path)
        else:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            # A RouterOS api-ssl service without a certificate only offers anonymous DH.
            context.set_ciphers("ALL:@SECLEVEL=0")

        def ssl_wrapper(sock: Any) -> Any:
            return context.wrap_socket(sock, server_hostname=target.hostname)

    return librouteros.connect(target.hostname, target.username, target.password, port=target.port, timeout=timeout, ssl_wrapper=ssl_wrapper)


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
