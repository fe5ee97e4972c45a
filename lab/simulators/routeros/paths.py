"""The RouterOS 7 menus the simulator knows, as data.

Fields and defaults follow MikroTik's manual (help.mikrotik.com: Bridging and Switching, DHCP, TFTP,
ROSE-storage) for RouterOS 7.16; adding a menu means adding one PathSpec here (and, when it has
cross-item rules, a validator next to it).
"""

from __future__ import annotations

import ipaddress
import time
from pathlib import Path

from .errors import ApiError
from .model import (
    COMMENT,
    DISABLED,
    DUPLICATE_ENTRY,
    ITEM_COMMANDS,
    PRINT_COMMANDS,
    SETTINGS_COMMANDS,
    Field,
    PathSpec,
    Row,
    UniqueKey,
    boolean,
    read_only,
    text,
)
from .state import Projection, RouterState
from .values import (
    Choice,
    Duration,
    HexInteger,
    Integer,
    InterfaceList,
    IPv4,
    IPv4Interface,
    IPv4List,
    IPv4Network,
    IPv4Ranges,
    MacAddress,
    Reference,
    ReferenceList,
    Size,
    VlanIdRanges,
    format_duration,
    vlan_id_set,
)

INTERFACE = Reference("/interface", what="interface")
BRIDGE = Reference("/interface/bridge", what="bridge")
FRAME_TYPES = Choice(("admit-all", "admit-only-untagged-and-priority-tagged", "admit-only-vlan-tagged"))
PVID = Integer(1, 4094)
MTU = Integer(68, 65535)
MIKROTIK_OUI = "48:A9:8A"
DEFAULT_PORTS = ("ether1", "sfp28-1", "sfp28-2", "sfp28-3", "sfp28-4", "sfp-sfpplus1", "sfp-sfpplus2", "sfp-sfpplus3", "sfp-sfpplus4", "qsfp28-1-1")


def mac_for(item_id: str) -> str:
    number = int(item_id[1:], 16)
    return f"{MIKROTIK_OUI}:{(number >> 16) & 0xFF:02X}:{(number >> 8) & 0xFF:02X}:{number & 0xFF:02X}"


def bool_word(value: bool) -> str:
    return "true" if value else "false"


# --------------------------------------------------------------------------- /interface
def bridge_port_rows(state: RouterState) -> list[Row]:
    return [row for _unused, row in state.stored_items("/interface/bridge/port")]


def is_port(state: RouterState, interface: str) -> bool:
    return any(row.get("interface") == interface for row in bridge_port_rows(state))


def interface_computed(state: RouterState, item_id: str, row: Row) -> Row:
    return {"running": bool_word(row.get("disabled") != "true"), "slave": bool_word(is_port(state, row["name"]))}


def interface_named(state: RouterState, name: str) -> tuple[str, Row] | None:
    for path in ("/interface", "/interface/bridge", "/interface/vlan"):
        for item_id, row in state.stored_items(path):
            if row.get("name") == name:
                return item_id, row
    return None


def project_bridge(state: RouterState, item_id: str, row: Row) -> Row:
    return {
        ".id": item_id,
        "name": row["name"],
        "type": "bridge",
        "mtu": row.get("mtu", "auto"),
        "actual-mtu": "1500",
        "l2mtu": "65535",
        "mac-address": bridge_mac(state, item_id, row),
        "running": bool_word(row.get("disabled") != "true"),
        "slave": "false",
        "disabled": row.get("disabled", "false"),
        "dynamic": "false",
        **({"comment": row["comment"]} if "comment" in row else {}),
    }


def project_vlan(state: RouterState, item_id: str, row: Row) -> Row:
    parent = interface_named(state, row["interface"])
    return {
        ".id": item_id,
        "name": row["name"],
        "type": "vlan",
        "mtu": row.get("mtu", "1500"),
        "actual-mtu": row.get("mtu", "1500"),
        "mac-address": mac_for(parent[0]) if parent else "00:00:00:00:00:00",
        "running": bool_word(row.get("disabled") != "true" and parent is not None),
        "slave": bool_word(is_port(state, row["name"])),
        "disabled": row.get("disabled", "false"),
        "dynamic": "false",
        **({"comment": row["comment"]} if "comment" in row else {}),
    }


