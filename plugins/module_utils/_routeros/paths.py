# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The path catalogue: the RouterOS 7 menus the modules use, as data, and lookups shared by the domains."""

from __future__ import annotations

from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.engine import Field, PathSpec, Reader
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.errors import InputError
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.kinds import (
    AUTHORITATIVE,
    BOOL,
    DURATION,
    FILE_PATH,
    FRAME_TYPES,
    INT,
    INTERFACE_ADDRESS,
    IP,
    IP_LIST,
    MAC,
    NAMES,
    NETWORK,
    NETWORKS,
    POOL_RANGES,
    SIZE,
    TEXT,
    VLAN_ID,
    VLAN_IDS,
    IntKind,
)

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


def interface_names(reader: Reader) -> set[str]:
    return {str(row.values["name"]) for row in reader.read(INTERFACE)}


def require_interface(reader: Reader, field_name: str, name: str) -> None:
    """Unknown interface names fail before any change, with what the router does have."""
    known = interface_names(reader)
    if name not in known:
        listed = ", ".join(sorted(known)[:40]) or "none"
        raise InputError(field_name, name, f"is not an interface of the router (the router has: {listed})")
