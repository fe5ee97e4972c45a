"""Value types of RouterOS properties: how an input word is checked and how the router prints it back.

Error wordings: MikroTik documents few of them. Where a wording was seen on real routers (issue trackers of
API clients) it is used verbatim; otherwise the closest such wording is reused and marked "wording chosen".
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass

from .errors import ApiError

BOOLEAN_WORDS = {"yes": "true", "true": "true", "no": "false", "false": "false"}
SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
DURATION_UNITS = (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
MAC_PATTERN = re.compile(r"^[0-9A-Fa-f]{2}([:-]?)[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}$")

Lookup = Callable[[str, str], bool]  # (path, name) -> does an item with that name exist?


# Argument errors carry no =category= on real routers (librouteros debug logs show only =message=).


def invalid_value(name: str) -> ApiError:
    # Seen on RouterOS 7 ("invalid value for argument interface:", community.routeros issue 440).
    return ApiError(f"invalid value for argument {name}")


def no_matching_value(name: str) -> ApiError:
    # Seen on RouterOS 7 for references: "input does not match any value of interface".
    return ApiError(f"input does not match any value of {name}")


@dataclass(frozen=True)
class ValueType:
    """Base type: free text, printed as given."""

    def parse(self, name: str, raw: str, lookup: Lookup) -> str:
        return raw


TEXT = ValueType()


@dataclass(frozen=True)
class Boolean(ValueType):
    """Accepts yes/no/true/false; RouterOS 7 prints true/false."""

    def parse(self, name: str, raw: str, lookup: Lookup) -> str:
        try:
            return BOOLEAN_WORDS[raw.strip().lower()]
        except KeyError:
            raise no_matching_value(name) from None  # wording chosen: same family as enum errors


@dataclass(frozen=True)
class Choice(ValueType):
    choices: tuple[str, ...]

    def parse(self, name: str, raw: str, lookup: Lookup) -> str:
        if raw not in self.choices:
            raise no_matching_value(name)
        return raw


@dataclass(frozen=True)
class Integer(ValueType):
    minimum: int
    maximum: int
    words: tuple[str, ...] = ()  # accepted as they are, e.g. "auto"

    def parse(self, name: str, raw: str, lookup: Lookup) -> str:
        if raw in self.words:
            return raw
        try:
            value = int(raw.strip(), 0) if raw.strip().lower().startswith("0x") else int(raw.strip())
        except ValueError:
            raise invalid_value(name) from None
        if not self.minimum <= value <= self.maximum:
            # Wording as RouterOS prints it, e.g. "value of pvid out of range (1..4094)".
            raise ApiError(f"value of {name} out of range ({self.minimum}..{self.maximum})")
        return str(value)


@dataclass(frozen=True)
class HexInteger(Integer):
    """Printed as 0x.. (bridge priority and the like)."""

    width: int = 4

    def parse(self, name: str, raw: str, lookup: Lookup) -> str:
        return f"0x{int(super().parse(name, raw, lookup)):0{self.width}X}"


@dataclass(frozen=True)
class Reference(ValueType):
    """The name of an item of another path, optionally with special words ("none", "all", "static-only")."""

    target: str
    specials: tuple[str, ...] = ()
    what: str = ""  # the word used in "input does not match any value of <what>"

    def parse(self, name: str, raw: str, lookup: Lookup) -> str:
        if raw in self.specials or lookup(self.target, raw):
            return raw
        raise no_matching_value(self.what or name)


@dataclass(frozen=True)
class InterfaceList(ValueType):
    """Comma-separated interface names (bridge VLAN tagged / untagged)."""

    def parse(self, name: str, raw: str, lookup: Lookup) -> str:
        names = [part.strip() for part in raw.split(",") if part.strip()]
        for interface in names:
            if not lookup("/interface", interface):
                # Seen on RouterOS 7.20 for /interface/bridge/vlan tagged (community.routeros issue 440);
                # librouteros shows the CRLF line breaks as commas.
                raise ApiError(
                    "invalid value for argument interface:\r\n"
                    "    input does not match any value of interface\r\n"
                    "    input does not match any value of interface-list"
                )
        if len(set(names)) != len(names):
            raise invalid_value(name)
        return ",".join(names)


def parse_vlan_ranges(raw: str) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for part in raw.split(","):
        first, _unused, last = part.strip().partition("-")
        low, high = int(first), int(last or first)
        if not (1 <= low <= high <= 4094):
            raise ValueError(part)
        ranges.append((low, high))
    return ranges


def vlan_id_set(raw: str) -> set[int]:
    return {vid for low, high in parse_vlan_ranges(raw) for vid in range(low, high + 1)}


@dataclass(frozen=True)
class VlanIdRanges(ValueType):
    """``100-115,120``: kept in the order given, spaces dropped."""

    def parse(self, name: str, raw: str, lookup: Lookup) -> str:
        try:
            ranges = parse_vlan_ranges(raw)
        except ValueError:
            raise ApiError(f"value of {name} out of range (1..4094)") from None
        return ",".join(str(low) if low == high else f"{low}-{high}" for low, high in ranges)


@dataclass(frozen=True)
class MacAddress(ValueType):
    """Printed in upper case with colons, as RouterOS shows MAC addresses."""

    def parse(self, name: str, raw: str, lookup: Lookup) -> str:
        if not MAC_PATTERN.match(raw.strip()):
            raise invalid_value(name)
        digits = re.sub(r"[:-]", "", raw.strip()).upper()
        return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


@dataclass(frozen=True)
class IPv4(ValueType):
    def parse(self, name: str, raw: str, lookup: Lookup) -> str:
        try:
            return str(ipaddress.IPv4Address(raw.strip()))
        except ValueError:
            raise invalid_value(name) from None


@dataclass(frozen=True)
class IPv4List(ValueType):
    """Comma-separated IPv4 addresses (dns-server, ntp-server, ip-addresses); empty allowed."""

    allow_networks: bool = False

    def parse(self, name: str, raw: str, lookup: Lookup) -> str:
        parts = [part.strip() for part in raw.split(",") if part.strip()]
        try:
            if self.allow_networks:
                return ",".join(str(ipaddress.IPv4Network(part, strict=False)).removesuffix("/32") for part in parts)
            return ",".join(str(ipaddress.IPv4Address(part)) for part in parts)
        except ValueError:
            raise invalid_value(name) from None


@dataclass(frozen=True)
class IPv4Interface(ValueType):
    """``10.0.0.1/24`` (an address on an interface); a bare address means /32."""

    def parse(self, name: str, raw: str, lookup: Lookup) -> str:
        try:
            return str(ipaddress.IPv4Interface(raw.strip()))
        except ValueError:
            raise invalid_value(name) from None


@dataclass(frozen=True)
class IPv4Network(ValueType):
    """``10.0.0.0/24``; host bits are cleared as the router does."""

    def parse(self, name: str, raw: str, lookup: Lookup) -> str:
        try:
            return str(ipaddress.IPv4Network(raw.strip(), strict=False))
        except ValueError:
            raise invalid_value(name) from None


@dataclass(frozen=True)
class IPv4Ranges(ValueType):
    """Pool ranges: ``10.0.0.10-10.0.0.99,10.0.1.0/24``."""

    def parse(self, name: str, raw: str, lookup: Lookup) -> str:
        parts = [part.strip() for part in raw.split(",") if part.strip()]
        try:
            for part in parts:
                first, dash, last = part.partition("-")
                if dash:
                    if ipaddress.IPv4Address(first) > ipaddress.IPv4Address(last):
                        raise ValueError(part)
                else:
                    ipaddress.IPv4Network(first, strict=False)
        except ValueError:
            raise invalid_value(name) from None
        if not parts:
            raise invalid_value(name)
        return ",".join(parts)


def parse_duration_seconds(raw: str) -> int:
    text = raw.strip().lower()
    if re.fullmatch(r"\d+", text):
        return int(text)
    if re.fullmatch(r"\d+:\d{2}:\d{2}", text):
        hours, minutes, seconds = (int(part) for part in text.split(":"))
        return hours * 3600 + minutes * 60 + seconds
    pieces = re.findall(r"(\d+)([wdhms])", text)
    if not pieces or "".join(number + unit for number, unit in pieces) != text:
        raise ValueError(raw)
    units = dict(DURATION_UNITS)
    return sum(int(number) * units[unit] for number, unit in pieces)


def format_duration(seconds: int) -> str:
    """RouterOS prints durations as e.g. ``1d2h30m`` (``0s`` for zero)."""
    parts = []
    for unit, size in DURATION_UNITS:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


@dataclass(frozen=True)
class Duration(ValueType):
    specials: tuple[str, ...] = ()

    def parse(self, name: str, raw: str, lookup: Lookup) -> str:
        if raw in self.specials:
            return raw
        try:
            return format_duration(parse_duration_seconds(raw))
        except ValueError:
            raise invalid_value(name) from None


def parse_size_bytes(raw: str) -> int:
    """``10G`` / ``10GiB`` / ``512M`` / bytes; RouterOS size units are powers of 1024."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(?:i?[bB])?\s*", raw)
    if not match:
        raise ValueError(raw)
    return int(float(match.group(1)) * SIZE_UNITS[match.group(2).lower()])


@dataclass(frozen=True)
class Size(ValueType):
    """Sizes are returned in bytes over the API."""

    def parse(self, name: str, raw: str, lookup: Lookup) -> str:
        try:
            return str(parse_size_bytes(raw))
        except ValueError:
            raise invalid_value(name) from None


@dataclass(frozen=True)
class ReferenceList(ValueType):
    """Comma-separated names of items of another path (DHCP option names and the like); empty allowed."""

    target: str
    what: str = ""

    def parse(self, name: str, raw: str, lookup: Lookup) -> str:
        names = [part.strip() for part in raw.split(",") if part.strip()]
        for item in names:
            if not lookup(self.target, item):
                raise no_matching_value(self.what or name)
        return ",".join(names)