INTERFACES = PathSpec(
    "/interface",
    fields=(
        text("name", required=True),
        read_only("default-name"),
        read_only("type"),
        Field("mtu", MTU, "1500"),
        read_only("actual-mtu"),
        read_only("l2mtu"),
        read_only("mac-address"),
        COMMENT,
        DISABLED,
        read_only("running"),
        read_only("slave"),
        read_only("dynamic", "false"),
    ),
    commands=SETTINGS_COMMANDS | {"unset"},
    id_space="interface",
    computed=interface_computed,
)


def ethernet_row(name: str) -> Row:
    return {
        "name": name,
        "default-name": name,
        "type": "ether",
        "mtu": "1500",
        "actual-mtu": "1500",
        "l2mtu": "9796",
        "disabled": "false",
        "dynamic": "false",
    }


# --------------------------------------------------------------------------- /interface/bridge
def bridge_mac(state: RouterState, item_id: str, row: Row) -> str:
    if row.get("auto-mac") == "false" and row.get("admin-mac"):
        return row["admin-mac"]
    return mac_for(item_id)


def bridge_computed(state: RouterState, item_id: str, row: Row) -> Row:
    return {
        "mac-address": bridge_mac(state, item_id, row),
        "actual-mtu": "1500",
        "l2mtu": "65535",
        "running": bool_word(row.get("disabled") != "true"),
    }


BRIDGES = PathSpec(
    "/interface/bridge",
    fields=(
        text("name"),
        Field("mtu", Integer(68, 65535, words=("auto",)), "auto"),
        Field("arp", Choice(("disabled", "enabled", "local-proxy-arp", "proxy-arp", "reply-only")), "enabled"),
        text("arp-timeout", "auto"),
        Field("admin-mac", MacAddress()),
        boolean("auto-mac", "true"),
        text("ageing-time", "5m"),
        COMMENT,
        boolean("dhcp-snooping", "false"),
        DISABLED,
        text("ether-type", "0x8100"),
        boolean("fast-forward", "true"),
        text("forward-delay", "15s"),
        Field("frame-types", FRAME_TYPES, "admit-all"),
        boolean("igmp-snooping", "false"),
        boolean("ingress-filtering", "true"),
        text("max-message-age", "20s"),
        Field("priority", HexInteger(0, 0xFFFF), "0x8000"),
        Field("protocol-mode", Choice(("none", "rstp", "stp", "mstp")), "rstp"),
        Field("pvid", PVID, "1"),
        text("port-cost-mode", "long"),
        text("max-learned-entries", "auto"),
        boolean("forward-reserved-addresses", "false"),
        Field("transmit-hold-count", Integer(1, 10), "6"),
        boolean("vlan-filtering", "false"),
        read_only("mac-address"),
        read_only("actual-mtu"),
        read_only("l2mtu"),
        read_only("running"),
    ),
    auto_name="bridge",
    id_space="interface",
    computed=bridge_computed,
)


# --------------------------------------------------------------------------- /interface/bridge/port
def validate_bridge_port(state: RouterState, item_id: str | None, old: Row, new: Row) -> None:
    if new["interface"] == new["bridge"]:
        # Wording chosen: a bridge cannot be its own port.
        raise ApiError("failure: can not add bridge to itself")


