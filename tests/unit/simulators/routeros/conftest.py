"""Fixtures for the RouterOS simulator's own tests (helpers in tests/support/routeros_wire.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from lab.simulators.routeros.server import ApiServer, Faults
from lab.simulators.routeros.session import Credentials
from tests.support.routeros_wire import PASSWORD, USERNAME, Conversation, WireClient, new_state


@pytest.fixture
def api() -> Conversation:
    return Conversation(new_state())


@pytest.fixture
def conversation_for() -> Callable[..., Conversation]:
    def make(version: str = "7.16", login: bool = True) -> Conversation:
        return Conversation(new_state(version), login=login)

    return make


@pytest.fixture
def wire_server() -> Iterator[Callable[..., Callable[[], WireClient]]]:
    """``wire_server(version=..., drop_after=...)`` starts an in-process server; returns a client factory."""
    servers: list[ApiServer] = []
    clients: list[WireClient] = []

    def start(version: str = "7.16", drop_after: int | None = None) -> Callable[[], WireClient]:
        server = ApiServer(("127.0.0.1", 0), new_state(version), Credentials(USERNAME, PASSWORD), None, Faults(drop_after))
        servers.append(server)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        port = int(server.server_address[1])

        def connect() -> WireClient:
            client = WireClient(port)
            clients.append(client)
            return client

        return connect

    try:
        yield start
    finally:
        for client in clients:
            client.close()
        for server in servers:
            server.shutdown()
            server.close_connections()
            server.server_close()
