"""The session (plugins/module_utils/_routeros/session.py): raw values, one read per path, error reporting, TLS options."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import Any

import pytest
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.engine import plan_path
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.errors import RouterOSError
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.paths import BRIDGE, DHCP_LEASE, IP_POOL
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.session import ConnectionOptions, Session, _RawApi, _tls_wrapper
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.vlan import VlanRequest, plan_vlan
from librouteros.exceptions import ConnectionClosed, FatalError, MultiTrapError, TrapError

from tests.support.routeros_readers import ETHERNETS, StaticReader, vlan_params


class FakeApi:
    """Answers prints from fixed raw rows, records writes, raises a chosen exception on a chosen command."""

    def __init__(self, rows: Mapping[str, list[dict[str, str]]], fail_on: str | None = None, error: Exception | None = None) -> None:
        self.rows = rows
        self.fail_on = fail_on
        self.error = error
        self.sent: list[tuple[str, tuple[str, ...]]] = []

    def rawCmd(self, command: str, *words: str) -> list[dict[str, str]]:
        self.sent.append((command, words))
        if command == self.fail_on and self.error is not None:
            raise self.error
        if command.endswith("/print"):
            return self.rows.get(command.removesuffix("/print"), [])
        if command.endswith("/add"):
            return [{"ret": f"*{len(self.sent):X}"}]
        return []

    def close(self) -> None:
        pass


def test_session_reads_each_path_once() -> None:
    api = FakeApi({"/ip/pool": [{".id": "*1", "name": "p", "ranges": "10.0.0.1"}]})
    session = Session(api)
    session.read(IP_POOL)
    session.read(IP_POOL)
    assert api.sent == [("/ip/pool/print", ())]


def test_later_changes_refer_to_entries_added_in_the_same_run_by_the_routers_id() -> None:
    """A new bridge is added with filtering off and switched on last: the set must use the id add returned."""
    api = FakeApi({})
    outcome = plan_vlan(StaticReader({"/interface": ETHERNETS}), VlanRequest.from_params(vlan_params()))
    Session(api).apply(outcome.changes)
    bridge_add = api.sent.index(next(item for item in api.sent if item[0] == "/interface/bridge/add"))
    assert api.sent[-1] == ("/interface/bridge/set", (f"=.id=*{bridge_add + 1:X}", "=vlan-filtering=yes"))


def test_session_sends_changes_in_order() -> None:
    api = FakeApi({})
    plan = plan_path(IP_POOL, [{"name": "p", "ranges": frozenset({"10.0.0.1"})}], [])
    applied = Session(api).apply(plan.in_order())
    assert api.sent == [("/ip/pool/add", ("=name=p", "=ranges=10.0.0.1"))]
    assert applied == ["/ip/pool/add name=p ranges=10.0.0.1"]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (TrapError(message="failure: already have such entry", category=None), "the router refused: failure: already have such entry"),
        (MultiTrapError(TrapError(message="a"), TrapError(message="b")), "the router refused: a; b"),
        (FatalError("session terminated on request"), "the router ended the session (!fatal): session terminated on request"),
        (ConnectionClosed("Connection unexpectedly closed."), "the connection to the router was lost (Connection unexpectedly closed.)"),
        (TimeoutError("timed out"), "the connection to the router was lost (timed out)"),
    ],
)
def test_write_failures_name_path_entry_and_router_message(error: Exception, expected: str) -> None:
    api = FakeApi({}, fail_on="/ip/dhcp-server/lease/add", error=error)
    plan = plan_path(IP_POOL, [{"name": "p"}], [])
    lease = plan_path(DHCP_LEASE, [{"server": "s", "mac-address": "00:E0:66:59:89:84", "address": "10.0.0.5"}], [])
    with pytest.raises(RouterOSError) as caught:
        Session(api).apply([*plan.in_order(), *lease.in_order()])
    failure = caught.value
    assert expected in failure.message
    assert failure.message.startswith("add DHCP lease (server=s mac-address=00:E0:66:59:89:84) on /ip/dhcp-server/lease: ")
    assert failure.details()["path"] == "/ip/dhcp-server/lease"
    assert failure.details()["entry"] == "server=s mac-address=00:E0:66:59:89:84"
    assert failure.applied == ["/ip/pool/add name=p"]


def test_read_failure_names_the_path() -> None:
    api = FakeApi({}, fail_on="/interface/bridge/print", error=TrapError(message="not enough permissions (9)"))
    with pytest.raises(RouterOSError, match=r"reading /interface/bridge: the router refused: not enough permissions \(9\)"):
        Session(api).read(BRIDGE)


def test_raw_api_keeps_router_text() -> None:
    class Protocol:
        def readSentence(self) -> tuple[str, tuple[str, ...]]:
            return "!re", ("=comment=yes", "=name=007", "=value==a=b", "=empty=")

    api = _RawApi(protocol=Protocol())
    assert api.readSentence() == ("!re", {"comment": "yes", "name": "007", "value": "=a=b", "empty": ""})


def test_tls_options_map_to_ssl_context(monkeypatch: pytest.MonkeyPatch) -> None:
    contexts: list[ssl.SSLContext] = []
    real = ssl.create_default_context

    def capture(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        context = real()
        contexts.append(context)
        return context

    monkeypatch.setattr(ssl, "create_default_context", capture)
    _tls_wrapper(ConnectionOptions("r", "u", "p", tls=True))
    _tls_wrapper(ConnectionOptions("r", "u", "p", tls=True, validate_cert_hostname=True))
    _tls_wrapper(ConnectionOptions("r", "u", "p", tls=True, validate_certs=False))
    default, hostname, unvalidated = contexts
    assert default.verify_mode == ssl.CERT_REQUIRED and not default.check_hostname
    assert hostname.verify_mode == ssl.CERT_REQUIRED and hostname.check_hostname
    assert unvalidated.verify_mode == ssl.CERT_NONE


def test_connection_options_default_ports() -> None:
    assert ConnectionOptions("r", "u", "p").effective_port == 8728
    assert ConnectionOptions("r", "u", "p", tls=True).effective_port == 8729
    assert ConnectionOptions.from_params({"hostname": "r", "username": "u", "password": "p", "port": None, "tls": True}).effective_port == 8729


def test_connect_failure_is_reported_without_the_password() -> None:
    options = ConnectionOptions("127.0.0.1", "admin", "s3cret", port=1, timeout=2)
    with pytest.raises(RouterOSError) as caught:
        Session.connect(options)
    assert caught.value.message.startswith("connecting to admin@127.0.0.1:1: cannot reach the router API")
    assert "s3cret" not in caught.value.message