BRIDGE_PORTS = PathSpec(
    "/interface/bridge/port",
    fields=(
        Field("interface", INTERFACE, required=True),
        Field("bridge", BRIDGE, required=True),
        Field("pvid", PVID, "1"),
        Field("frame-types", FRAME_TYPES, "admit-all"),
        boolean("ingress-filtering", "true"),
        COMMENT,
        DISABLED,
        boolean("auto-isolate", "false"),
        boolean("bpdu-guard", "false"),
        boolean("broadcast-flood", "true"),
        Field("edge", Choice(("auto", "no", "no-discover", "yes", "yes-discover")), "auto"),
        boolean("fast-leave", "false"),
        text("horizon", "none"),
        boolean("hw", "true"),
        Field("internal-path-cost", Integer(1, 200000000), "10"),
        Field("learn", Choice(("auto", "no", "yes")), "auto"),
        text("multicast-router", "temporary-query"),
        Field("path-cost", Integer(1, 200000000), "10"),
        Field("point-to-point", Choice(("auto", "no", "yes")), "auto"),
        Field("priority", HexInteger(0, 0xF0, width=2), "0x80"),
        boolean("restricted-role", "false"),
        boolean("restricted-tcn", "false"),
        boolean("tag-stacking", "false"),
        boolean("trusted", "false"),
        boolean("unknown-multicast-flood", "true"),
        boolean("unknown-unicast-flood", "true"),
        read_only("dynamic", "false"),
        read_only("inactive"),
        read_only("status"),
    ),
    name_field="interface",
    validate=validate_bridge_port,
    # Wording seen on RouterOS when the interface is already a port of some bridge.
    unique=(UniqueKey(("interface",), "failure: device already added as bridge port"),),
    computed=lambda state, item_id, row: {
        "inactive": bool_word(row.get("disabled") == "true"),
        "status": "inactive" if row.get("disabled") == "true" else "in-bridge",
    },
)


# --------------------------------------------------------------------------- /interface/bridge/vlan
def pvid_members(state: RouterState, bridge: str) -> dict[int, list[str]]:
    """Who sends untagged frames into which VLAN: the bridge itself (CPU port) and its enabled ports."""
    members: dict[int, list[str]] = {}
    for _unused, row in state.stored_items("/interface/bridge"):
        if row["name"] == bridge:
            members.setdefault(int(row.get("pvid", "1")), []).append(bridge)
    for row in bridge_port_rows(state):
        if row.get("bridge") == bridge and row.get("disabled") != "true":
            members.setdefault(int(row.get("pvid", "1")), []).append(row["interface"])
    return members


def active_members(state: RouterState, bridge: str) -> list[str]:
    return [bridge] + [row["interface"] for row in bridge_port_rows(state) if row.get("bridge") == bridge and row.get("disabled") != "true"]


def bridge_vlan_computed(state: RouterState, item_id: str, row: Row) -> Row:
    bridge = row["bridge"]
    active = active_members(state, bridge)
    vids = vlan_id_set(row["vlan-ids"])
    by_pvid = pvid_members(state, bridge)
    tagged = [name for name in row.get("tagged", "").split(",") if name in active]
    untagged_given = [name for name in row.get("untagged", "").split(",") if name in active]
    # Ports whose PVID falls in this entry are added to it as untagged, as the manual describes.
    untagged_pvid = [name for vid in sorted(vids) for name in by_pvid.get(vid, [])]
    untagged = [name for name in active if name in untagged_given or name in untagged_pvid]
    return {"current-tagged": ",".join(tagged), "current-untagged": ",".join(untagged)}


def refresh_dynamic_bridge_vlans(state: RouterState) -> None:
    """Keep one DYNAMIC entry per PVID in use that no enabled static entry of the bridge covers."""
    table = state.tables["/interface/bridge/vlan"]
    needed: set[tuple[str, int]] = set()
    for _unused, bridge in state.stored_items("/interface/bridge"):
        covered: set[int] = set()
        for row in table.values():
            if row["bridge"] == bridge["name"] and row.get("dynamic") != "true" and row.get("disabled") != "true":
                covered |= vlan_id_set(row["vlan-ids"])
        needed |= {(bridge["name"], vid) for vid in pvid_members(state, bridge["name"]) if vid not in covered}
    present: set[tuple[str, int]] = set()
    for item_id, row in list(table.items()):
        if row.get("dynamic") != "true":
            continue
        key = (row["bridge"], int(row["vlan-ids"]))
        if key in needed and key not in present:
            present.add(key)
        else:
            del table[item_id]
    for bridge_name, vid in sorted(needed - present):
        row = {"bridge": bridge_name, "vlan-ids": str(vid), "tagged": "", "untagged": "", "disabled": "false", "dynamic": "true"}
        state.insert("/interface/bridge/vlan", row)


