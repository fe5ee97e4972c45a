# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Domain: one bridge with VLAN filtering (routeros_vlan), planned so that management is never cut."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.engine import (
    Outcome,
    PathPlan,
    Reader,
    Row,
    drop_none,
    owned_rows,
    plan_path,
    predict,
)
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.errors import InputError
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.kinds import (
    FRAME_TYPES,
    INTERFACE_ADDRESS,
    NAMES,
    VLAN_ID,
    VLAN_IDS,
    IntKind,
    format_vlan_ids,
    optional_input,
    parse_input,
    parse_vlan_ids,
)
from ansible_collections.diskless.datacenter.plugins.module_utils._routeros.paths import (
    BRIDGE,
    BRIDGE_PORT,
    BRIDGE_VLAN,
    IP_ADDRESS,
    VLAN_INTERFACE,
    require_interface,
)


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
                "pvid": optional_input(VLAN_ID, "bridge.pvid", bridge_params.get("pvid")),
                "frame-types": optional_input(FRAME_TYPES, "bridge.frame_types", bridge_params.get("frame_types")),
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
        management_vlan = optional_input(VLAN_ID, "management_vlan", params.get("management_vlan"))
        management_address = optional_input(INTERFACE_ADDRESS, "management_address", params.get("management_address"))
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


def _port_entry(bridge: str, index: int, port: Mapping[str, Any]) -> dict[str, Any]:
    where = f"ports[{index}]"
    return drop_none(
        {
            "interface": str(port["interface"]),
            "bridge": bridge,
            "pvid": optional_input(VLAN_ID, f"{where}.pvid", port.get("pvid")),
            "frame-types": optional_input(FRAME_TYPES, f"{where}.frame_types", port.get("frame_types")),
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
            "mtu": optional_input(IntKind(64, 65535), f"{where}.mtu", item.get("mtu")),
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
