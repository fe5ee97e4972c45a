"""One API connection: login, command dispatch and replies (``!re``, ``!done``, ``!trap``, ``!empty``, ``!fatal``)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import INTERRUPTED, ApiError, FatalError
from .model import PathSpec, Row
from .query import QueryError, matches, validate
from .state import NO_SUCH_ITEM, RouterState, unknown_parameter

Send = Callable[[list[str]], None]

# Flags print accepts and the simulator can honour (output shape does not change over the API).
PRINT_FLAGS = frozenset({".proplist", "detail", "count-only", "without-paging", "terse", "brief", "show-ids", "as-value"})
EMPTY_REPLY_SINCE = (7, 18)


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str


@dataclass
class Request:
    command: str
    attributes: dict[str, str] = field(default_factory=dict)
    api_attributes: dict[str, str] = field(default_factory=dict)
    queries: list[str] = field(default_factory=list)

    @property
    def tag(self) -> str | None:
        return self.api_attributes.get(".tag")

    @classmethod
    def parse(cls, words: list[str]) -> Request:
        request = cls(words[0])
        for word in words[1:]:
            if word.startswith("="):
                name, _unused, value = word[1:].partition("=")
                request.attributes[name] = value
            elif word.startswith("?"):
                request.queries.append(word)
            elif word.startswith("."):
                name, _unused, value = word.partition("=")
                request.api_attributes[name] = value
            else:
                request.attributes[word] = ""
        return request


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version.split("beta", maxsplit=1)[0].split("rc", maxsplit=1)[0])[:3])


def known_prefixes(state: RouterState) -> set[str]:
    prefixes: set[str] = set()
    for path in state.specs:
        parts = path.strip("/").split("/")
        prefixes.update("/" + "/".join(parts[: index + 1]) for index in range(len(parts)))
    return prefixes


class Session:
    def __init__(self, state: RouterState, credentials: Credentials, send: Send) -> None:
        self.state = state
        self.credentials = credentials
        self._send = send
        self._send_lock = threading.Lock()
        self.logged_in = False
        self._listens: dict[str, int] = {}  # tag ("" when untagged) -> listener handle
        self._prefixes = known_prefixes(state)

    # ----------------------------------------------------------------- replies
    def reply(self, kind: str, tag: str | None, attributes: Row | None = None, extra: list[str] | None = None) -> None:
        words = [kind]
        if tag is not None:
            words.append(f".tag={tag}")
        words += [f"={name}={value}" for name, value in (attributes or {}).items()]
        words += extra or []
        with self._send_lock:
            self._send(words)

    def trap(self, error: ApiError, tag: str | None) -> None:
        for message, category in error.traps:
            attributes = {"category": str(category)} if category is not None else {}
            self.reply("!trap", tag, {**attributes, "message": message})

    def close(self) -> None:
        for handle in self._listens.values():
            self.state.remove_listener(handle)
        self._listens.clear()

    # ----------------------------------------------------------------- dispatch
    def handle(self, words: list[str]) -> None:
        """Execute one sentence; raises FatalError when the connection must end."""
        request = Request.parse(words)
        if request.command == "/quit":
            raise FatalError("session terminated on request")
        if request.command == "/login":
            self._login(request)
            return
        if not self.logged_in:
            # Wording chosen: RouterOS ends API sessions that send commands before logging in.
            raise FatalError("not logged in")
        if request.command == "/cancel":
            self._cancel(request)
            return
        try:
            self._execute(request)
        except ApiError as error:
            self.trap(error, request.tag)
            self.reply("!done", request.tag)

    def _login(self, request: Request) -> None:
        given = (request.attributes.get("name"), request.attributes.get("password"))
        if given == (self.credentials.username, self.credentials.password):
            self.logged_in = True
        else:
            self.trap(ApiError("invalid user name or password (6)"), request.tag)
        self.reply("!done", request.tag)

    def _cancel(self, request: Request) -> None:
        wanted = request.attributes.get("tag")
        cancelled = [tag for tag in self._listens if wanted is None or tag == wanted]
        for tag in cancelled:
            self.state.remove_listener(self._listens.pop(tag))
            self.trap(ApiError("interrupted", INTERRUPTED), tag or None)
        self.reply("!done", request.tag)
        for tag in cancelled:
            self.reply("!done", tag or None)

    def _execute(self, request: Request) -> None:
        path, _unused, verb = request.command.rpartition("/")
        spec = self.state.specs.get(path)
        if spec is None or verb not in spec.commands:
            raise self._unknown_command(request.command)
        handler = {
            "print": self._print,
            "getall": self._print,
            "listen": self._listen,
            "add": self._add,
            "set": self._set,
            "unset": self._unset,
            "remove": self._remove,
            "move": self._move,
        }[verb]
        handler(spec, request)

    def _unknown_command(self, command: str) -> ApiError:
        """Seen on RouterOS 7: two traps, the first naming the first unknown word of the command."""
        parts = command.strip("/").split("/")
        unknown = parts[-1]
        for index in range(len(parts)):
            if "/" + "/".join(parts[: index + 1]) not in self._prefixes:
                unknown = parts[index]
                break
        return ApiError(f"no such command or directory ({unknown})", None, ("no such command prefix", None))

    # ----------------------------------------------------------------- commands
    def _print(self, spec: PathSpec, request: Request) -> None:
        for name in request.attributes:
            if name not in PRINT_FLAGS:
                raise unknown_parameter(name)
        try:
            validate(request.queries)
        except QueryError as error:
            raise ApiError(str(error)) from None
        rows = [row for _unused, row in self.state.items(spec.path) if matches(request.queries, row)]
        if "count-only" in request.attributes:
            self.reply("!done", request.tag, {"ret": str(len(rows))})
            return
        proplist = request.attributes.get(".proplist", request.api_attributes.get(".proplist"))
        wanted = None if proplist is None else [name for name in proplist.split(",") if name]
        for row in rows:
            self.reply("!re", request.tag, row if wanted is None else {name: row[name] for name in row if name in wanted})
        if not rows and version_tuple(self.state.version) >= EMPTY_REPLY_SINCE:
            self.reply("!empty", request.tag)
        self.reply("!done", request.tag)

    def _listen(self, spec: PathSpec, request: Request) -> None:
        tag = request.tag

        def on_change(path: str, item_id: str, row: Row | None) -> None:
            self.reply("!re", tag, row if row is not None else {".id": item_id, ".dead": "true"})

        key = tag or ""
        if key in self._listens:
            self.state.remove_listener(self._listens[key])
        self._listens[key] = self.state.add_listener(spec.path, on_change)

    def _add(self, spec: PathSpec, request: Request) -> None:
        item_id = self.state.add(spec.path, request.attributes)
        self.reply("!done", request.tag, {"ret": item_id})

    def _targets(self, spec: PathSpec, attributes: dict[str, str]) -> list[str]:
        ids_word = attributes.pop(".id", None)
        numbers = attributes.pop("numbers", None)
        ids_word = ids_word if ids_word is not None else numbers
        if ids_word is None or not ids_word.strip():
            raise ApiError(NO_SUCH_ITEM)  # wording chosen: nothing named is no such item
        return self.state.resolve(spec.path, ids_word)

    def _set(self, spec: PathSpec, request: Request) -> None:
        attributes = dict(request.attributes)
        if spec.singleton:
            attributes.pop(".id", None)
            attributes.pop("numbers", None)
            self.state.set_singleton(spec.path, attributes)
        else:
            self.state.set(spec.path, self._targets(spec, attributes), attributes)
        self.reply("!done", request.tag)

    def _unset(self, spec: PathSpec, request: Request) -> None:
        attributes = dict(request.attributes)
        names = [name for name in attributes.pop("value-name", "").split(",") if name]
        if spec.singleton:
            attributes.pop(".id", None)
            ids = [item_id for item_id, _unused in self.state.stored_items(spec.path)]
        else:
            ids = self._targets(spec, attributes)
        if attributes:
            raise unknown_parameter(next(iter(attributes)))
        if not names:
            raise unknown_parameter("value-name")
        self.state.unset(spec.path, ids, names)
        self.reply("!done", request.tag)

    def _remove(self, spec: PathSpec, request: Request) -> None:
        attributes = dict(request.attributes)
        ids = self._targets(spec, attributes)
        if attributes:
            raise unknown_parameter(next(iter(attributes)))
        self.state.remove(spec.path, ids)
        self.reply("!done", request.tag)

    def _move(self, spec: PathSpec, request: Request) -> None:
        attributes = dict(request.attributes)
        destination_word = attributes.pop("destination", None)
        ids = self._targets(spec, attributes)
        if attributes:
            raise unknown_parameter(next(iter(attributes)))
        destination = self.state.resolve(spec.path, destination_word)[0] if destination_word else None
        self.state.move(spec.path, ids, destination)
        self.reply("!done", request.tag)