def validate_bridge_vlan(state: RouterState, item_id: str | None, old: Row, new: Row) -> None:
    vids = vlan_id_set(new["vlan-ids"])
    for other_id, other in state.stored_items("/interface/bridge/vlan"):
        if other_id == item_id or other.get("dynamic") == "true" or other["bridge"] != new["bridge"]:
            continue
        if vids & vlan_id_set(other["vlan-ids"]):
            raise ApiError(DUPLICATE_ENTRY)


BRIDGE_VLANS = PathSpec(
    "/interface/bridge/vlan",
    fields=(
        Field("bridge", BRIDGE, required=True),
        Field("vlan-ids", VlanIdRanges(), required=True),
        Field("tagged", InterfaceList(), ""),
        Field("untagged", InterfaceList(), ""),
        COMMENT,
        DISABLED,
        read_only("dynamic", "false"),
        read_only("current-tagged"),
        read_only("current-untagged"),
    ),
    name_field=None,
    computed=bridge_vlan_computed,
    validate=validate_bridge_vlan,
)


# --------------------------------------------------------------------------- /interface/vlan
VLANS = PathSpec(
    "/interface/vlan",
    fields=(
        text("name"),
        Field("vlan-id", PVID, required=True),
        Field("interface", INTERFACE, required=True),
        Field("mtu", MTU, "1500"),
        Field("arp", Choice(("disabled", "enabled", "local-proxy-arp", "proxy-arp", "reply-only")), "enabled"),
        text("arp-timeout", "auto"),
        COMMENT,
        DISABLED,
        text("loop-protect", "default"),
        text("loop-protect-disable-time", "5m"),
        text("loop-protect-send-interval", "5s"),
        boolean("use-service-tag", "false"),
        read_only("l2mtu"),
        read_only("mac-address"),
        read_only("running"),
    ),
    auto_name="vlan",
    id_space="interface",
    unique=(UniqueKey(("interface", "vlan-id")),),
    computed=lambda state, item_id, row: (
        {key: value for key, value in project_vlan(state, item_id, row).items() if key in {"mac-address", "running"}} | {"l2mtu": "65531"}
    ),
)


# --------------------------------------------------------------------------- /ip/address
def address_computed(state: RouterState, item_id: str, row: Row) -> Row:
    interface = interface_named(state, row["interface"])
    network = ipaddress.IPv4Interface(row["address"]).network.network_address
    return {
        "network": str(network),
        "actual-interface": row["interface"],
        "invalid": bool_word(interface is None or interface[1].get("disabled") == "true"),
    }


IP_ADDRESSES = PathSpec(
    "/ip/address",
    fields=(
        Field("address", IPv4Interface(), required=True),
        read_only("network"),
        Field("interface", INTERFACE, required=True),
        read_only("actual-interface"),
        read_only("invalid"),
        read_only("dynamic", "false"),
        DISABLED,
        COMMENT,
    ),
    name_field=None,
    # Wording seen on RouterOS for the same address twice on one interface.
    unique=(
        UniqueKey(
            ("address", "interface"),
            "failure: already have such address",
            normalise=lambda row: (row["address"].split("/")[0], row["interface"]),
        ),
    ),
    computed=address_computed,
)


