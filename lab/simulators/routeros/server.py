"""TCP (optionally TLS) server: one thread and one Session per connection."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import ssl
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from .errors import FatalError
from .protocol import ConnectionClosedError, ProtocolError, ReservedControlByteError, SentenceReader, encode_sentence
from .session import Credentials, Session
from .state import RouterState


@dataclass(frozen=True)
class Faults:
    drop_after: int | None = None  # close the connection when this many sentences have arrived (the last is not executed)


class CommandLog:
    """``--log-commands FILE``: one line per sentence a client sends, ``<connection number><TAB><command word>``.

    Only the first word is written (``/login``, ``/ip/dhcp-server/lease/print``...), never attributes, so
    passwords stay out of it. Connections are numbered from 1 in the order they are accepted; lines are
    flushed as they are written, so a test can read the file while the simulator runs.
    """

    def __init__(self, path: Path) -> None:
        self._file: TextIO = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()
        self._connections = 0

    def new_connection(self) -> int:
        with self._lock:
            self._connections += 1
            return self._connections

    def record(self, connection: int, command: str) -> None:
        with self._lock:
            self._file.write(f"{connection}\t{command}\n")
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


class ApiServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        state: RouterState,
        credentials: Credentials,
        tls: ssl.SSLContext | None = None,
        faults: Faults = Faults(),
        *,
        command_log: CommandLog | None = None,
    ) -> None:
        self.state = state
        self.credentials = credentials
        self.tls = tls
        self.faults = faults
        self.command_log = command_log
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.address_family = family
        super().__init__(address, ApiConnection)

    def track(self, connection: socket.socket, active: bool) -> None:
        with self._connections_lock:
            if active:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class ApiConnection(socketserver.BaseRequestHandler):
    server: ApiServer

    def handle(self) -> None:
        connection: socket.socket = self.request
        if self.server.tls is not None:
            try:
                connection = self.server.tls.wrap_socket(connection, server_side=True)
            except (ssl.SSLError, OSError):
                return
        self.server.track(connection, True)
        session = Session(self.server.state, self.server.credentials, lambda words: connection.sendall(encode_sentence(words)))
        try:
            self._serve(connection, session)
        finally:
            session.close()
            self.server.track(connection, False)
            with contextlib.suppress(OSError):
                connection.close()

    def _serve(self, connection: socket.socket, session: Session) -> None:
        reader = SentenceReader(connection.recv)
        received = 0
        drop_after = self.server.faults.drop_after
        log = self.server.command_log
        number = log.new_connection() if log is not None else 0
        while True:
            try:
                words = reader.read_sentence()
            except ReservedControlByteError:
                # The manual leaves reserved control bytes undefined; the router cannot parse on, so it ends the session.
                self._fatal(session, "malformed sentence: reserved control byte")
                return
            except (ConnectionClosedError, ProtocolError, OSError):
                return
            received += 1
            if log is not None and words:
                log.record(number, words[0])
            if drop_after is not None and received >= drop_after:
                print(f"fault: dropping connection after {received} sentences", file=sys.stderr, flush=True)
                return
            try:
                session.handle(words)
            except FatalError as fatal:
                self._fatal(session, str(fatal))
                return
            except OSError:
                return

    @staticmethod
    def _fatal(session: Session, reason: str) -> None:
        with contextlib.suppress(OSError):
            session.reply("!fatal", None, extra=[reason])
