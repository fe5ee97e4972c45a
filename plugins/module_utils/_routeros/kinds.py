# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Value kinds: parse (user or router form) -> canonical, canonical -> API word, canonical -> output.

Each RouterOS property has one kind, so that ``b,a`` equals ``a, b``, ``10-12`` equals ``10,11,12`` and
``00:30:00`` equals ``30m`` whichever side spelled them; the modules take their ``choices`` from the
enumerated kinds here.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.errors import InputError

VLAN_ID_MIN = 1
VLAN_ID_MAX = 4094


_TRUE_WORDS = frozenset({"yes", "true"})
_FALSE_WORDS = frozenset({"no", "false"})


def is_true_word(raw: str | None) -> bool:
    """A router flag (``dynamic``, ``builtin``) that is set; anything else, missing included, is not."""
    return raw is not None and raw.strip().lower() in _TRUE_WORDS


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
# Words of the modules' own options (not RouterOS properties), defined once for the planners and the modules.
HOSTNAME_MODE = EnumKind(("comment", "option"))
EXPORT_STATE = EnumKind(("present", "absent"))
GATHER_SUBSET = EnumKind(("all", "system", "vlan", "netboot", "nvme"))


def parse_input(kind: Kind, field_name: str, value: object) -> Any:
    """Canonical value of user input; a clear error naming the field and value otherwise."""
    try:
        return kind.parse(value)
    except ValueError as exc:
        raise InputError(field_name, value, str(exc)) from None


def optional_input(kind: Kind, field_name: str, value: object) -> Any:
    """``parse_input`` for an option the user may leave out (None stays None: not managed)."""
    return None if value is None else parse_input(kind, field_name, value)