# --------------------------------------------------------------------------- /ip/pool
POOLS = PathSpec(
    "/ip/pool",
    fields=(
        text("name"),
        Field("ranges", IPv4Ranges(), required=True),
        Field("next-pool", Reference("/ip/pool", specials=("none",), what="next-pool"), "none"),
        COMMENT,
    ),
    auto_name="pool",
    unique=(UniqueKey(("name",)),),
)


# --------------------------------------------------------------------------- /ip/dhcp-server
DHCP_SERVERS = PathSpec(
    "/ip/dhcp-server",
    fields=(
        text("name"),
        Field("interface", INTERFACE, required=True),
        Field("address-pool", Reference("/ip/pool", specials=("static-only",), what="address-pool"), "static-only"),
        # RouterOS 7 manual (DHCP page): lease-time default 30m.
        Field("lease-time", Duration(), "30m"),
        Field("authoritative", Choice(("yes", "no", "after-2sec-delay", "after-10sec-delay")), "yes"),
        Field("bootp-support", Choice(("none", "static", "dynamic")), "static"),
        Field("bootp-lease-time", Duration(specials=("forever", "lease-time")), "forever"),
        boolean("add-arp", "false"),
        boolean("always-broadcast", "false"),
        boolean("conflict-detection", "true"),
        text("lease-script", ""),
        Field("relay", IPv4(), "0.0.0.0"),
        Field("server-address", IPv4(), "0.0.0.0"),
        Field("use-radius", Choice(("no", "yes", "accounting")), "no"),
        text("delay-threshold", "none"),
        Field("dhcp-option-set", Reference("/ip/dhcp-server/option/sets", specials=("none",), what="dhcp-option-set"), "none"),
        COMMENT,
        DISABLED,
        read_only("dynamic", "false"),
        read_only("invalid"),
    ),
    auto_name="dhcp",
    unique=(UniqueKey(("name",)),),
    computed=lambda state, item_id, row: {"invalid": bool_word(interface_named(state, row["interface"]) is None)},
)

DHCP_NETWORKS = PathSpec(
    "/ip/dhcp-server/network",
    fields=(
        Field("address", IPv4Network(), required=True),
        Field("gateway", IPv4List(), ""),
        Field("netmask", Integer(0, 32)),
        Field("dns-server", IPv4List(), ""),
        text("domain", ""),
        Field("next-server", IPv4()),
        text("boot-file-name", ""),
        Field("dhcp-option", ReferenceList("/ip/dhcp-server/option", what="dhcp-option"), ""),
        Field("dhcp-option-set", Reference("/ip/dhcp-server/option/sets", specials=("",), what="dhcp-option-set"), ""),
        Field("ntp-server", IPv4List(), ""),
        Field("wins-server", IPv4List(), ""),
        text("caps-manager", ""),
        boolean("dns-none", "false"),
        COMMENT,
        read_only("dynamic", "false"),
    ),
    name_field=None,
    unique=(UniqueKey(("address",)),),
)


def option_raw_value(value: str) -> str:
    """``'text'`` and ``s'text'`` are strings, ``0x..`` is hex; RouterOS shows the bytes as hex in raw-value."""
    if value.startswith("0x"):
        return value[2:].lower()
    for prefix in ("s'", "'"):
        if value.startswith(prefix) and value.endswith("'") and len(value) > len(prefix):
            return value[len(prefix) : -1].encode().hex()
    if value.isdigit():
        return f"{int(value):08x}"
    return ""


DHCP_OPTIONS = PathSpec(
    "/ip/dhcp-server/option",
    fields=(
        text("name", required=True),
        Field("code", Integer(1, 254), required=True),
        text("value", ""),
        boolean("force", "false"),
        COMMENT,
        read_only("raw-value"),
    ),
    unique=(UniqueKey(("name",)),),
    computed=lambda state, item_id, row: {"raw-value": option_raw_value(row.get("value", ""))},
)

DHCP_OPTION_SETS = PathSpec(
    "/ip/dhcp-server/option/sets",
    fields=(text("name", required=True), Field("options", ReferenceList("/ip/dhcp-server/option", what="options"), ""), COMMENT),
    unique=(UniqueKey(("name",)),),
)

