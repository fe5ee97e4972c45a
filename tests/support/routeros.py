"""RouterOS test targets: a real router named by ROUTEROS_* variables, or the API simulator (lab.simulators.routeros).

`RouterOSTarget` is where a test talks to RouterOS and with which credentials; `connect_api` opens a librouteros
connection for direct checks (never the collection's code). The fixtures are in tests/functional/routeros/conftest.py.

Environment for a real router: ROUTEROS_HOST, ROUTEROS_USERNAME, ROUTEROS_PASSWORD, optional
ROUTEROS_TLS=1, ROUTEROS_PORT (default 8729 with TLS else 8728), ROUTEROS_CA_PATH (turns certificate
validation on), ROUTEROS_VALIDATE_CERTS=0/1 to override that.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

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


def network_override(target: RouterOSTarget, directory: Path, **routeros_overrides: Any) -> Path:
    """Extra variables pointing playbooks/network.yml (inventories/example's rds1) at TARGET; the file's path."""
    routeros: dict[str, Any] = {"bridge": "bridge1", "username": target.username, "password": target.password, "tls": target.tls,
                                "validate_certs": target.validate_certs, "port": target.port, "uplink_ports": ["qsfp28-1-1"]}  # fmt: skip
    if target.ca_path:
        routeros["ca_path"] = target.ca_path
    routeros.update(routeros_overrides)
    override = directory / f"router-{len(list(directory.glob('router-*.yml')))}.yml"
    override.write_text(yaml.safe_dump({"ansible_host": target.hostname, "dc_routeros": routeros}))
    return override
