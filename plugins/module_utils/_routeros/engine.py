# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Paths, rows and plans: the generic engine every domain planner uses.

A path (RouterOS menu) is data (``PathSpec``); its rows are read once, compared with the desired entries
by primary keys (``plan_path``), and the after state is predicted from the plan (``predict``,
``PredictedReader``), never read back.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.errors import InputError
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.kinds import Kind, is_true_word


@dataclass(frozen=True)
class Field:
    """One property of a path; ``default`` stands in when the router omits the property (its default)."""

    kind: Kind
    default: Any = None


@dataclass(frozen=True)
class PathSpec:
    """A RouterOS menu as data: its primary keys and the properties the engine compares or writes."""

    path: str
    label: str
    keys: tuple[str, ...]
    fields: Mapping[str, Field]

    def command(self, verb: str) -> str:
        return f"{self.path}/{verb}"


@dataclass
class Row:
    """One entry as read from the router: canonical values of the known fields, and the raw words."""

    id: str
    values: dict[str, Any]
    raw: dict[str, str]
    system: bool

    def key(self, spec: PathSpec) -> tuple[Any, ...]:
        return tuple(self.values.get(name) for name in spec.keys)


def row_from_raw(spec: PathSpec, raw: Mapping[str, str]) -> Row:
    """Canonical row from the router's words; a value the engine cannot parse stays as text."""
    values: dict[str, Any] = {}
    for name, prop in spec.fields.items():
        text = raw.get(name)
        if text is None:
            values[name] = prop.default if prop.default is not None else prop.kind.absent
            continue
        try:
            values[name] = prop.kind.parse(text)
        except ValueError:
            values[name] = text
    system = is_true_word(raw.get("dynamic")) or is_true_word(raw.get("builtin")) or is_true_word(raw.get("default"))
    return Row(id=str(raw.get(".id", "")), values=values, raw=dict(raw), system=system)


def describe_entry(spec: PathSpec, values: Mapping[str, Any]) -> str:
    """``bridge=bridge1 vlan-ids=64`` for messages: the primary keys in API form."""
    parts = []
    for name in spec.keys:
        value = values.get(name)
        parts.append(f"{name}={spec.fields[name].kind.to_api(value) if value is not None else ''}")
    return " ".join(parts)


def output_values(spec: PathSpec, values: Mapping[str, Any]) -> dict[str, Any]:
    """Canonical values -> JSON-friendly output."""
    result = {}
    for name, value in values.items():
        prop = spec.fields.get(name)
        result[name] = prop.kind.to_output(value) if prop is not None and value is not None else value
    return result


_NEW_IDS = itertools.count(1)
NEW_ID_PREFIX = "(new "


@dataclass
class Change:
    """One write: ``add`` (values = whole entry), ``set`` (values = what differs) or ``remove``.

    An ``add`` carries a placeholder id (``new_id``) so that later changes of the same run can refer to
    the entry before the router has given it an id; the session swaps in the router's id.
    """

    spec: PathSpec
    action: str
    key: tuple[Any, ...]
    row_id: str | None
    values: dict[str, Any]
    before: dict[str, Any] | None = None
    new_id: str | None = None

    def __post_init__(self) -> None:
        if self.action == "add" and self.new_id is None:
            self.new_id = f"{NEW_ID_PREFIX}{next(_NEW_IDS)})"

    @property
    def entry(self) -> str:
        return describe_entry(self.spec, dict(zip(self.spec.keys, self.key, strict=True)))

    def words(self) -> dict[str, str]:
        """The attribute words of the API sentence (``.id`` included for set/remove).

        An ``add`` leaves out empty values (empty comment or list): they are the router's default.
        """
        words = {} if self.row_id is None else {".id": self.row_id}
        for name, value in self.values.items():
            kind = self.spec.fields[name].kind
            if value is None or (self.action == "add" and kind.absent is not None and value == kind.absent):
                continue
            words[name] = kind.to_api(value)
        return words

    def describe(self) -> str:
        """Human-readable command, e.g. ``/interface/bridge/vlan/set bridge=bridge1 vlan-ids=64: tagged=bridge1,ether1``."""
        changed = " ".join(f"{name}={text}" for name, text in self.words().items() if name != ".id")
        if self.action == "add":
            return f"{self.spec.command('add')} {changed}".rstrip()
        if self.action == "set":
            return f"{self.spec.command('set')} {self.entry}: {changed}"
        return f"{self.spec.command('remove')} {self.entry}"


