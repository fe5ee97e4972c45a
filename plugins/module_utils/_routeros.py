# Copyright (c) diskless.datacenter maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private RouterOS API layer of diskless.datacenter: one engine, many thin modules.

The engine reads every RouterOS path it needs once (one ``print`` per path), turns the router's
values and the user's values into one canonical form per property kind (booleans, sets, VLAN id
ranges, MAC addresses, sizes, durations, addresses), matches desired entries with current ones by
primary keys, never touches dynamic, builtin or default entries, and writes remove/set/add in the
order a domain planner chose. Domain planners for the modules (bridge VLANs, netboot, NVMe/TCP
exports, information) live here too, so that ``routeros_info`` reports state in exactly the shape
the other modules take as input, and so that planning is unit-tested without a router.
"""

from __future__ import annotations

import contextlib
import ipaddress
import itertools
import re
import socket
import ssl
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from ansible.module_utils.basic import missing_required_lib

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


VLAN_ID_MIN = 1
VLAN_ID_MAX = 4094
API_PORT = 8728
API_SSL_PORT = 8729


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


class RouterOSError(Exception):
    """A failure to report to the user: what was being done, on which path and entry, and why."""

    def __init__(self, message: str, *, path: str | None = None, entry: str | None = None, router_message: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.entry = entry
        self.router_message = router_message
        self.applied: list[str] = []

    def details(self) -> dict[str, Any]:
        """Extra keys for ``fail_json`` (only those that are known)."""
        found = {"path": self.path, "entry": self.entry, "router_message": self.router_message}
        result: dict[str, Any] = {key: value for key, value in found.items() if value is not None}
        result["applied"] = list(self.applied)
        return result


class InputError(RouterOSError):
    """Bad input, detected before anything is changed on the router."""

    def __init__(self, field_name: str, value: object, reason: str) -> None:
        super().__init__(f"{field_name}: {value!r} {reason}")
        self.field_name = field_name
        self.value = value


# ---------------------------------------------------------------------------------------------
# Value kinds: parse (user or router form) -> canonical, canonical -> API word, canonical -> output
# ---------------------------------------------------------------------------------------------

_TRUE_WORDS = frozenset({"yes", "true"})
_FALSE_WORDS = frozenset({"no", "false"})


def _split_list(value: object) -> list[str]:
    """RouterOS lists are comma separated; users may also give YAML lists."""
    if value is None:
        return []
    items: Iterable[object] = value if isinstance(value, (list, tuple, set, frozenset)) else str(value).split(",")
    return [str(item).strip() for item in items if str(item).strip() != ""]


class Kind:
    """How one RouterOS property is compared, sent and shown. ``parse`` raises ValueError on bad input."""

    absent: Any = None

    def parse(self, value: object) -> Any:
        return str(value)

    def to_api(self, value: Any) -> str:
        return str(value)

    def to_output(self, value: Any) -> Any:
        return value


class TextKind(Kind):
    absent = ""

    def parse(self, value: object) -> str:
        if isinstance(value, bool):
            return "yes" if value else "no"
        return "" if value is None else str(value)


class BoolKind(Kind):
    def parse(self, value: object) -> bool:
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
        raise ValueError("is not a boolean (yes/no/true/false)")

    def to_api(self, value: Any) -> str:
        return "yes" if value else "no"


class IntKind(Kind):
    def __init__(self, minimum: int | None = None, maximum: int | None = None) -> None:
        self.minimum = minimum
        self.maximum = maximum

    def parse(self, value: object) -> int:
        if isinstance(value, bool):
            raise ValueError("is not an integer")
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ValueError("is not an integer") from None
        if self.minimum is not None and number < self.minimum:
            raise ValueError(f"is below {self.minimum}")
        if self.maximum is not None and number > self.maximum:
            raise ValueError(f"is above {self.maximum}")
        return number


class EnumKind(Kind):
    """A word among choices; ``aliases`` maps the router's other spellings (true -> yes)."""

    def __init__(self, choices: Sequence[str], aliases: Mapping[str, str] | None = None) -> None:
        self.choices = tuple(choices)
        self.aliases = dict(aliases or {})

    def parse(self, value: object) -> str:
        word = TextKind().parse(value).strip().lower()
        word = self.aliases.get(word, word)
        if word not in self.choices:
            raise ValueError(f"is not one of {', '.join(self.choices)}")
        return word


class NameSetKind(Kind):
    """A list whose order does not matter ("b,a" equals "a, b"), e.g. tagged ports."""

    absent: frozenset[str] = frozenset()

    def parse(self, value: object) -> frozenset[str]:
        return frozenset(_split_list(value))

    def to_api(self, value: Any) -> str:
        return ",".join(sorted(value))

    def to_output(self, value: Any) -> list[str]:
        return sorted(value)


class OrderedListKind(Kind):
    """A list whose order matters (e.g. DNS servers: first is primary)."""

    absent: tuple[str, ...] = ()

    def __init__(self, item: Kind | None = None) -> None:
        self.item = item or TextKind()

    def parse(self, value: object) -> tuple[Any, ...]:
        return tuple(self.item.parse(item) for item in _split_list(value))

    def to_api(self, value: Any) -> str:
        return ",".join(self.item.to_api(item) for item in value)

    def to_output(self, value: Any) -> list[Any]:
        return [self.item.to_output(item) for item in value]


def _split_range(item: str) -> tuple[str, str]:
    """``"10-12"`` -> ("10", "12"); ``"10"`` -> ("10", "")."""
    parts = item.split("-", 1)
    return parts[0], parts[1] if len(parts) > 1 else ""


def parse_vlan_ids(value: object) -> frozenset[int]:
    """``"10-12,20"``, ``"10,11,12,20"``, ``[10, "11-12", 20]`` -> {10, 11, 12, 20}; ids must be 1-4094."""
    ids: set[int] = set()
    for item in _split_list(value if not isinstance(value, int) or isinstance(value, bool) else [value]):
        low_text, high_text = _split_range(item)
        try:
            low = int(low_text.strip())
            high = int(high_text.strip()) if high_text else low
        except ValueError:
            raise ValueError(f"is not a VLAN id list ({item!r} is not a number or range)") from None
        if low > high:
            raise ValueError(f"has a reversed range {item!r}")
        if low < VLAN_ID_MIN or high > VLAN_ID_MAX:
            raise ValueError(f"has a VLAN id outside {VLAN_ID_MIN}-{VLAN_ID_MAX} ({item!r})")
        ids.update(range(low, high + 1))
    if not ids:
        raise ValueError("names no VLAN id")
    return frozenset(ids)


def format_vlan_ids(ids: Iterable[int]) -> str:
    """{10, 11, 12, 20} -> ``"10-12,20"`` (RouterOS range syntax)."""
    ordered = sorted(ids)
    parts: list[str] = []
    start = previous = ordered[0] if ordered else 0
    for number in ordered[1:]:
        if number != previous + 1:
            parts.append(f"{start}-{previous}" if previous != start else str(start))
            start = number
        previous = number
    if ordered:
        parts.append(f"{start}-{previous}" if previous != start else str(start))
    return ",".join(parts)


class VlanIdsKind(Kind):
    def parse(self, value: object) -> frozenset[int]:
        return parse_vlan_ids(value)

    def to_api(self, value: Any) -> str:
        return format_vlan_ids(value)

    def to_output(self, value: Any) -> str:
        return format_vlan_ids(value)


_MAC_SEPARATED = re.compile(r"^[0-9A-Fa-f]{1,2}([:-][0-9A-Fa-f]{1,2}){5}$")
_MAC_BARE = re.compile(r"^[0-9A-Fa-f]{12}$")


def parse_mac(value: object) -> str:
    """MAC in any common case/separator -> ``AA:BB:CC:DD:EE:FF`` (RouterOS' own spelling)."""
    text = str(value).strip()
    if _MAC_SEPARATED.match(text):
        octets = re.split(r"[:-]", text)
    elif _MAC_BARE.match(text):
        octets = [text[index : index + 2] for index in range(0, 12, 2)]
    else:
        raise ValueError("is not a MAC address (six hex octets like 00:E0:66:59:89:84)")
    return ":".join(octet.zfill(2).upper() for octet in octets)


class MacKind(Kind):
    def parse(self, value: object) -> str:
        return parse_mac(value)


_SIZE = re.compile(r"^(\d+(?:\.\d+)?)([kmgtpe]?)(?:i?b)?$", re.IGNORECASE)
_SIZE_POWERS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5, "e": 6}


def parse_size(value: object) -> int:
    """Sizes in bytes; RouterOS units are binary: ``10G`` = ``10GiB`` = ``10.0GiB`` = 10737418240."""
    if isinstance(value, bool):
        raise ValueError("is not a size")
    if isinstance(value, int):
        return value
    text = str(value).replace(" ", "").strip()
    match = _SIZE.match(text)
    if not match:
        raise ValueError("is not a size (bytes, or a number with K/M/G/T, e.g. 10G)")
    number, unit = match.groups()
    return int(float(number) * 1024 ** _SIZE_POWERS[unit.lower()] + 0.5)


