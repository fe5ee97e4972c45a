"""Helpers for the RouterOS simulator's own tests: reply readers, an in-process conversation and a raw wire client."""

from __future__ import annotations

import socket
from pathlib import Path

from lab.simulators.routeros.paths import build_state
from lab.simulators.routeros.protocol import SentenceReader, encode_sentence
from lab.simulators.routeros.session import Credentials, Session
from lab.simulators.routeros.state import RouterState

USERNAME = "admin"
PASSWORD = "test-password"

Sentence = list[str]


def attributes(sentence: Sentence) -> dict[str, str]:
    """``=name=value`` words of a reply as a dict."""
    return {word[1:].partition("=")[0]: word[1:].partition("=")[2] for word in sentence[1:] if word.startswith("=")}


def rows(replies: list[Sentence]) -> list[dict[str, str]]:
    return [attributes(reply) for reply in replies if reply[0] == "!re"]


def traps(replies: list[Sentence]) -> list[str]:
    return [attributes(reply)["message"] for reply in replies if reply[0] == "!trap"]


def kinds(replies: list[Sentence]) -> list[str]:
    return [reply[0] for reply in replies]


class Conversation:
    """A logged-in API session driven in-process: ``call(command, *words)`` returns the replies."""

    def __init__(self, state: RouterState, *, login: bool = True) -> None:
        self.state = state
        self.sent: list[Sentence] = []
        self.session = Session(state, Credentials(USERNAME, PASSWORD), self.sent.append)
        if login:
            assert self.call("/login", f"=name={USERNAME}", f"=password={PASSWORD}") == [["!done"]]

    def call(self, command: str, *words: str) -> list[Sentence]:
        start = len(self.sent)
        self.session.handle([command, *words])
        return self.sent[start:]

    def add(self, path: str, **values: str) -> str:
        replies = self.call(f"{path}/add", *(f"={name.replace('_', '-')}={value}" for name, value in values.items()))
        assert kinds(replies) == ["!done"], replies
        return attributes(replies[0])["ret"]

    def print(self, path: str, *words: str) -> list[dict[str, str]]:
        return rows(self.call(f"{path}/print", *words))

    def failure(self, command: str, *words: str) -> str:
        """The single trap message of a command that must fail (and still end with !done)."""
        replies = self.call(command, *words)
        assert kinds(replies) == ["!trap", "!done"], replies
        return traps(replies)[0]


def new_state(version: str = "7.16", state_file: Path | None = None) -> RouterState:
    return build_state(version=version, board="RDS2216", state_file=state_file)


class WireClient:
    """A raw API client on a socket: sends words, reads sentences (no interpretation)."""

    def __init__(self, port: int) -> None:
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.reader = SentenceReader(self.socket.recv)

    def send(self, *words: str) -> None:
        self.socket.sendall(encode_sentence(words))

    def send_raw(self, data: bytes) -> None:
        self.socket.sendall(data)

    def read(self) -> Sentence:
        return self.reader.read_sentence()

    def read_until_done(self) -> list[Sentence]:
        replies = [self.read()]
        while replies[-1][0] not in {"!done", "!fatal"}:
            replies.append(self.read())
        return replies

    def call(self, *words: str) -> list[Sentence]:
        self.send(*words)
        return self.read_until_done()

    def login(self) -> None:
        assert self.call("/login", f"=name={USERNAME}", f"=password={PASSWORD}") == [["!done"]]

    def is_closed(self) -> bool:
        try:
            return self.socket.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.socket.close()