DHCP_LEASES = PathSpec(
    "/ip/dhcp-server/lease",
    fields=(
        Field("address", IPv4(), required=True),
        Field("mac-address", MacAddress()),
        text("client-id"),
        Field("server", Reference("/ip/dhcp-server", specials=("all",), what="server"), "all"),
        Field("lease-time", Duration(), "0s"),
        Field("dhcp-option", ReferenceList("/ip/dhcp-server/option", what="dhcp-option"), ""),
        text("address-lists", ""),
        boolean("block-access", "false"),
        boolean("always-broadcast", "false"),
        COMMENT,
        DISABLED,
        read_only("dynamic", "false"),
        read_only("status"),
        read_only("blocked"),
        read_only("radius", "false"),
    ),
    name_field=None,
    computed=lambda state, item_id, row: {"status": "waiting", "blocked": row.get("block-access", "false")},
)


# --------------------------------------------------------------------------- /ip/tftp
TFTP_RULES = PathSpec(
    "/ip/tftp",
    fields=(
        Field("ip-addresses", IPv4List(allow_networks=True), ""),
        text("req-filename", ""),
        text("real-filename", ""),
        boolean("allow", "true"),
        boolean("read-only", "true"),
        boolean("allow-rollover", "false"),
        boolean("allow-overwrite", "false"),
        text("reading-window-size", "none"),
        COMMENT,
        DISABLED,
        read_only("hits", "0"),
        read_only("dynamic", "false"),
    ),
    commands=ITEM_COMMANDS | {"move"},  # rules are matched in order
    name_field=None,
)

TFTP_SETTINGS = PathSpec(
    "/ip/tftp/settings",
    fields=(Field("max-block-size", Integer(512, 65464), "4096", unsettable=False),),
    commands=SETTINGS_COMMANDS,
    name_field=None,
    singleton=True,
)


# --------------------------------------------------------------------------- /system
IDENTITY = PathSpec(
    "/system/identity",
    fields=(text("name", "MikroTik", unsettable=False),),
    commands=SETTINGS_COMMANDS,
    name_field=None,
    singleton=True,
)


def architecture_of(board: str) -> str:
    return "x86_64" if board.upper().startswith("CHR") else "arm64"


def release_channel(version: str) -> str:
    return "testing" if any(tag in version for tag in ("beta", "rc")) else "stable"


def resource_computed(state: RouterState, item_id: str, row: Row) -> Row:
    return {
        "uptime": format_duration(int(time.monotonic() - state.started)),
        "version": f"{state.version} ({release_channel(state.version)})",
        "build-time": "2024-09-20 13:00:27",
        "factory-software": state.version,
        "free-memory": str(30 * 1024**3),
        "total-memory": str(32 * 1024**3),
        "cpu": architecture_of(state.board).upper().replace("_", "-"),
        "cpu-count": "4" if architecture_of(state.board) == "x86_64" else "16",
        "cpu-frequency": "2000",
        "cpu-load": "1",
        "free-hdd-space": str(100 * 1024**3),
        "total-hdd-space": str(128 * 1024**3),
        "write-sect-since-reboot": "100",
        "write-sect-total": "100",
        "bad-blocks": "0",
        "architecture-name": architecture_of(state.board),
        "board-name": state.board,
        "platform": "MikroTik",
    }


RESOURCE = PathSpec(
    "/system/resource",
    fields=tuple(
        read_only(name)
        for name in (
            "uptime",
            "version",
            "build-time",
            "factory-software",
            "free-memory",
            "total-memory",
            "cpu",
            "cpu-count",
            "cpu-frequency",
            "cpu-load",
            "free-hdd-space",
            "total-hdd-space",
            "write-sect-since-reboot",
            "write-sect-total",
            "bad-blocks",
            "architecture-name",
            "board-name",
            "platform",
        )
    ),
    commands=PRINT_COMMANDS,
    name_field=None,
    singleton=True,
    computed=resource_computed,
)