def format_size(size: int) -> str:
    """Bytes -> the largest exact binary unit (10737418240 -> ``10G``); RouterOS accepts both."""
    for unit in ("E", "P", "T", "G", "M", "K"):
        factor = 1024 ** _SIZE_POWERS[unit.lower()]
        if size and size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


class SizeKind(Kind):
    def parse(self, value: object) -> int:
        return parse_size(value)

    def to_api(self, value: Any) -> str:
        return format_size(int(value))


_DURATION_UNITS_MS = {"w": 604_800_000, "d": 86_400_000, "h": 3_600_000, "m": 60_000, "s": 1000, "ms": 1}
_DURATION_PART = re.compile(r"(\d+)(ms|w|d|h|m|s)")
_DURATION_CLOCK = re.compile(r"(\d+):(\d{1,2}):(\d{1,2})(?:\.(\d{1,3}))?$")


def parse_duration(value: object) -> int:
    """RouterOS times -> milliseconds: ``10m`` = ``00:10:00`` = 600 (seconds as a bare number)."""
    if isinstance(value, bool):
        raise ValueError("is not a duration")
    if isinstance(value, int):
        return value * 1000
    text = str(value).replace(" ", "").strip().lower()
    if text.isdigit():
        return int(text) * 1000
    total = 0
    clock = _DURATION_CLOCK.search(text)
    if clock:
        hours, minutes, seconds, fraction = clock.groups()
        total += (int(hours) * 3600 + int(minutes) * 60 + int(seconds)) * 1000 + int((fraction or "0").ljust(3, "0"))
        text = text[: clock.start()]
    position = 0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position:
            break
        total += int(match.group(1)) * _DURATION_UNITS_MS[match.group(2)]
        position = match.end()
    if position != len(text) or (not clock and not text):
        raise ValueError("is not a duration (like 30m, 1h30m, 1d or 00:30:00)")
    return total