@dataclass
class PathPlan:
    """The changes of one path, split by action so that planners can order them safely."""

    spec: PathSpec
    removes: list[Change] = field(default_factory=list)
    sets: list[Change] = field(default_factory=list)
    adds: list[Change] = field(default_factory=list)

    def in_order(self, *actions: str) -> list[Change]:
        """Changes in the given action order (default remove, set, add: frees keys before reusing them)."""
        by_action = {"remove": self.removes, "set": self.sets, "add": self.adds}
        return [change for action in (actions or ("remove", "set", "add")) for change in by_action[action]]


def owned_rows(rows: Iterable[Row]) -> list[Row]:
    """Rows the modules may touch: never dynamic, builtin or default entries."""
    return [row for row in rows if not row.system]


def plan_path(
    spec: PathSpec,
    desired: Sequence[Mapping[str, Any]],
    current: Sequence[Row],
    *,
    purge: bool = False,
    in_scope: Callable[[Row], bool] = lambda row: True,
) -> PathPlan:
    """Compare desired entries (canonical values, keys included) with the router's rows by primary keys.

    Only the properties a desired entry names are compared. Rows of the router that no desired entry
    matches are removed only with ``purge`` and only when ``in_scope`` says they belong to the caller.
    """
    plan = PathPlan(spec)
    available: dict[tuple[Any, ...], Row] = {}
    for row in owned_rows(current):
        available.setdefault(row.key(spec), row)
    matched: set[str] = set()
    seen: set[tuple[Any, ...]] = set()
    for entry in desired:
        key = tuple(entry.get(name) for name in spec.keys)
        if key in seen:
            raise InputError(spec.label, describe_entry(spec, entry), "is listed twice")
        seen.add(key)
        match = available.get(key)
        if match is None:
            plan.adds.append(Change(spec, "add", key, None, {name: value for name, value in entry.items() if value is not None}))
            continue
        matched.add(match.id)
        differing = {name: value for name, value in entry.items() if value is not None and match.values.get(name) != value}
        if differing:
            before = {name: match.values.get(name) for name in differing}
            plan.sets.append(Change(spec, "set", key, match.id, differing, before))
    if purge:
        for row in owned_rows(current):
            if row.id not in matched and in_scope(row):
                plan.removes.append(Change(spec, "remove", row.key(spec), row.id, {}, dict(row.values)))
    return plan


def predict(spec: PathSpec, rows: Sequence[Row], changes: Iterable[Change]) -> list[Row]:
    """The rows of one path as they will be once ``changes`` are applied (for --diff and check mode)."""
    result = [Row(row.id, dict(row.values), row.raw, row.system) for row in rows]
    for change in (change for change in changes if change.spec.path == spec.path):
        if change.action == "add":
            values = {name: prop.default if prop.default is not None else prop.kind.absent for name, prop in spec.fields.items()}
            values.update(change.values)
            result.append(Row(str(change.new_id), values, {}, False))
        elif change.action == "set":
            for row in result:
                if row.id == change.row_id:
                    row.values.update(change.values)
        else:
            result = [row for row in result if row.id != change.row_id]
    return result


class Reader(Protocol):
    """What planners need: every row of a path (a session reads the router, tests use fixed data)."""

    def read(self, spec: PathSpec) -> list[Row]: ...

    def query(self, spec: PathSpec, equal: Mapping[str, str]) -> list[Row]: ...

    @property
    def router_address(self) -> str | None: ...


def drop_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


@dataclass
class Outcome:
    """What a planner decided: ordered changes, before/after in the module's input shape, warnings.

    ``state_of`` renders that shape from any reader: the router before, or the rows as predicted once the
    changes are applied (``after``, in check mode and in a real run alike: nothing is read back).
    """

    changes: list[Change]
    before: dict[str, Any]
    after: dict[str, Any]
    state_of: Callable[[Reader], dict[str, Any]]
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, reader: Reader, changes: list[Change], state_of: Callable[[Reader], dict[str, Any]], warnings: Sequence[str] = ()) -> Outcome:
        return cls(changes, state_of(reader), state_of(PredictedReader(reader, changes)), state_of, list(warnings))


class PredictedReader:
    """Answers with the rows as they will be once ``changes`` are applied (for check mode and --diff)."""

    def __init__(self, reader: Reader, changes: Sequence[Change]) -> None:
        self._reader = reader
        self._changes = changes

    def read(self, spec: PathSpec) -> list[Row]:
        return predict(spec, self._reader.read(spec), self._changes)

    def query(self, spec: PathSpec, equal: Mapping[str, str]) -> list[Row]:
        return [row for row in self.read(spec) if all(row.raw.get(name) == value for name, value in equal.items())]

    @property
    def router_address(self) -> str | None:
        return self._reader.router_address
