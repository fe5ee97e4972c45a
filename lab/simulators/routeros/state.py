"""The router's configuration: tables of items per path, ID counters, writes with the router's checks."""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .errors import ApiError
from .model import PathSpec, Row
from .values import InterfaceList, Reference

NO_SUCH_ITEM = "no such item (4)"
STATE_FORMAT = 1

Listener = Callable[[str, str, "Row | None"], None]  # (path, id, row or None when removed)


def unknown_parameter(name: str) -> ApiError:
    return ApiError(f"unknown parameter {name}")


def format_id(number: int) -> str:
    return f"*{number:X}"


def id_number(item_id: str) -> int:
    return int(item_id[1:], 16)


@dataclass(frozen=True)
class Projection:
    """Items of ``owner`` also listed under another path (bridges and VLANs appear in /interface)."""

    owner: str
    project: Callable[[RouterState, str, Row], Row]


class RouterState:
    """All configuration; every public method takes the lock, so connections may share one instance."""

    def __init__(self, specs: Iterable[PathSpec], *, version: str, board: str, state_file: Path | None = None) -> None:
        self.specs: dict[str, PathSpec] = {spec.path: spec for spec in specs}
        self.version = version
        self.board = board
        self.state_file = state_file
        self.started = time.monotonic()
        self.lock = threading.RLock()
        self.tables: dict[str, dict[str, Row]] = {path: {} for path in self.specs}
        self.counters: dict[str, int] = {}
        self.projections: dict[str, list[Projection]] = {}
        self.refreshers: list[Callable[[RouterState], None]] = []
        self.interface_family: set[str] = set()
        self._listeners: dict[int, tuple[str, Listener]] = {}
        self._next_listener = 0

    # ----------------------------------------------------------------- reading
    def spec(self, path: str) -> PathSpec:
        return self.specs[path]

    def owner_of(self, path: str, item_id: str) -> str:
        if item_id in self.tables[path]:
            return path
        for projection in self.projections.get(path, []):
            if item_id in self.tables[projection.owner]:
                return projection.owner
        raise ApiError(NO_SUCH_ITEM)

    def stored_items(self, path: str) -> list[tuple[str, Row]]:
        return list(self.tables[path].items())

    def items(self, path: str) -> list[tuple[str, Row]]:
        """Rendered items (stored values + computed ones), ordered by ID as the router lists them."""
        with self.lock:
            spec = self.specs[path]
            rendered = [(item_id, self._render(spec, item_id, row)) for item_id, row in self.tables[path].items()]
            if path in self.projections:
                for projection in self.projections[path]:
                    for item_id, row in self.tables[projection.owner].items():
                        rendered.append((item_id, projection.project(self, item_id, row)))
                rendered.sort(key=lambda pair: id_number(pair[0]))
            return rendered  # otherwise in table order: creation order, changed only by `move`

    def _render(self, spec: PathSpec, item_id: str, row: Row) -> Row:
        rendered = dict(row)
        if spec.computed is not None:
            rendered.update(spec.computed(self, item_id, row))
        order = [field.name for field in spec.fields]
        ordered = {name: rendered[name] for name in order if name in rendered}
        ordered.update({name: value for name, value in rendered.items() if name not in ordered})
        return ordered if spec.singleton else {".id": item_id, **ordered}

    def names(self, path: str) -> set[str]:
        """Names usable to refer to items of ``path`` (all interfaces for the interface family)."""
        paths = self.interface_family if path == "/interface" else {path}
        found: set[str] = set()
        for member in paths:
            name_field = self.specs[member].name_field
            if name_field:
                found.update(row[name_field] for row in self.tables[member].values() if name_field in row)
        return found

    def exists(self, path: str, name: str) -> bool:
        with self.lock:
            return name in self.names(path)

    def resolve(self, path: str, ids_word: str) -> list[str]:
        """IDs named by a ``.id``/``numbers`` word: comma-separated IDs or item names."""
        with self.lock:
            listed = dict(self.items(path))
            resolved: list[str] = []
            for token in (part.strip() for part in ids_word.split(",")):
                match = self._resolve_one(path, listed, token)
                if match is None:
                    raise ApiError(NO_SUCH_ITEM)
                if match not in resolved:
                    resolved.append(match)
            if not resolved:
                raise ApiError(NO_SUCH_ITEM)
            return resolved

    def _resolve_one(self, path: str, listed: dict[str, Row], token: str) -> str | None:
        if token in listed:
            return token
        name_field = self.specs[path].name_field
        if name_field:
            for item_id, row in listed.items():
                if row.get(name_field) == token:
                    return item_id
        return None

    # ----------------------------------------------------------------- listening
    def add_listener(self, path: str, listener: Listener) -> int:
        with self.lock:
            self._next_listener += 1
            self._listeners[self._next_listener] = (path, listener)
            return self._next_listener

    def remove_listener(self, handle: int) -> None:
        with self.lock:
            self._listeners.pop(handle, None)

    def _snapshot(self) -> dict[str, dict[str, Row]]:
        return {path: dict(self.items(path)) for path in {path for path, _unused in self._listeners.values()}}

    def _notify(self, before: dict[str, dict[str, Row]]) -> None:
        after = self._snapshot()
        for path, listener in list(self._listeners.values()):
            old, new = before.get(path, {}), after.get(path, {})
            for item_id, row in new.items():
                if old.get(item_id) != row:
                    listener(path, item_id, row)
            for item_id in old.keys() - new.keys():
                listener(path, item_id, None)

    # ----------------------------------------------------------------- writing
    def write(self, change: Callable[[], str | None]) -> str | None:
        """Run one change atomically: refresh dynamic items, persist, notify listeners."""
        with self.lock:
            before = self._snapshot()
            saved = json.dumps([self.tables, self.counters])
            try:
                result = change()
                for refresh in self.refreshers:
                    refresh(self)
            except BaseException:
                self.tables, self.counters = json.loads(saved)
                raise
            self.save()
            self._notify(before)
            return result

    def allocate_id(self, spec: PathSpec) -> str:
        self.counters[spec.id_space] = self.counters.get(spec.id_space, 0) + 1
        return format_id(self.counters[spec.id_space])

    def insert(self, path: str, row: Row, item_id: str | None = None) -> str:
        """Store an item as the system does (no checks): initial ports, dynamic entries."""
        spec = self.specs[path]
        item_id = item_id or self.allocate_id(spec)
        self.tables[path][item_id] = row
        return item_id

    def parse_args(self, spec: PathSpec, args: dict[str, str]) -> Row:
        for name in args:
            if not spec.writable(name):
                raise unknown_parameter(name)
        fields = spec.field_map
        return {name: fields[name].type.parse(name, raw, self._lookup) for name, raw in args.items()}

    def _lookup(self, path: str, name: str) -> bool:
        return name in self.names(path)

    def add(self, path: str, args: dict[str, str]) -> str:
        spec = self.specs[path]

        def change() -> str:
            row = self.with_defaults(spec, self.parse_args(spec, args))
            self._check(spec, None, {}, row)
            return self.insert(path, row)

        result = self.write(change)
        assert result is not None
        return result

    def with_defaults(self, spec: PathSpec, given: Row) -> Row:
        """The given values plus every default, as `add` stores them (ApiError when a required one is missing)."""
        row: Row = {}
        for field in spec.fields:
            if field.name in given:
                row[field.name] = given[field.name]
            elif field.name == spec.name_field and spec.auto_name:
                row[field.name] = self._free_name(spec)
            elif field.default is not None:
                row[field.name] = field.default
            elif field.required:
                # Wording chosen: RouterOS reports a missing required argument as a failure naming it.
                raise ApiError(f"failure: {field.name} not specified")
        return row

    def _free_name(self, spec: PathSpec) -> str:
        taken = self.names("/interface" if spec.path in self.interface_family else spec.path)
        number = 1
        while f"{spec.auto_name}{number}" in taken:
            number += 1
        return f"{spec.auto_name}{number}"

    def _check(self, spec: PathSpec, item_id: str | None, old: Row, new: Row) -> None:
        if spec.validate is not None:
            spec.validate(self, item_id, old, new)
        self._check_name_free(spec, item_id, old, new)
        for key in spec.unique:
            value = key.value(new)
            if value is None:
                continue
            for other_id, other in self.tables[spec.path].items():
                if other_id != item_id and other.get("dynamic") != "true" and key.value(other) == value:
                    raise ApiError(key.message)

    def _check_name_free(self, spec: PathSpec, item_id: str | None, old: Row, new: Row) -> None:
        name_field = spec.name_field
        if spec.path not in self.interface_family or not name_field or new.get(name_field) == old.get(name_field):
            return
        if new[name_field] in self.names("/interface"):
            # Seen on RouterOS when a bridge/VLAN takes an existing interface name.
            raise ApiError("failure: already have interface with such name")

    def set(self, path: str, ids: list[str], args: dict[str, str]) -> None:
        def change() -> None:
            for item_id in ids:
                owner = self.owner_of(path, item_id)
                spec = self.specs[owner]
                old = self.tables[owner][item_id]
                self._refuse_dynamic(spec, old, "change")
                new = {**old, **self.parse_args(spec, args)}
                self._check(spec, item_id, old, new)
                self.tables[owner][item_id] = new
                self._propagate_rename(spec, old, new)

        self.write(change)

    def set_singleton(self, path: str, args: dict[str, str]) -> None:
        spec = self.specs[path]

        def change() -> None:
            (item_id, old), *_unused = self.tables[path].items()
            new = {**old, **self.parse_args(spec, args)}
            self._check(spec, item_id, old, new)
            self.tables[path][item_id] = new

        self.write(change)

    def unset(self, path: str, ids: list[str], names: list[str]) -> None:
        def change() -> None:
            for item_id in ids:
                owner = self.owner_of(path, item_id)
                spec = self.specs[owner]
                old = self.tables[owner][item_id]
                self._refuse_dynamic(spec, old, "change")
                new = dict(old)
                for name in names:
                    field = spec.field_map.get(name)
                    if field is None or field.read_only or not field.unsettable or field.required:
                        raise unknown_parameter(name)
                    if field.default is None:
                        new.pop(name, None)
                    else:
                        new[name] = field.default
                self._check(spec, item_id, old, new)
                self.tables[owner][item_id] = new

        self.write(change)

    def remove(self, path: str, ids: list[str]) -> None:
        def change() -> None:
            for item_id in ids:
                owner = self.owner_of(path, item_id)
                spec = self.specs[owner]
                self._refuse_dynamic(spec, self.tables[owner][item_id], "remove")
                if spec.before_remove is not None:
                    spec.before_remove(self, item_id, self.tables[owner][item_id])
            for item_id in ids:
                owner = self.owner_of(path, item_id)
                removed = self.tables[owner].pop(item_id)
                self._cascade_remove(owner, removed)

        self.write(change)

    def move(self, path: str, ids: list[str], destination: str | None) -> None:
        """Place the items before ``destination`` (at the end without one), keeping their IDs."""

        def change() -> None:
            table = self.tables[path]
            if destination in ids:
                return None
            moved = {item_id: table.pop(item_id) for item_id in ids}
            reordered: dict[str, Row] = {}
            for item_id, row in table.items():
                if item_id == destination:
                    reordered.update(moved)
                reordered[item_id] = row
            if destination is None:
                reordered.update(moved)
            self.tables[path] = reordered
            return None

        self.write(change)

    def _refuse_dynamic(self, spec: PathSpec, row: Row, action: str) -> None:
        if spec.protect_dynamic and row.get("dynamic") == "true":
            # Wording chosen: RouterOS refuses writes to dynamic items with a "failure:" message.
            raise ApiError(f"failure: can not {action} dynamic entry")

    def _cascade_remove(self, owner: str, removed: Row) -> None:
        """Bridge ports and bridge VLAN entries go away with their bridge, as on the router."""
        if owner != "/interface/bridge":
            return
        for path in ("/interface/bridge/port", "/interface/bridge/vlan"):
            table = self.tables.get(path, {})
            for item_id in [item_id for item_id, row in table.items() if row.get("bridge") == removed.get("name")]:
                del table[item_id]

    def _propagate_rename(self, spec: PathSpec, old: Row, new: Row) -> None:
        """References hold names; renaming an item updates them as the router's ID-based references would."""
        name_field = spec.name_field
        if not name_field or old.get(name_field) == new.get(name_field):
            return
        old_name, new_name = old[name_field], new[name_field]
        family = self.interface_family if spec.path in self.interface_family else {spec.path}
        for path, table in self.tables.items():
            for field in self.specs[path].fields:
                for row in table.values():
                    if field.name not in row:
                        continue
                    if isinstance(field.type, Reference) and field.type.target in family and row[field.name] == old_name:
                        row[field.name] = new_name
                    elif isinstance(field.type, InterfaceList) and spec.path in self.interface_family:
                        row[field.name] = ",".join(new_name if part == old_name else part for part in row[field.name].split(",") if part)

    # ----------------------------------------------------------------- persistence
    def save(self) -> None:
        if self.state_file is None:
            return
        payload = {"format": STATE_FORMAT, "tables": self.tables, "counters": self.counters}
        directory = self.state_file.parent
        directory.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=f".{self.state_file.name}.")
        with os.fdopen(descriptor, "w") as handle:
            json.dump(payload, handle, indent=1)  # key order is item order
        os.replace(temporary, self.state_file)

    def load(self) -> bool:
        """Load tables from the state file; False when there is none yet."""
        if self.state_file is None or not self.state_file.exists():
            return False
        payload = json.loads(self.state_file.read_text())
        if payload.get("format") != STATE_FORMAT:
            raise ValueError(f"{self.state_file}: unsupported state format {payload.get('format')!r}")
        for path, table in payload["tables"].items():
            if path in self.tables:
                self.tables[path] = table
        self.counters = {str(key): int(value) for key, value in payload["counters"].items()}
        return True