def format_duration(milliseconds: int) -> str:
    """Milliseconds -> RouterOS spelling (``1d2h30m``, ``0s``)."""
    if milliseconds == 0:
        return "0s"
    parts = []
    remaining = milliseconds
    for unit in ("w", "d", "h", "m", "s", "ms"):
        count, remaining = divmod(remaining, _DURATION_UNITS_MS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


class DurationKind(Kind):
    def parse(self, value: object) -> int:
        return parse_duration(value)

    def to_api(self, value: Any) -> str:
        return format_duration(int(value))

    def to_output(self, value: Any) -> str:
        return format_duration(int(value))


class IpKind(Kind):
    def parse(self, value: object) -> str:
        try:
            return str(ipaddress.ip_address(str(value).strip()))
        except ValueError:
            raise ValueError("is not an IP address") from None


class InterfaceAddressKind(Kind):
    """An address with its prefix as RouterOS stores it on an interface (``10.42.64.1/24``)."""

    def parse(self, value: object) -> str:
        text = str(value).strip()
        if "/" not in text:
            raise ValueError("is not in CIDR form (address/prefix, like 10.42.64.1/24)")
        try:
            return str(ipaddress.ip_interface(text))
        except ValueError:
            raise ValueError("is not in CIDR form (address/prefix, like 10.42.64.1/24)") from None


class NetworkKind(Kind):
    """A network address with prefix (``10.42.65.0/24``); host bits must be zero."""

    def parse(self, value: object) -> str:
        text = str(value).strip()
        if "/" not in text:
            raise ValueError("is not in CIDR form (network/prefix, like 10.42.65.0/24)")
        try:
            return str(ipaddress.ip_network(text, strict=True))
        except ValueError:
            try:
                suggestion = ipaddress.ip_network(text, strict=False)
            except ValueError:
                raise ValueError("is not in CIDR form (network/prefix, like 10.42.65.0/24)") from None
            raise ValueError(f"has host bits set (did you mean {suggestion}?)") from None


class NetworkSetKind(NameSetKind):
    """Unordered networks or single addresses (``10.42.65.0/24,10.42.66.7``)."""

    def parse(self, value: object) -> frozenset[str]:
        networks = set()
        for item in _split_list(value):
            try:
                networks.add(str(ipaddress.ip_network(item, strict=False)))
            except ValueError:
                raise ValueError(f"has {item!r}, which is not an address or network") from None
        return frozenset(networks)


class PoolRangesKind(NameSetKind):
    """IP pool ranges: ``10.42.65.100-10.42.65.199`` items, single addresses or networks."""

    def parse(self, value: object) -> frozenset[str]:
        ranges = set()
        for item in _split_list(value):
            ranges.add(_parse_pool_range(item))
        return frozenset(ranges)


def _parse_pool_range(item: str) -> str:
    try:
        if "/" in item:
            return str(ipaddress.ip_network(item, strict=True))
        first_text, last_text = _split_range(item)
        first = ipaddress.ip_address(first_text.strip())
        last = ipaddress.ip_address(last_text.strip()) if last_text else first
    except ValueError:
        raise ValueError(f"has {item!r}, which is not a range (first-last), address or network") from None
    if first.version != last.version or int(last) < int(first):
        raise ValueError(f"has {item!r}, whose end is before its start")
    return f"{first}-{last}" if last != first else str(first)


def pool_range_addresses(item: str) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """First and last address of one canonical pool range."""
    if "/" in item:
        network = ipaddress.ip_network(item)
        return network[0], network[-1]
    first_text, last_text = _split_range(item)
    first = ipaddress.ip_address(first_text)
    return first, ipaddress.ip_address(last_text) if last_text else first


class FilePathKind(Kind):
    """RouterOS file paths, with or without the leading slash the console shows."""

    absent = ""

    def parse(self, value: object) -> str:
        return "" if value is None else str(value).strip().lstrip("/")


TEXT = TextKind()
BOOL = BoolKind()
INT = IntKind()
VLAN_ID = IntKind(VLAN_ID_MIN, VLAN_ID_MAX)
NAMES = NameSetKind()
VLAN_IDS = VlanIdsKind()
MAC = MacKind()
SIZE = SizeKind()
DURATION = DurationKind()
IP = IpKind()
IP_LIST = OrderedListKind(IP)
INTERFACE_ADDRESS = InterfaceAddressKind()
NETWORK = NetworkKind()
NETWORKS = NetworkSetKind()
POOL_RANGES = PoolRangesKind()
FILE_PATH = FilePathKind()
FRAME_TYPES = EnumKind(("admit-all", "admit-only-untagged-and-priority-tagged", "admit-only-vlan-tagged"))
AUTHORITATIVE = EnumKind(("yes", "no", "after-2sec-delay", "after-10sec-delay"), {"true": "yes", "false": "no"})


def parse_input(kind: Kind, field_name: str, value: object) -> Any:
    """Canonical value of user input; a clear error naming the field and value otherwise."""
    try:
        return kind.parse(value)
    except ValueError as exc:
        raise InputError(field_name, value, str(exc)) from None


# ---------------------------------------------------------------------------------------------
# Paths, rows and plans
# ---------------------------------------------------------------------------------------------


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


def _is_true(raw: str | None) -> bool:
    return raw is not None and raw.strip().lower() in _TRUE_WORDS


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
    system = _is_true(raw.get("dynamic")) or _is_true(raw.get("builtin")) or _is_true(raw.get("default"))
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


# ---------------------------------------------------------------------------------------------
# Reading and writing: the session
# ---------------------------------------------------------------------------------------------


class Reader(Protocol):
    """What planners need: every row of a path (a session reads the router, tests use fixed data)."""

    def read(self, spec: PathSpec) -> list[Row]: ...

    def query(self, spec: PathSpec, equal: Mapping[str, str]) -> list[Row]: ...

    @property
    def router_address(self) -> str | None: ...


class StaticReader:
    """Fixed raw rows per path (what the router would answer); for planning without a router."""

    def __init__(self, rows: Mapping[str, Sequence[Mapping[str, str]]], router_address: str | None = None) -> None:
        self._rows = rows
        self._router_address = router_address

    def read(self, spec: PathSpec) -> list[Row]:
        return [row_from_raw(spec, raw) for raw in self._rows.get(spec.path, [])]

    def query(self, spec: PathSpec, equal: Mapping[str, str]) -> list[Row]:
        rows = self._rows.get(spec.path, [])
        return [row_from_raw(spec, raw) for raw in rows if all(raw.get(name) == value for name, value in equal.items())]

    @property
    def router_address(self) -> str | None:
        return self._router_address


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


RequestT = TypeVar("RequestT")


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


# ---------------------------------------------------------------------------------------------
# The path catalogue (RouterOS 7 menus used by the modules)
# ---------------------------------------------------------------------------------------------

_DISABLED = Field(BOOL, False)
_COMMENT = Field(TEXT)

INTERFACE = PathSpec("/interface", "interface", ("name",), {"name": Field(TEXT), "type": Field(TEXT)})
BRIDGE = PathSpec(
    "/interface/bridge",
    "bridge",
    ("name",),
    {
        "name": Field(TEXT),
        "vlan-filtering": Field(BOOL, False),
        "pvid": Field(VLAN_ID, 1),
        "frame-types": Field(FRAME_TYPES, "admit-all"),
        "ingress-filtering": Field(BOOL),
        "comment": _COMMENT,
        "disabled": _DISABLED,
    },
)
BRIDGE_PORT = PathSpec(
    "/interface/bridge/port",
    "bridge port",
    ("interface",),
    {
        "interface": Field(TEXT),
        "bridge": Field(TEXT),
        "pvid": Field(VLAN_ID, 1),
        "frame-types": Field(FRAME_TYPES, "admit-all"),
        "ingress-filtering": Field(BOOL),
        "comment": _COMMENT,
        "disabled": _DISABLED,
    },
)
BRIDGE_VLAN = PathSpec(
    "/interface/bridge/vlan",
    "bridge VLAN",
    ("bridge", "vlan-ids"),
    {
        "bridge": Field(TEXT),
        "vlan-ids": Field(VLAN_IDS),
        "tagged": Field(NAMES),
        "untagged": Field(NAMES),
        "comment": _COMMENT,
        "disabled": _DISABLED,
    },
)
VLAN_INTERFACE = PathSpec(
    "/interface/vlan",
    "VLAN interface",
    ("interface", "vlan-id"),
    {
        "name": Field(TEXT),
        "interface": Field(TEXT),
        "vlan-id": Field(VLAN_ID),
        "mtu": Field(INT),
        "comment": _COMMENT,
        "disabled": _DISABLED,
    },
)
IP_ADDRESS = PathSpec(
    "/ip/address",
    "IP address",
    ("interface", "address"),
    {"address": Field(INTERFACE_ADDRESS), "interface": Field(TEXT), "comment": _COMMENT, "disabled": _DISABLED},
)
IP_POOL = PathSpec("/ip/pool", "IP pool", ("name",), {"name": Field(TEXT), "ranges": Field(POOL_RANGES), "comment": _COMMENT})
DHCP_SERVER = PathSpec(
    "/ip/dhcp-server",
    "DHCP server",
    ("name",),
    {
        "name": Field(TEXT),
        "interface": Field(TEXT),
        "address-pool": Field(TEXT, "static-only"),
        "lease-time": Field(DURATION),
        "authoritative": Field(AUTHORITATIVE),
        "comment": _COMMENT,
        "disabled": _DISABLED,
    },
)
DHCP_NETWORK = PathSpec(
    "/ip/dhcp-server/network",
    "DHCP network",
    ("address",),
    {
        "address": Field(NETWORK),
        "gateway": Field(IP),
        "dns-server": Field(IP_LIST),
        "domain": Field(TEXT),
        "next-server": Field(IP),
        "boot-file-name": Field(TEXT),
        "dhcp-option": Field(NAMES),
        "comment": _COMMENT,
    },
)
DHCP_OPTION = PathSpec("/ip/dhcp-server/option", "DHCP option", ("name",), {"name": Field(TEXT), "code": Field(IntKind(1, 254)), "value": Field(TEXT)})
DHCP_LEASE = PathSpec(
    "/ip/dhcp-server/lease",
    "DHCP lease",
    ("server", "mac-address"),
    {
        "server": Field(TEXT),
        "mac-address": Field(MAC),
        "address": Field(IP),
        "dhcp-option": Field(NAMES),
        "comment": _COMMENT,
        "disabled": _DISABLED,
    },
)
TFTP = PathSpec(
    "/ip/tftp",
    "TFTP rule",
    ("req-filename",),
    {
        "req-filename": Field(TEXT),
        "real-filename": Field(TEXT),
        "allow": Field(BOOL, True),
        "read-only": Field(BOOL, True),
        "ip-addresses": Field(NETWORKS),
        "disabled": _DISABLED,
    },
)
DISK = PathSpec(
    "/disk",
    "disk",
    ("slot",),
    {
        "slot": Field(TEXT),
        "type": Field(TEXT),
        "file-path": Field(FILE_PATH),
        "file-size": Field(SIZE),
        "nvme-tcp-export": Field(BOOL, False),
        "nvme-tcp-server-port": Field(IntKind(1, 65535)),
        "nvme-tcp-server-nqn": Field(TEXT),
        "nvme-tcp-server-allow-host-name": Field(NAMES),
        "comment": _COMMENT,
    },
)
FILE = PathSpec("/file", "file", ("name",), {"name": Field(FILE_PATH), "type": Field(TEXT), "size": Field(SIZE)})
PACKAGE = PathSpec("/system/package", "package", ("name",), {"name": Field(TEXT), "version": Field(TEXT), "disabled": Field(BOOL, False)})
RESOURCE = PathSpec(
    "/system/resource",
    "system resource",
    (),
    {"version": Field(TEXT), "board-name": Field(TEXT), "architecture-name": Field(TEXT), "platform": Field(TEXT)},
)


def drop_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


def interface_names(reader: Reader) -> set[str]:
    return {str(row.values["name"]) for row in reader.read(INTERFACE)}


def require_interface(reader: Reader, field_name: str, name: str) -> None:
    """Unknown interface names fail before any change, with what the router does have."""
    known = interface_names(reader)
    if name not in known:
        listed = ", ".join(sorted(known)[:40]) or "none"
        raise InputError(field_name, name, f"is not an interface of the router (the router has: {listed})")


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


# ---------------------------------------------------------------------------------------------
# Domain: bridge with VLAN filtering (routeros_vlan)
# ---------------------------------------------------------------------------------------------


@dataclass
class VlanRequest:
    """routeros_vlan's parameters, validated and canonical (API property names)."""

    bridge: dict[str, Any]
    ports: list[dict[str, Any]]
    vlans: list[dict[str, Any]]
    interfaces: list[dict[str, Any]]
    addresses: dict[str, list[str]]
    management_vlan: int | None
    management_address: str | None
    management_port: str | None
    purge: bool

    @property
    def bridge_name(self) -> str:
        return str(self.bridge["name"])

    @property
    def manages_ports(self) -> bool:
        return bool(self.ports) or self.purge

    @property
    def manages_vlans(self) -> bool:
        return bool(self.vlans) or self.purge

    @property
    def manages_interfaces(self) -> bool:
        """VLAN interfaces and their addresses."""
        return bool(self.interfaces) or self.purge

    @property
    def sections(self) -> frozenset[str]:
        managed = (("ports", self.manages_ports), ("vlans", self.manages_vlans), ("interfaces", self.manages_interfaces))
        return frozenset(name for name, is_managed in managed if is_managed)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> VlanRequest:
        bridge_params = params["bridge"]
        name = str(bridge_params["name"])
        bridge = drop_none(
            {
                "name": name,
                "vlan-filtering": bridge_params.get("vlan_filtering"),
                "pvid": _optional(VLAN_ID, "bridge.pvid", bridge_params.get("pvid")),
                "frame-types": _optional(FRAME_TYPES, "bridge.frame_types", bridge_params.get("frame_types")),
                "ingress-filtering": bridge_params.get("ingress_filtering"),
                "comment": bridge_params.get("comment"),
                "disabled": False,
            }
        )
        ports = [_port_entry(name, index, port) for index, port in enumerate(params.get("ports") or [])]
        vlans = [_vlan_entry(name, index, vlan) for index, vlan in enumerate(params.get("vlans") or [])]
        interfaces: list[dict[str, Any]] = []
        addresses: dict[str, list[str]] = {}
        for index, item in enumerate(params.get("interfaces") or []):
            entry, entry_addresses = _vlan_interface_entry(name, index, item)
            if entry["name"] in addresses:
                raise InputError(f"interfaces[{index}].name", entry["name"], "is listed twice")
            interfaces.append(entry)
            addresses[entry["name"]] = entry_addresses
        management_vlan = _optional(VLAN_ID, "management_vlan", params.get("management_vlan"))
        management_address = _optional(INTERFACE_ADDRESS, "management_address", params.get("management_address"))
        request = cls(
            bridge, ports, vlans, interfaces, addresses, management_vlan, management_address, params.get("management_port"), bool(params.get("purge"))
        )
        request.check_consistency()
        return request

    def check_consistency(self) -> None:
        """Checks that need no router: overlapping VLAN entries, duplicate ports."""
        seen_ids: dict[int, int] = {}
        for index, vlan in enumerate(self.vlans):
            for vlan_id in vlan["vlan-ids"]:
                if vlan_id in seen_ids:
                    raise InputError(f"vlans[{index}].vlan_ids", format_vlan_ids(vlan["vlan-ids"]), f"repeats VLAN {vlan_id} of vlans[{seen_ids[vlan_id]}]")
                seen_ids[vlan_id] = index
        ports_seen: set[str] = set()
        for index, port in enumerate(self.ports):
            if port["interface"] in ports_seen:
                raise InputError(f"ports[{index}].interface", port["interface"], "is listed twice")
            ports_seen.add(port["interface"])
        vlan_ids_seen: set[int] = set()
        for index, item in enumerate(self.interfaces):
            if item["vlan-id"] in vlan_ids_seen:
                raise InputError(f"interfaces[{index}].vlan_id", item["vlan-id"], "is used by another VLAN interface on the same bridge")
            vlan_ids_seen.add(item["vlan-id"])
        if (self.management_vlan is None) != (self.management_address is None):
            raise InputError("management_vlan", self.management_vlan, "and management_address must be given together")
        if self.management_port is not None and self.management_vlan is None:
            raise InputError("management_port", self.management_port, "needs management_vlan and management_address")


def _optional(kind: Kind, field_name: str, value: object) -> Any:
    return None if value is None else parse_input(kind, field_name, value)


def _port_entry(bridge: str, index: int, port: Mapping[str, Any]) -> dict[str, Any]:
    where = f"ports[{index}]"
    return drop_none(
        {
            "interface": str(port["interface"]),
            "bridge": bridge,
            "pvid": _optional(VLAN_ID, f"{where}.pvid", port.get("pvid")),
            "frame-types": _optional(FRAME_TYPES, f"{where}.frame_types", port.get("frame_types")),
            "ingress-filtering": port.get("ingress_filtering"),
            "comment": port.get("comment"),
            "disabled": False,
        }
    )


def _vlan_entry(bridge: str, index: int, vlan: Mapping[str, Any]) -> dict[str, Any]:
    where = f"vlans[{index}]"
    return drop_none(
        {
            "bridge": bridge,
            "vlan-ids": parse_input(VLAN_IDS, f"{where}.vlan_ids", vlan["vlan_ids"]),
            "tagged": NAMES.parse(vlan.get("tagged")),
            "untagged": NAMES.parse(vlan.get("untagged")),
            "comment": vlan.get("comment"),
            "disabled": False,
        }
    )


def _vlan_interface_entry(bridge: str, index: int, item: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    where = f"interfaces[{index}]"
    entry = drop_none(
        {
            "name": str(item["name"]),
            "interface": bridge,
            "vlan-id": parse_input(VLAN_ID, f"{where}.vlan_id", item["vlan_id"]),
            "mtu": _optional(IntKind(64, 65535), f"{where}.mtu", item.get("mtu")),
            "comment": item.get("comment"),
            "disabled": False,
        }
    )
    addresses = [parse_input(INTERFACE_ADDRESS, f"{where}.addresses[{number}]", value) for number, value in enumerate(item.get("addresses") or [])]
    if len(set(addresses)) != len(addresses):
        raise InputError(f"{where}.addresses", item.get("addresses"), "lists an address twice")
    return entry, addresses


VLAN_SECTIONS = frozenset({"ports", "vlans", "interfaces"})


def vlan_state(reader: Reader, bridge: str, sections: frozenset[str] = VLAN_SECTIONS) -> dict[str, Any]:
    """One bridge as routeros_vlan takes it: bridge, and of ports, VLAN table, VLAN interfaces with addresses those in ``sections``.

    Only the paths of the bridge and of the sections asked for are read.
    """
    bridge_rows = [row for row in owned_rows(reader.read(BRIDGE)) if row.values["name"] == bridge]
    if not bridge_rows:
        return {}
    bridge_values = bridge_rows[0].values
    state: dict[str, Any] = {
        "bridge": drop_none(
            {
                "name": bridge,
                "vlan_filtering": bridge_values["vlan-filtering"],
                "pvid": bridge_values["pvid"],
                "frame_types": bridge_values["frame-types"],
                "ingress_filtering": bridge_values["ingress-filtering"],
                "comment": bridge_values["comment"] or None,
            }
        )
    }
    if "ports" in sections:
        state["ports"] = _ports_output(reader, bridge)
    if "vlans" in sections:
        state["vlans"] = _vlans_output(reader, bridge)
    if "interfaces" in sections:
        state["interfaces"] = _interfaces_output(reader, bridge)
    return state


def _ports_output(reader: Reader, bridge: str) -> list[dict[str, Any]]:
    ports = [row.values for row in owned_rows(reader.read(BRIDGE_PORT)) if row.values["bridge"] == bridge]
    return sorted(
        (
            drop_none(
                {
                    "interface": port["interface"],
                    "pvid": port["pvid"],
                    "frame_types": port["frame-types"],
                    "ingress_filtering": port["ingress-filtering"],
                    "comment": port["comment"] or None,
                }
            )
            for port in ports
        ),
        key=lambda port: str(port["interface"]),
    )


def _vlans_output(reader: Reader, bridge: str) -> list[dict[str, Any]]:
    vlans = [row.values for row in owned_rows(reader.read(BRIDGE_VLAN)) if row.values["bridge"] == bridge]
    return sorted(
        (
            drop_none(
                {
                    "vlan_ids": VLAN_IDS.to_output(vlan["vlan-ids"]) if isinstance(vlan["vlan-ids"], frozenset) else vlan["vlan-ids"],
                    "tagged": NAMES.to_output(vlan["tagged"]),
                    "untagged": NAMES.to_output(vlan["untagged"]),
                    "comment": vlan["comment"] or None,
                }
            )
            for vlan in vlans
        ),
        key=lambda vlan: _first_vlan_id(vlan["vlan_ids"]),
    )


def _interfaces_output(reader: Reader, bridge: str) -> list[dict[str, Any]]:
    vlan_interfaces = [row.values for row in owned_rows(reader.read(VLAN_INTERFACE)) if row.values["interface"] == bridge]
    addresses = owned_rows(reader.read(IP_ADDRESS))
    return sorted(
        (
            drop_none(
                {
                    "name": item["name"],
                    "vlan_id": item["vlan-id"],
                    "mtu": item["mtu"],
                    "addresses": sorted(str(row.values["address"]) for row in addresses if row.values["interface"] == item["name"]),
                    "comment": item["comment"] or None,
                }
            )
            for item in vlan_interfaces
        ),
        key=lambda item: int(item["vlan_id"]) if isinstance(item["vlan_id"], int) else 0,
    )


def _first_vlan_id(vlan_ids: object) -> int:
    try:
        return min(parse_vlan_ids(vlan_ids))
    except ValueError:
        return 0


def plan_vlan(reader: Reader, request: VlanRequest) -> Outcome:
    """Bridge, ports, VLAN table, VLAN interfaces and addresses, ordered so management is never cut.

    Order: bridge created with filtering off (or filtering turned off first when asked), then ports,
    VLAN table, VLAN interfaces and addresses are added or changed (make before break), then unlisted
    entries are removed (purge), and the bridge's filtering settings (vlan-filtering, pvid,
    frame-types, ingress-filtering) are changed last.
    """
    bridge = request.bridge_name
    _validate_vlan_request(reader, request)

    bridge_rows = reader.read(BRIDGE)
    desired_bridge = dict(request.bridge)
    filtering_fields = ("vlan-filtering", "pvid", "frame-types", "ingress-filtering")
    early_bridge = {name: value for name, value in desired_bridge.items() if name not in filtering_fields}
    late_bridge = {"name": bridge, **{name: desired_bridge[name] for name in filtering_fields if name in desired_bridge}}
    existing = [row for row in owned_rows(bridge_rows) if row.values["name"] == bridge]
    if not existing:
        # A new bridge starts without filtering; filtering and its settings come last.
        early_bridge["vlan-filtering"] = False
    elif desired_bridge.get("vlan-filtering") is False:
        early_bridge["vlan-filtering"] = False  # turning filtering off opens the path: do it first
    bridge_early = plan_path(BRIDGE, [early_bridge], bridge_rows)
    after_early = predict(BRIDGE, bridge_rows, bridge_early.in_order())
    bridge_late = plan_path(BRIDGE, [late_bridge], after_early)

    ports, vlans, interfaces, addresses = PathPlan(BRIDGE_PORT), PathPlan(BRIDGE_VLAN), PathPlan(VLAN_INTERFACE), PathPlan(IP_ADDRESS)
    if request.manages_ports:
        ports = plan_path(BRIDGE_PORT, request.ports, reader.read(BRIDGE_PORT), purge=request.purge, in_scope=lambda row: row.values["bridge"] == bridge)
    if request.manages_vlans:
        vlans = plan_path(BRIDGE_VLAN, request.vlans, reader.read(BRIDGE_VLAN), purge=request.purge, in_scope=lambda row: row.values["bridge"] == bridge)
    if request.manages_interfaces:
        interfaces, addresses = _plan_vlan_interfaces(reader, request)

    changes = [
        *bridge_early.in_order("set", "add"),
        *ports.in_order("set", "add"),
        *vlans.in_order("set", "add"),
        *interfaces.in_order("set", "add"),
        *addresses.in_order("set", "add"),
        *addresses.removes,
        *interfaces.removes,
        *vlans.removes,
        *ports.removes,
        *bridge_late.in_order("set", "add"),
    ]
    warnings = []
    if request.management_vlan is None and request.bridge.get("vlan-filtering"):
        warnings.append("vlan_filtering is on but management_vlan is not set: the module cannot check that the router stays reachable")
    return Outcome.of(reader, changes, lambda state_reader: vlan_state(state_reader, bridge, request.sections), warnings)


def _plan_vlan_interfaces(reader: Reader, request: VlanRequest) -> tuple[PathPlan, PathPlan]:
    """VLAN interfaces of the bridge and their addresses (renames carry addresses along)."""
    bridge = request.bridge_name
    interface_rows = reader.read(VLAN_INTERFACE)
    interfaces = plan_path(VLAN_INTERFACE, request.interfaces, interface_rows, purge=request.purge, in_scope=lambda row: row.values["interface"] == bridge)
    renamed = {str(change.before["name"]): str(change.values["name"]) for change in interfaces.sets if change.before and "name" in change.values}
    removed_interfaces = {str(change.before["name"]) for change in interfaces.removes if change.before}
    managed_names = set(request.addresses) | set(renamed) | removed_interfaces
    address_rows = [_renamed_address(row, renamed) for row in reader.read(IP_ADDRESS)]
    desired_addresses = [
        {"address": address, "interface": name, "disabled": False} for name, interface_addresses in request.addresses.items() for address in interface_addresses
    ]
    addresses = plan_path(
        IP_ADDRESS,
        desired_addresses,
        address_rows,
        purge=request.purge,
        in_scope=lambda row: row.values["interface"] in managed_names,
    )
    _refuse_cutting_session(reader, addresses, interfaces)
    return interfaces, addresses


def _renamed_address(row: Row, renamed: Mapping[str, str]) -> Row:
    name = str(row.values["interface"])
    if name not in renamed:
        return row
    return Row(row.id, {**row.values, "interface": renamed[name]}, row.raw, row.system)


def _validate_vlan_request(reader: Reader, request: VlanRequest) -> None:
    """Router-dependent checks, before anything changes: interfaces exist, members are ports, management stays reachable."""
    bridge = request.bridge_name
    vlan_interface_names = {entry["name"] for entry in request.interfaces}
    # An interface that already is a bridge port exists: /interface is read only for new ports.
    existing_ports = {str(row.values["interface"]) for row in owned_rows(reader.read(BRIDGE_PORT))} if request.ports else set()
    for index, port in enumerate(request.ports):
        if port["interface"] not in existing_ports:
            require_interface(reader, f"ports[{index}].interface", port["interface"])
        if port["interface"] in vlan_interface_names or port["interface"] == bridge:
            raise InputError(
                f"ports[{index}].interface", port["interface"], f"cannot be a port of bridge {bridge} (it is the bridge or one of its VLAN interfaces)"
            )
    kept_ports = {port["interface"] for port in request.ports}
    members = {member for vlan in request.vlans for role in ("tagged", "untagged") for member in vlan[role]}
    if not request.purge and not members <= kept_ports | {bridge}:
        # Members that are not in ports may be ports the router already has (bridge ports are read only then).
        kept_ports |= {str(row.values["interface"]) for row in owned_rows(reader.read(BRIDGE_PORT)) if row.values["bridge"] == bridge}
    members_allowed = kept_ports | {bridge}
    for index, vlan in enumerate(request.vlans):
        for role in ("tagged", "untagged"):
            for member in sorted(vlan[role]):
                if member not in members_allowed:
                    raise InputError(
                        f"vlans[{index}].{role}", member, f"is neither bridge {bridge} nor one of its ports ({', '.join(sorted(kept_ports)) or 'no ports'})"
                    )
        both = vlan["tagged"] & vlan["untagged"]
        if both:
            raise InputError(f"vlans[{index}]", sorted(both), "is both tagged and untagged in the same VLAN")
    final_filtering = request.bridge.get("vlan-filtering")
    if final_filtering is None:
        current = [row for row in owned_rows(reader.read(BRIDGE)) if row.values["name"] == bridge]
        final_filtering = bool(current and current[0].values["vlan-filtering"])
    if final_filtering and request.management_vlan is not None:
        current_ports = {str(row.values["interface"]): row.values for row in owned_rows(reader.read(BRIDGE_PORT))} if request.management_port else {}
        _check_management_path(request, request.management_vlan, current_ports)


def _check_management_path(request: VlanRequest, vlan: int, current_ports: Mapping[str, Mapping[str, Any]]) -> None:
    """Refuse a plan that would leave the management VLAN unreachable once filtering is on."""
    bridge = request.bridge_name
    entry = next((item for item in request.vlans if vlan in item["vlan-ids"]), None)
    if entry is None:
        raise InputError("management_vlan", vlan, f"has no entry in vlans: bridge {bridge} must be a tagged member of it, or the router becomes unreachable")
    if bridge not in entry["tagged"]:
        raise InputError("management_vlan", vlan, f"needs bridge {bridge} in the tagged list of its vlans entry, or the router's VLAN interface is cut off")
    interface = next((item for item in request.interfaces if item["vlan-id"] == vlan), None)
    if interface is None:
        raise InputError("management_vlan", vlan, f"needs a VLAN interface (interfaces[].vlan_id={vlan}) on bridge {bridge} carrying management_address")
    if request.management_address not in request.addresses.get(interface["name"], []):
        raise InputError(
            "management_address",
            request.management_address,
            f"is not among the addresses of interface {interface['name']} (VLAN {vlan}); the router would lose it",
        )
    if request.management_port is None:
        return
    port = next((item for item in request.ports if item["interface"] == request.management_port), None)
    if port is None:
        raise InputError("management_port", request.management_port, f"is not in ports: it must stay a port of bridge {bridge}")
    current = current_ports.get(port["interface"], {})  # what the port keeps when an option is left out
    pvid = port.get("pvid", current.get("pvid", 1))
    frame_types = port.get("frame-types", current.get("frame-types", "admit-all"))
    tagged = request.management_port in entry["tagged"]
    untagged = request.management_port in entry["untagged"]
    if tagged:
        if frame_types == "admit-only-untagged-and-priority-tagged":
            raise InputError("management_port", request.management_port, f"carries VLAN {vlan} tagged but its frame_types refuse tagged frames")
        return
    if pvid != vlan:
        detail = "is an untagged member" if untagged else "is not a member"
        raise InputError("management_port", request.management_port, f"{detail} of management VLAN {vlan} but its pvid is {pvid}: set pvid {vlan} or tag it")
    if frame_types == "admit-only-vlan-tagged":
        raise InputError("management_port", request.management_port, f"reaches VLAN {vlan} untagged (pvid) but its frame_types refuse untagged frames")


def _refuse_cutting_session(reader: Reader, addresses: PathPlan, interfaces: PathPlan) -> None:
    """Never remove the address this session is connected to."""
    peer = reader.router_address
    if peer is None:
        return
    for change in addresses.removes:
        address = str((change.before or {}).get("address", ""))
        if address.split("/", maxsplit=1)[0] == peer:
            raise InputError("purge", True, f"would remove {address} from {change.key[0]}, the address this session is connected to; refusing")
    for change in interfaces.removes:
        name = str((change.before or {}).get("name", ""))
        for row in reader.read(IP_ADDRESS):  # dynamic addresses too: they go with the interface
            if row.values["interface"] == name and str(row.values["address"]).split("/", maxsplit=1)[0] == peer:
                raise InputError("purge", True, f"would remove VLAN interface {name}, which carries {row.values['address']}, the address this session uses")


# ---------------------------------------------------------------------------------------------
# Domain: netboot on one VLAN (routeros_netboot)
# ---------------------------------------------------------------------------------------------

HOSTNAME_OPTION_PREFIX = "hostname-"
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")


def hostname_option_name(hostname: str) -> str:
    return f"{HOSTNAME_OPTION_PREFIX}{hostname}"


def quote_option_text(text: str) -> str:
    """A DHCP option value holding text, in RouterOS syntax (``'client0'``)."""
    return "'" + text.replace("'", "\\'") + "'"


@dataclass
class NetbootRequest:
    """routeros_netboot's parameters, validated and canonical (API property names).

    Only what the task gives is managed (and read from the router): the DHCP server and its pool when
    ``interface`` is given, the DHCP network when ``network`` is given, option definitions when options are
    given or used, leases when listed or purged, TFTP rules when listed or purged.
    """

    interface: str | None
    server_name: str
    server: dict[str, Any] | None
    pool: dict[str, Any] | None
    network: dict[str, Any] | None
    options: list[dict[str, Any]]
    leases: list[dict[str, Any]]
    tftp: list[dict[str, Any]]
    hostname_mode: str
    purge_leases: bool
    purge_tftp: bool
    # In check mode the VLAN interface may be one that an earlier task of the same run would create.
    interface_may_be_pending: bool = False

    @property
    def manages_leases(self) -> bool:
        return bool(self.leases) or self.purge_leases

    @property
    def manages_tftp(self) -> bool:
        return bool(self.tftp) or self.purge_tftp

    @property
    def user_option_names(self) -> list[str]:
        return [option["name"] for option in self.options if not option["name"].startswith(HOSTNAME_OPTION_PREFIX)]

    @property
    def network_option_names(self) -> frozenset[str] | None:
        return None if self.network is None else self.network.get("dhcp-option")

    @property
    def reads_options(self) -> bool:
        """Option definitions are read when the task defines options or names some for the network."""
        return bool(self.options) or self.network_option_names is not None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> NetbootRequest:
        interface = None if params.get("interface") is None else str(params["interface"])
        server_name = params.get("server_name") or (f"dhcp-{interface}" if interface is not None else None)
        if server_name is None:
            raise InputError("server_name", None, "is required when interface is left out (the leases of which DHCP server?)")
        if interface is None:
            for name in ("lease_time", "authoritative", "pool"):
                if params.get(name) is not None:
                    raise InputError(name, params[name], "needs interface: it is a setting of the DHCP server, which is managed only when interface is given")
        network_params = params.get("network")
        network: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
        network_entry: dict[str, Any] | None = None
        if network_params is not None:
            network_address = parse_input(NETWORK, "network.address", network_params["address"])
            network = ipaddress.ip_network(network_address)
            network_entry = _network_entry(network_address, network_params)
        if params.get("pool") and network is None:
            raise InputError("pool", params["pool"], "needs network (its ranges must lie inside network.address)")
        pool = _pool_entry(params.get("pool"), str(interface), network) if network is not None else None
        server = None
        if interface is not None:
            server = drop_none(
                {
                    "name": server_name,
                    "interface": interface,
                    "address-pool": pool["name"] if pool else "static-only",
                    "lease-time": _optional(DURATION, "lease_time", params.get("lease_time")),
                    "authoritative": _optional(AUTHORITATIVE, "authoritative", params.get("authoritative")),
                    "disabled": False,
                }
            )
        hostname_mode = str(params.get("hostname_mode") or "comment")
        leases, hostnames = _lease_entries(params.get("leases") or [], server_name, network, hostname_mode)
        options = [_option_entry(index, option) for index, option in enumerate(params.get("dhcp_options") or [])]
        options += [{"name": hostname_option_name(name), "code": 12, "value": quote_option_text(name)} for name in sorted(hostnames)]
        tftp = [_tftp_entry(index, rule) for index, rule in enumerate(params.get("tftp") or [])]
        return cls(
            interface,
            str(server_name),
            server,
            pool,
            network_entry,
            options,
            leases,
            tftp,
            hostname_mode,
            bool(params.get("purge_leases")),
            bool(params.get("purge_tftp")),
        )


def _network_entry(address: str, network_params: Mapping[str, Any]) -> dict[str, Any]:
    return drop_none(
        {
            "address": address,
            "gateway": _optional(IP, "network.gateway", network_params.get("gateway")),
            "dns-server": _optional(IP_LIST, "network.dns_servers", network_params.get("dns_servers")),
            "domain": network_params.get("domain"),
            "next-server": _optional(IP, "network.next_server", network_params.get("next_server")),
            "boot-file-name": network_params.get("boot_file_name"),
            "dhcp-option": None if network_params.get("dhcp_options") is None else NAMES.parse(network_params.get("dhcp_options")),
        }
    )


def _pool_entry(pool: Mapping[str, Any] | None, interface: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> dict[str, Any] | None:
    if not pool:
        return None
    ranges = parse_input(POOL_RANGES, "pool.ranges", pool["ranges"])
    if not ranges:
        raise InputError("pool.ranges", pool["ranges"], "is empty (leave pool out for static leases only)")
    for item in sorted(ranges):
        first, last = pool_range_addresses(item)
        if first not in network or last not in network:
            raise InputError("pool.ranges", item, f"is not inside network.address {network}")
    return drop_none({"name": pool.get("name") or f"pool-{interface}", "ranges": ranges, "comment": pool.get("comment")})


def _lease_entries(
    leases: Sequence[Mapping[str, Any]], server: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network | None, hostname_mode: str
) -> tuple[list[dict[str, Any]], set[str]]:
    """Lease entries; addresses are checked against the network only when the task gives it."""
    entries: list[dict[str, Any]] = []
    hostnames: set[str] = set()
    macs: dict[str, int] = {}
    addresses: dict[str, int] = {}
    for index, lease in enumerate(leases):
        where = f"leases[{index}]"
        mac = parse_input(MAC, f"{where}.mac", lease["mac"])
        address = parse_input(IP, f"{where}.address", lease["address"])
        if network is not None and ipaddress.ip_address(address) not in network:
            raise InputError(f"{where}.address", lease["address"], f"is not inside network.address {network}")
        if network is not None and network.num_addresses > 2 and ipaddress.ip_address(address) in (network.network_address, network.broadcast_address):
            raise InputError(f"{where}.address", lease["address"], f"is the network or broadcast address of {network}")
        if mac in macs:
            raise InputError(f"{where}.mac", lease["mac"], f"is already used by leases[{macs[mac]}]")
        if address in addresses:
            raise InputError(f"{where}.address", lease["address"], f"is already used by leases[{addresses[address]}]")
        macs[mac] = index
        addresses[address] = index
        hostname = lease.get("hostname")
        if hostname is not None and not _HOSTNAME.match(str(hostname)):
            raise InputError(f"{where}.hostname", hostname, "is not a valid host name (letters, digits, hyphens; dot-separated labels)")
        comment = lease.get("comment")
        options: frozenset[str] = frozenset()
        if hostname is not None and hostname_mode == "option":
            options = frozenset({hostname_option_name(str(hostname))})
            hostnames.add(str(hostname))
        elif hostname is not None:
            comment = f"{hostname}: {comment}" if comment else str(hostname)
        entries.append({"server": server, "mac-address": mac, "address": address, "comment": comment or "", "dhcp-option": options, "disabled": False})
    return entries, hostnames


def _option_entry(index: int, option: Mapping[str, Any]) -> dict[str, Any]:
    where = f"dhcp_options[{index}]"
    name = str(option["name"])
    if name.startswith(HOSTNAME_OPTION_PREFIX):
        raise InputError(f"{where}.name", name, f"uses the prefix {HOSTNAME_OPTION_PREFIX!r}, reserved for hostname_mode=option")
    return {"name": name, "code": parse_input(IntKind(1, 254), f"{where}.code", option["code"]), "value": str(option["value"])}


def _tftp_entry(index: int, rule: Mapping[str, Any]) -> dict[str, Any]:
    where = f"tftp[{index}]"
    try:
        re.compile(str(rule["req_filename"]))
    except re.error as exc:
        raise InputError(f"{where}.req_filename", rule["req_filename"], f"is not a valid regular expression ({exc})") from None
    return drop_none(
        {
            "req-filename": str(rule["req_filename"]),
            "real-filename": rule.get("real_filename"),
            "allow": rule.get("allow"),
            "read-only": rule.get("read_only"),
            "ip-addresses": _optional(NETWORKS, f"{where}.ip_addresses", rule.get("ip_addresses")),
            "disabled": False,
        }
    )


NETBOOT_SECTIONS = frozenset({"server", "pool", "network", "dhcp_options", "leases"})


def netboot_state(
    reader: Reader,
    server_name: str,
    network_address: str | None = None,
    option_names: Iterable[str] = (),
    sections: frozenset[str] = NETBOOT_SECTIONS,
) -> dict[str, Any]:
    """One DHCP server as routeros_netboot takes it, limited to ``sections`` (only their paths are read).

    ``server`` (interface, lease time, authoritative; {} when the server does not exist) and ``pool`` read the
    server and its pool; ``network`` reads the DHCP network at ``network_address``, or without one the network
    holding an address of the server's interface; ``dhcp_options`` lists the options the network uses plus
    ``option_names``; ``leases`` gives the static leases and the hostname mode they use.
    """
    result: dict[str, Any] = {"server_name": server_name}
    interface: str | None = None
    if "server" in sections:
        servers = [row for row in owned_rows(reader.read(DHCP_SERVER)) if row.values["name"] == server_name]
        if not servers:
            return {}
        server = servers[0].values
        interface = str(server["interface"])
        result.update(
            interface=interface,
            lease_time=DURATION.to_output(server["lease-time"]) if isinstance(server["lease-time"], int) else None,
            authoritative=server["authoritative"],
        )
        if "pool" in sections:
            pool_name = str(server["address-pool"])
            pools = [row.values for row in owned_rows(reader.read(IP_POOL)) if row.values["name"] == pool_name]
            result["pool"] = {"name": pool_name, "ranges": POOL_RANGES.to_output(pools[0]["ranges"])} if pools else None
    network: Mapping[str, Any] | None = None
    if "network" in sections and (network_address or interface is not None):
        networks = [
            row.values
            for row in owned_rows(reader.read(DHCP_NETWORK))
            if (row.values["address"] == network_address if network_address else _network_on_interface(reader, row.values["address"], str(interface)))
        ]
        network = networks[0] if networks else None
        result["network"] = _network_output(network) if network else None
    if "dhcp_options" in sections:
        options = {str(row.values["name"]): row.values for row in owned_rows(reader.read(DHCP_OPTION))}
        referenced = (set(network["dhcp-option"]) if network else set()) | set(option_names)
        result["dhcp_options"] = [
            {"name": name, "code": options[name]["code"], "value": options[name]["value"]} for name in sorted(referenced) if name in options
        ]
    if "leases" in sections:
        leases = [row.values for row in owned_rows(reader.read(DHCP_LEASE)) if row.values["server"] == server_name]
        uses_options = any(name.startswith(HOSTNAME_OPTION_PREFIX) for lease in leases for name in lease["dhcp-option"])
        result["hostname_mode"] = "option" if uses_options else "comment"
        result["leases"] = sorted((_lease_output(lease) for lease in leases), key=lambda lease: str(lease["mac"]))
    return drop_none(result)


def _network_on_interface(reader: Reader, network: object, interface: str) -> bool:
    """A DHCP network belongs to the server whose interface has an address inside it."""
    try:
        subnet = ipaddress.ip_network(str(network))
    except ValueError:
        return False
    for row in owned_rows(reader.read(IP_ADDRESS)):
        if row.values["interface"] == interface:
            try:
                if ipaddress.ip_interface(str(row.values["address"])).ip in subnet:
                    return True
            except ValueError:
                continue
    return False


def _network_output(network: Mapping[str, Any]) -> dict[str, Any]:
    return drop_none(
        {
            "address": network["address"],
            "gateway": network["gateway"],
            "dns_servers": IP_LIST.to_output(network["dns-server"]) or None,
            "domain": network["domain"] or None,
            "next_server": network["next-server"],
            "boot_file_name": network["boot-file-name"] or None,
            "dhcp_options": NAMES.to_output(network["dhcp-option"]) or None,
        }
    )


def _lease_output(lease: Mapping[str, Any]) -> dict[str, Any]:
    hostnames = [name[len(HOSTNAME_OPTION_PREFIX) :] for name in sorted(lease["dhcp-option"]) if name.startswith(HOSTNAME_OPTION_PREFIX)]
    return drop_none(
        {
            "mac": lease["mac-address"],
            "address": lease["address"],
            "hostname": hostnames[0] if hostnames else None,
            "comment": lease["comment"] or None,
        }
    )


def tftp_state(reader: Reader) -> list[dict[str, Any]]:
    return [
        drop_none(
            {
                "req_filename": row.values["req-filename"],
                "real_filename": row.values["real-filename"] or None,
                "allow": row.values["allow"],
                "read_only": row.values["read-only"],
                "ip_addresses": NETWORKS.to_output(row.values["ip-addresses"]) or None,
            }
        )
        for row in owned_rows(reader.read(TFTP))
    ]


def plan_netboot(reader: Reader, request: NetbootRequest) -> Outcome:
    """Pool, options, DHCP server, network, static leases and TFTP rules, each only when the task manages it."""
    warnings = _check_netboot_interface(reader, request)
    _require_options_known(reader, request)
    server_name = request.server_name

    pools = plan_path(IP_POOL, [request.pool], reader.read(IP_POOL)) if request.pool else PathPlan(IP_POOL)
    options = plan_path(DHCP_OPTION, request.options, reader.read(DHCP_OPTION)) if request.options else PathPlan(DHCP_OPTION)
    servers = plan_path(DHCP_SERVER, [request.server], reader.read(DHCP_SERVER)) if request.server else PathPlan(DHCP_SERVER)
    networks = plan_path(DHCP_NETWORK, [request.network], reader.read(DHCP_NETWORK)) if request.network else PathPlan(DHCP_NETWORK)
    leases = PathPlan(DHCP_LEASE)
    stale_options: list[Change] = []
    if request.manages_leases:
        lease_rows = reader.read(DHCP_LEASE)
        leases = plan_path(DHCP_LEASE, request.leases, lease_rows, purge=request.purge_leases, in_scope=lambda row: row.values["server"] == server_name)
        stale_options = _stale_hostname_options(reader, predict(DHCP_LEASE, lease_rows, leases.in_order()), lease_rows, server_name)
    tftp = plan_path(TFTP, request.tftp, reader.read(TFTP), purge=request.purge_tftp) if request.manages_tftp else PathPlan(TFTP)

    changes = [
        *pools.in_order(),
        *options.in_order("set", "add"),
        *servers.in_order(),
        *networks.in_order(),
        *leases.in_order(),
        *tftp.in_order(),
        *stale_options,
    ]
    return Outcome.of(reader, changes, lambda state_reader: netboot_managed_state(state_reader, request), warnings)


def netboot_managed_state(reader: Reader, request: NetbootRequest) -> dict[str, Any]:
    """The parts of the DHCP server and TFTP rules the task manages, in the module's input shape."""
    sections = {
        name
        for name, managed in (
            ("server", request.server is not None),
            ("pool", request.pool is not None),
            ("network", request.network is not None),
            ("dhcp_options", bool(request.user_option_names) or request.network_option_names is not None),
            ("leases", request.manages_leases),
        )
        if managed
    }
    network_address = None if request.network is None else str(request.network["address"])
    state = netboot_state(reader, request.server_name, network_address, request.user_option_names, frozenset(sections))
    if request.manages_tftp:
        state["tftp"] = tftp_state(reader)
    return state


def _check_netboot_interface(reader: Reader, request: NetbootRequest) -> list[str]:
    """The server's interface must exist; a server already on that interface shows it does (no /interface read)."""
    if request.interface is None:
        return []
    existing = [row for row in owned_rows(reader.read(DHCP_SERVER)) if row.values["name"] == request.server_name]
    if existing and existing[0].values["interface"] == request.interface:
        return []
    if request.interface_may_be_pending and request.interface not in interface_names(reader):
        return [f"interface {request.interface!r} does not exist yet: check mode assumes an earlier task creates it (a real run fails if not)"]
    require_interface(reader, "interface", request.interface)
    return []


def _require_options_known(reader: Reader, request: NetbootRequest) -> None:
    wanted = request.network_option_names
    if not wanted:
        return
    given = {option["name"] for option in request.options}
    if wanted <= given:
        return
    known = {str(row.values["name"]) for row in owned_rows(reader.read(DHCP_OPTION))} | given
    for name in sorted(wanted):
        if name not in known:
            raise InputError("network.dhcp_options", name, "is not a DHCP option of the router nor of dhcp_options")


def _stale_hostname_options(reader: Reader, leases_after: Sequence[Row], leases_before: Sequence[Row], server: str) -> list[Change]:
    """Hostname options our server's leases used and no lease uses any more (option definitions are read only then)."""
    used_after = {name for row in owned_rows(leases_after) for name in row.values["dhcp-option"]}
    used_before = {name for row in owned_rows(leases_before) if row.values["server"] == server for name in row.values["dhcp-option"]}
    stale = {name for name in used_before - used_after if name.startswith(HOSTNAME_OPTION_PREFIX)}
    if not stale:
        return []
    return [
        Change(DHCP_OPTION, "remove", row.key(DHCP_OPTION), row.id, {}, dict(row.values))
        for row in owned_rows(reader.read(DHCP_OPTION))
        if str(row.values["name"]) in stale
    ]


# ---------------------------------------------------------------------------------------------
# Domain: ROSE file-backed disks exported over NVMe/TCP (routeros_nvme_export)
# ---------------------------------------------------------------------------------------------

ROSE_STORAGE_PACKAGE = "rose-storage"


@dataclass
class NvmeRequest:
    slot: str
    state: str
    file_path: str | None
    file_size: int | None
    export: dict[str, Any]
    remove_file: bool

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> NvmeRequest:
        slot = str(params["slot"]).strip()
        if not slot or any(character.isspace() for character in slot):
            raise InputError("slot", params["slot"], "must be a non-empty name without spaces")
        file_path = _optional(FILE_PATH, "file_path", params.get("file_path"))
        if file_path == "":
            raise InputError("file_path", params.get("file_path"), "is empty")
        file_size = _optional(SIZE, "file_size", params.get("file_size"))
        if file_size is not None and file_size <= 0:
            raise InputError("file_size", params.get("file_size"), "must be larger than zero")
        nqn = params.get("nqn")
        if nqn is not None and not str(nqn).startswith("nqn."):
            raise InputError("nqn", nqn, "is not an NVMe qualified name (starts with 'nqn.')")
        export = drop_none(
            {
                "nvme-tcp-export": True,
                "nvme-tcp-server-port": _optional(IntKind(1, 65535), "nvme_port", params.get("nvme_port")),
                "nvme-tcp-server-nqn": None if nqn is None else str(nqn),
                "nvme-tcp-server-allow-host-name": None if params.get("allowed_hosts") is None else NAMES.parse(params.get("allowed_hosts")),
            }
        )
        return cls(slot, str(params.get("state") or "present"), file_path, file_size, export, bool(params.get("remove_file")))


def rose_storage_installed(reader: Reader) -> bool:
    return any(row.values["name"] == ROSE_STORAGE_PACKAGE and not row.values["disabled"] for row in reader.read(PACKAGE))


def nvme_exports_state(reader: Reader) -> list[dict[str, Any]]:
    return sorted((_export_output(row) for row in owned_rows(reader.read(DISK)) if _is_file_export(row)), key=lambda item: str(item["slot"]))


def _is_file_export(row: Row) -> bool:
    return row.values["type"] == "file" and row.values["nvme-tcp-export"] is True


def _export_output(row: Row) -> dict[str, Any]:
    values = row.values
    return drop_none(
        {
            "slot": values["slot"],
            "file_path": values["file-path"],
            "file_size": values["file-size"],
            "nvme_port": values["nvme-tcp-server-port"],
            "nqn": values["nvme-tcp-server-nqn"] or None,
            "allowed_hosts": NAMES.to_output(values["nvme-tcp-server-allow-host-name"]),
        }
    )


def _slot_state(rows: Sequence[Row], slot: str) -> dict[str, Any]:
    found = [row for row in owned_rows(rows) if row.values["slot"] == slot and row.values["type"] == "file"]
    return _export_output(found[0]) if found else {}


def plan_nvme_export(reader: Reader, request: NvmeRequest) -> Outcome:
    """One file-backed /disk slot exported over NVMe/TCP; shrinking and re-pointing are refused."""
    disk_rows = reader.read(DISK)
    current = [row for row in owned_rows(disk_rows) if row.values["slot"] == request.slot]
    if current and current[0].values["type"] != "file":
        raise InputError(
            "slot", request.slot, f"is a {current[0].values['type'] or 'non-file'} disk on the router, not a file-backed volume; refusing to touch it"
        )
    changes: list[Change] = []
    if request.state == "absent":
        if current:
            changes.append(Change(DISK, "remove", (request.slot,), current[0].id, {}, dict(current[0].values)))
            if request.remove_file:
                changes += _file_removal(reader, str(current[0].values["file-path"]))
        return Outcome.of(reader, changes, lambda state_reader: _slot_state(state_reader.read(DISK), request.slot))

    if not current:
        _require_rose_storage(reader)
        for name, value in (("file_path", request.file_path), ("file_size", request.file_size)):
            if value is None:
                raise InputError(name, value, f"is required to create slot {request.slot}")
        entry = {"slot": request.slot, "type": "file", "file-path": request.file_path, "file-size": request.file_size, **request.export}
        changes = plan_path(DISK, [entry], disk_rows).in_order()
    else:
        row = current[0]
        if request.file_path is not None and row.values["file-path"] != request.file_path:
            raise InputError(
                "file_path", request.file_path, f"differs from the file of slot {request.slot} ({row.values['file-path']}); remove the export first"
            )
        size = row.values["file-size"]
        if request.file_size is not None and isinstance(size, int) and request.file_size < size:
            raise InputError("file_size", request.file_size, f"is smaller than the current size of slot {request.slot} ({size} bytes); shrinking is refused")
        entry = drop_none({"slot": request.slot, "file-size": request.file_size, **request.export})
        changes = plan_path(DISK, [entry], disk_rows).in_order()
        if changes:
            _require_rose_storage(reader)
    return Outcome.of(reader, changes, lambda state_reader: _slot_state(state_reader.read(DISK), request.slot))


def _require_rose_storage(reader: Reader) -> None:
    """Checked (one read of /system/package) only when an export is to be created or changed."""
    if not rose_storage_installed(reader):
        raise RouterOSError(f"the {ROSE_STORAGE_PACKAGE} package is not installed or is disabled on the router: NVMe/TCP exports need it")


def _file_removal(reader: Reader, file_path: str) -> list[Change]:
    rows = reader.query(FILE, {"name": file_path})
    return [Change(FILE, "remove", (file_path,), row.id, {}, dict(row.values)) for row in rows if row.values["name"] == file_path]


# ---------------------------------------------------------------------------------------------
# Domain: information (routeros_info)
# ---------------------------------------------------------------------------------------------

INFO_SUBSETS = ("system", "vlan", "netboot", "nvme")


def gather_info(reader: Reader, subsets: Iterable[str]) -> dict[str, Any]:
    """Version, board and packages, and the state of every managed path in the modules' input shape."""
    wanted = set(subsets)
    if "all" in wanted:
        wanted = set(INFO_SUBSETS)
    result: dict[str, Any] = {}
    if "system" in wanted:
        resources = reader.read(RESOURCE)
        resource = resources[0].values if resources else {}
        packages = reader.read(PACKAGE)
        result.update(
            version=resource.get("version"),
            board=resource.get("board-name"),
            architecture=resource.get("architecture-name"),
            packages=sorted(
                ({"name": row.values["name"], "version": row.values["version"], "disabled": row.values["disabled"]} for row in packages),
                key=lambda p: str(p["name"]),
            ),
            rose_storage=rose_storage_installed(reader),
        )
    if "vlan" in wanted:
        result["bridges"] = [vlan_state(reader, str(row.values["name"])) for row in owned_rows(reader.read(BRIDGE))]
    if "netboot" in wanted:
        result["netboot"] = [netboot_state(reader, str(row.values["name"])) for row in owned_rows(reader.read(DHCP_SERVER))]
        result["tftp"] = tftp_state(reader)
    if "nvme" in wanted:
        result["nvme_exports"] = nvme_exports_state(reader) if rose_storage_installed(reader) else []
    return result


# ---------------------------------------------------------------------------------------------
# Module glue
# ---------------------------------------------------------------------------------------------


def run_planner(module: Any, make_request: Callable[[Mapping[str, Any]], RequestT], plan: Callable[[Reader, RequestT], Outcome]) -> None:
    """Validate input, connect, plan, apply unless in check mode, and report.

    Input is validated before connecting; router-dependent checks happen while planning; nothing is
    written before both passed. Every failure names the path, the entry and the router's message.
    Nothing is read back after the writes: the after state is the before state with the plan applied,
    the same in check mode and in a real run (the router accepted every write, or the run failed).
    """
    if LIBROUTEROS_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("librouteros"), exception=LIBROUTEROS_IMPORT_ERROR)
    session: Session | None = None
    try:
        request = make_request(module.params)
        session = Session.connect(ConnectionOptions.from_params(module.params))
        outcome = plan(session, request)
        applied = [] if module.check_mode else session.apply(outcome.changes)
    except RouterOSError as exc:
        module.fail_json(msg=exc.message, changed=bool(exc.applied), **exc.details())
        return
    finally:
        if session is not None:
            session.close()
    for warning in outcome.warnings:
        module.warn(warning)
    result: dict[str, Any] = {
        "changed": bool(outcome.changes),
        "changes": [change.describe() for change in outcome.changes],
        "applied": applied,
        "state": outcome.after,
    }
    if module._diff:
        result["diff"] = {"before": outcome.before, "after": outcome.after}
    module.exit_json(**result)


def run_reader(module: Any, read: Callable[[Reader], dict[str, Any]]) -> None:
    """Connect, read, report (for modules that change nothing)."""
    if LIBROUTEROS_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("librouteros"), exception=LIBROUTEROS_IMPORT_ERROR)
    session: Session | None = None
    try:
        session = Session.connect(ConnectionOptions.from_params(module.params))
        result = read(session)
    except RouterOSError as exc:
        module.fail_json(msg=exc.message, **exc.details())
        return
    finally:
        if session is not None:
            session.close()
    module.exit_json(changed=False, **result)
