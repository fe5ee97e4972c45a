# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading and writing a router: librouteros, TLS and the connection options."""

from __future__ import annotations

import contextlib
import socket
import ssl
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.engine import NEW_ID_PREFIX, Change, PathSpec, Row, row_from_raw
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.errors import RouterOSError

LIBROUTEROS_IMPORT_ERROR: str | None
try:
    import librouteros
    from librouteros.api import Api
    from librouteros.exceptions import ConnectionClosed, FatalError, LibRouterosError, MultiTrapError, TrapError

    LIBROUTEROS_IMPORT_ERROR = None
except ImportError:
    LIBROUTEROS_IMPORT_ERROR = traceback.format_exc()
    Api = object

    class LibRouterosError(Exception):  # type: ignore[no-redef]
        """Stand-in so that except clauses stay valid without librouteros."""

    ConnectionClosed = FatalError = MultiTrapError = TrapError = LibRouterosError


API_PORT = 8728
API_SSL_PORT = 8729


def _split_reply_word(word: str) -> tuple[str, str]:
    """``=name=value`` (value may hold ``=``) or ``.tag=x`` -> (name, value)."""
    key, value = word[1:].split("=", 1) if word.startswith("=") else word.split("=", 1)
    return key, value


class _RawApi(Api):  # type: ignore[misc]
    """librouteros Api that keeps every value as the router's text.

    librouteros casts ``yes``/``true`` to bool and digit strings to int, which loses information
    (a comment ``"007"`` or ``"yes"``); the engine normalises values itself, per property kind.
    """

    def readSentence(self) -> tuple[str, dict[str, Any]]:  # noqa: N802 - librouteros' name
        reply_word, words = self.protocol.readSentence()
        return reply_word, dict(_split_reply_word(word) for word in words)


@dataclass(frozen=True)
class ConnectionOptions:
    hostname: str
    username: str
    password: str
    port: int | None = None
    tls: bool = False
    validate_certs: bool = True
    validate_cert_hostname: bool = False
    ca_path: str | None = None
    timeout: int = 10
    encoding: str = "ASCII"

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> ConnectionOptions:
        return cls(**{name: params[name] for name in CONNECTION_ARGUMENT_SPEC if params.get(name) is not None})

    @property
    def effective_port(self) -> int:
        return self.port or (API_SSL_PORT if self.tls else API_PORT)


CONNECTION_ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "hostname": {"type": "str", "required": True},
    "username": {"type": "str", "required": True},
    "password": {"type": "str", "required": True, "no_log": True},
    "port": {"type": "int"},
    "tls": {"type": "bool", "default": False},
    "validate_certs": {"type": "bool", "default": True},
    "validate_cert_hostname": {"type": "bool", "default": False},
    "ca_path": {"type": "path"},
    "timeout": {"type": "int", "default": 10},
    "encoding": {"type": "str", "default": "ASCII"},
}


def _tls_wrapper(options: ConnectionOptions) -> Callable[[socket.socket], socket.socket]:
    context = ssl.create_default_context(cafile=options.ca_path if options.validate_certs else None)
    if not options.validate_certs:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        # Without validation anything goes, including RouterOS' anonymous-DH api-ssl without a certificate.
        context.set_ciphers("ALL:@SECLEVEL=0")
    elif not options.validate_cert_hostname:
        context.check_hostname = False

    def wrap(sock: socket.socket) -> socket.socket:
        return context.wrap_socket(sock, server_hostname=options.hostname)

    return wrap


def _router_message(exc: BaseException) -> str:
    if isinstance(exc, MultiTrapError):
        return "; ".join(str(trap) for trap in exc.traps)
    return str(exc) or type(exc).__name__