PACKAGES = PathSpec(
    "/system/package",
    fields=(read_only("name"), read_only("version"), read_only("build-time"), read_only("scheduled", ""), read_only("disabled", "false")),
    commands=PRINT_COMMANDS,
    computed=lambda state, item_id, row: {"version": state.version},
)


# --------------------------------------------------------------------------- /file
def file_type(name: str, row: Row) -> str:
    """RouterOS shows a file's type from its extension (".img file"); mount points are "disk"."""
    if row.get("type") in {"directory", "disk"}:
        return row["type"]
    extension = name.rsplit("/", 1)[-1].rpartition(".")[2] if "." in name.rsplit("/", 1)[-1] else ""
    return f".{extension} file" if extension else "file"


def disk_using(state: RouterState, file_name: str) -> str | None:
    for _unused, disk in state.stored_items("/disk"):
        if disk.get("type") == "file" and disk.get("file-path", "").lstrip("/") == file_name:
            return disk.get("slot")
    return None


def refuse_removing_a_file_in_use(state: RouterState, item_id: str, row: Row) -> None:
    if disk_using(state, row["name"]) is not None:
        raise ApiError("failure: file is in use")  # wording chosen: the image of a disk cannot go while the disk exists


FILES = PathSpec(
    "/file",
    fields=(
        text("name", required=True),
        Field("type", Choice(("file", "directory")), "file"),
        read_only("size", "0"),
        text("contents"),
        read_only("creation-time", "2024-09-20 13:00:27"),
        read_only("last-modified", "2024-09-20 13:00:27"),
    ),
    unique=(UniqueKey(("name",)),),
    before_remove=refuse_removing_a_file_in_use,
    computed=lambda state, item_id, row: {
        "type": file_type(row["name"], row),
        **({"size": str(len(row["contents"].encode()))} if "contents" in row else {}),
    },
)


# --------------------------------------------------------------------------- /disk (ROSE storage)
def file_named(state: RouterState, name: str) -> Row | None:
    return next((row for _unused, row in state.stored_items("/file") if row["name"] == name.lstrip("/")), None)


def validate_disk(state: RouterState, item_id: str | None, old: Row, new: Row) -> None:
    if item_id is not None and new.get("type") != old.get("type"):
        raise ApiError("unknown parameter type")
    if new.get("type") == "file":
        if not new.get("file-path"):
            raise ApiError("failure: file-path not specified")  # wording chosen, as for other required arguments
        existing = file_named(state, new["file-path"])
        if "file-size" not in new:
            if existing is None:
                raise ApiError("failure: file-size not specified")  # a new image needs a size
            new["file-size"] = existing["size"]  # an existing image is used as it is
    if item_id is not None and "file-size" in old and int(new["file-size"]) < int(old["file-size"]):
        # Wording chosen: RouterOS grows file-backed disks in place; shrinking would cut the image, so it is refused.
        raise ApiError("failure: file-size can not be decreased")


def refuse_removing_hardware(state: RouterState, item_id: str, row: Row) -> None:
    if row.get("type") == "hardware":
        raise ApiError("failure: can not remove hardware disk")  # wording chosen


def refresh_disk_files(state: RouterState) -> None:
    """A file disk creates its image under /file; growing the disk grows the file; removing the disk keeps it."""
    for _unused, disk in state.stored_items("/disk"):
        if disk.get("type") != "file":
            continue
        image = file_named(state, disk["file-path"])
        if image is None:
            state.insert("/file", {"name": disk["file-path"].lstrip("/"), "type": "file", "size": disk["file-size"]})
        elif int(image["size"]) < int(disk["file-size"]):
            image["size"] = disk["file-size"]


