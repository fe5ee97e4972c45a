# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Values of the inventory model: the problem report, address and network parsing, MAC normal form, VLANs.

Used by the model builder in _inventory.py; netaddr is imported by the caller's check (HAS_NETADDR there).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.diskless.datacenter.plugins.module_utils._patterns import is_mac

try:
    import netaddr
except ImportError:  # pragma: no cover - reported by the callers with missing_required_lib
    netaddr = None


@dataclass
class Problems:
    """Collects every problem found; one line each, naming host, field and value."""

    lines: list[str] = field(default_factory=list)

    def add(self, where: str, key: str, value: Any, why: str) -> None:
        self.lines.append(f"{where}: {key}={value!r}: {why}")

    def __bool__(self) -> bool:
        return bool(self.lines)

    def report(self) -> str:
        count = len(self.lines)
        heading = f"inventory has {count} problem{'s' if count != 1 else ''}:"
        return "\n".join([heading, *(f"  - {line}" for line in self.lines)])


class InventoryError(Exception):
    """Raised with the full problem report when the inventory is invalid."""

    def __init__(self, problems: Problems) -> None:
        super().__init__(problems.report())
        self.problems = problems.lines


def normalise_mac(value: Any) -> str | None:
    """Return the MAC in lowercase colon form, or None when malformed."""
    if not isinstance(value, str):
        return None
    candidate = value.strip().lower().replace("-", ":")
    return candidate if is_mac(candidate) else None


def as_network(value: Any) -> netaddr.IPNetwork | None:
    if not isinstance(value, str) or "/" not in value:
        return None
    try:
        network = netaddr.IPNetwork(value)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return None
    if network.version != 4 or network.ip != network.network:
        return None
    return network


def as_address(value: Any) -> netaddr.IPAddress | None:
    if not isinstance(value, str):
        return None
    try:
        address = netaddr.IPAddress(value)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        return None
    return address if address.version == 4 else None


def is_ip(value: Any) -> bool:
    """VALUE is an IPv4 or IPv6 address in its plain form (no newline, no port, no prefix)."""
    if not isinstance(value, str):
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def usable(network: netaddr.IPNetwork, address: netaddr.IPAddress) -> bool:
    return address in network and address not in (network.network, network.broadcast)


@dataclass
class Vlan:
    id: int
    name: str
    subnet: netaddr.IPNetwork
    gateway: netaddr.IPAddress
    dhcp_range: tuple[netaddr.IPAddress, netaddr.IPAddress] | None
    mtu: int | None
    description: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "subnet": str(self.subnet),
            "prefixlen": self.subnet.prefixlen,
            "netmask": str(self.subnet.netmask),
            "network": str(self.subnet.network),
            "gateway": str(self.gateway),
            "dhcp_range": [str(a) for a in self.dhcp_range] if self.dhcp_range else None,
            "mtu": self.mtu,
            "description": self.description,
        }