def _failure(doing: str, exc: BaseException, *, path: str | None = None, entry: str | None = None, connecting: bool = False) -> RouterOSError:
    """One message per librouteros exception class, naming what was being done."""
    message = _router_message(exc)
    if isinstance(exc, (TrapError, MultiTrapError)):
        text = f"{doing}: the router refused: {message}"
    elif isinstance(exc, FatalError):
        text = f"{doing}: the router ended the session (!fatal): {message}"
    elif isinstance(exc, ssl.SSLError):
        text = f"{doing}: TLS failed ({message}); check ca_path, or validate_certs/validate_cert_hostname"
    elif connecting and isinstance(exc, OSError):
        text = f"{doing}: cannot reach the router API ({message})"
    elif isinstance(exc, (ConnectionClosed, OSError)):
        text = f"{doing}: the connection to the router was lost ({message}); 'applied' lists what was done, run again to converge"
    else:
        text = f"{doing}: {type(exc).__name__}: {message}"
    return RouterOSError(text, path=path, entry=entry, router_message=message)


class Session:
    """A logged-in API connection; reads each path once and applies changes in the order given."""

    def __init__(self, api: Any, router_address: str | None = None) -> None:
        self._api = api
        self._cache: dict[str, list[Row]] = {}
        self._router_address = router_address

    @classmethod
    def connect(cls, options: ConnectionOptions) -> Session:
        if LIBROUTEROS_IMPORT_ERROR is not None:
            raise RouterOSError("the librouteros Python library is required")
        where = f"{options.username}@{options.hostname}:{options.effective_port}"
        try:
            api = librouteros.connect(
                options.hostname,
                options.username,
                options.password,
                port=options.effective_port,
                timeout=options.timeout,
                encoding=options.encoding,
                subclass=_RawApi,
                ssl_wrapper=_tls_wrapper(options) if options.tls else None,
            )
        except (LibRouterosError, OSError) as exc:
            raise _failure(f"connecting to {where}{' over TLS' if options.tls else ''}", exc, connecting=True) from None
        return cls(api, _peer_address(api))

    @property
    def router_address(self) -> str | None:
        """The router address this session talks to (to refuse removing it)."""
        return self._router_address

    def read(self, spec: PathSpec) -> list[Row]:
        if spec.path not in self._cache:
            try:
                raw_rows = list(self._api.rawCmd(spec.command("print")))
            except (LibRouterosError, OSError) as exc:
                raise _failure(f"reading {spec.path}", exc, path=spec.path) from None
            self._cache[spec.path] = [row_from_raw(spec, raw) for raw in raw_rows]
        return self._cache[spec.path]

    def query(self, spec: PathSpec, equal: Mapping[str, str]) -> list[Row]:
        """Rows whose properties equal the given values (a filtered print, not cached)."""
        words = [f"?={name}={value}" for name, value in equal.items()]
        try:
            raw_rows = list(self._api.rawCmd(spec.command("print"), *words))
        except (LibRouterosError, OSError) as exc:
            raise _failure(f"reading {spec.path}", exc, path=spec.path) from None
        return [row_from_raw(spec, raw) for raw in raw_rows]

    def apply(self, changes: Sequence[Change]) -> list[str]:
        """Send the changes in order; on failure the error lists what was applied before it."""
        applied: list[str] = []
        created: dict[str, str] = {}
        for change in changes:
            sent = change.words()
            if change.row_id is not None and change.row_id.startswith(NEW_ID_PREFIX):
                sent[".id"] = created[change.row_id]
            words = [f"={name}={value}" for name, value in sent.items()]
            try:
                replies = tuple(self._api.rawCmd(change.spec.command(change.action), *words))
                if change.new_id is not None:
                    created[change.new_id] = _created_id(change, replies)
            except (LibRouterosError, OSError) as exc:
                error = _failure(f"{change.action} {change.spec.label} ({change.entry}) on {change.spec.path}", exc, path=change.spec.path, entry=change.entry)
                error.applied = applied
                raise error from None
            applied.append(change.describe())
        self._cache.clear()
        return applied

    def close(self) -> None:
        with contextlib.suppress(LibRouterosError, OSError):
            self._api.close()


def _created_id(change: Change, replies: Sequence[Mapping[str, Any]]) -> str:
    """The id ``add`` returned (``=ret=*1A``); without one, the name, which ``.id`` also accepts for named items."""
    for reply in replies:
        if reply.get("ret"):
            return str(reply["ret"])
    return str(change.values.get("name", ""))


def _peer_address(api: Any) -> str | None:
    try:
        return str(api.protocol.transport.sock.getpeername()[0])
    except (AttributeError, OSError, IndexError):
        return None