DISKS = PathSpec(
    "/disk",
    fields=(
        text("slot"),
        # "hardware" is what the router shows for physical drives; it cannot be added.
        Field("type", Choice(("file", "nvme-tcp", "iscsi", "nfs", "smb", "tmpfs", "raid", "partition")), required=True),
        text("parent"),
        text("file-path"),
        Field("file-size", Size()),
        Field("file-offset", Size(), "0"),
        boolean("nvme-tcp-export", "false"),
        Field("nvme-tcp-server-port", Integer(1, 65535), "4420"),
        text("nvme-tcp-server-nqn", ""),
        text("nvme-tcp-server-allow-host-name", ""),
        boolean("iscsi-export", "false"),
        Field("iscsi-server-port", Integer(1, 65535), "3260"),
        boolean("nfs-sharing", "false"),
        boolean("smb-sharing", "false"),
        boolean("media-sharing", "false"),
        boolean("swap", "false"),
        boolean("mount-filesystem", "false"),
        boolean("mount-read-only", "false"),
        boolean("compress", "false"),
        text("raid-master", "none"),
        COMMENT,
        read_only("slot-default", ""),
        read_only("model"),
        read_only("serial"),
        read_only("size"),
        read_only("sector-size", "512"),
        read_only("fs", "-"),
    ),
    name_field="slot",
    auto_name="file",
    unique=(UniqueKey(("slot",)),),
    validate=validate_disk,
    before_remove=refuse_removing_hardware,
    computed=lambda state, item_id, row: {"model": row.get("file-path", ""), "size": row.get("file-size", "0")} if row.get("type") == "file" else {},
)


def hardware_disk(state: RouterState, slot: str, number: int) -> Row:
    given = {"slot": slot, "type": "hardware", "mount-filesystem": "true"}
    row = state.with_defaults(DISKS, given)
    row.update({"model": "SIMULATED NVMe SSD 3.84TB", "serial": f"SIM{number:08d}", "size": str(3840755982528), "fs": "ext4"})
    return row


ALL_PATHS: tuple[PathSpec, ...] = (
    INTERFACES,
    BRIDGES,
    BRIDGE_PORTS,
    BRIDGE_VLANS,
    VLANS,
    IP_ADDRESSES,
    POOLS,
    DHCP_SERVERS,
    DHCP_NETWORKS,
    DHCP_OPTIONS,
    DHCP_OPTION_SETS,
    DHCP_LEASES,
    TFTP_RULES,
    TFTP_SETTINGS,
    IDENTITY,
    RESOURCE,
    PACKAGES,
    FILES,
    DISKS,
)
DEFAULT_DISKS = ("nvme1", "nvme2")


def build_state(
    *, version: str, board: str, ports: tuple[str, ...] = DEFAULT_PORTS, disks: tuple[str, ...] = DEFAULT_DISKS, state_file: Path | None = None
) -> RouterState:
    """A router as shipped: ethernet ports, settings menus, installed packages (or the saved state)."""
    state = RouterState(ALL_PATHS, version=version, board=board, state_file=state_file)
    state.interface_family = {"/interface", "/interface/bridge", "/interface/vlan"}
    state.projections["/interface"] = [Projection("/interface/bridge", project_bridge), Projection("/interface/vlan", project_vlan)]
    state.refreshers += [refresh_dynamic_bridge_vlans, refresh_disk_files]
    if not state.load():
        for port in ports:
            item_id = state.insert("/interface", ethernet_row(port))
            state.tables["/interface"][item_id]["mac-address"] = mac_for(item_id)
        for package in ("routeros", "rose-storage", "container"):
            state.insert("/system/package", {"name": package, "build-time": "2024-09-20 13:00:27", "scheduled": "", "disabled": "false"})
        for number, slot in enumerate(disks, start=1):
            state.insert("/disk", hardware_disk(state, slot, number))
            state.insert("/file", {"name": slot, "type": "disk", "size": "0"})
        state.insert("/ip/tftp/settings", {"max-block-size": "4096"})
        state.insert("/system/identity", {"name": "MikroTik"})
        state.insert("/system/resource", {})
        state.write(lambda: None)
    return state
