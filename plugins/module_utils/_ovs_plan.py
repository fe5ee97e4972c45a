# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private Open vSwitch layer, planning half: validate the input, plan ONE transaction.

Desired state is turned into the complete state expected afterwards (`desired_bridge`); the
commands are the difference between the current and that state (`bridge_transaction`). Check
mode reports the expected state without running anything. Reading and applying is `_ovs.py`.

Map columns (other_config, external_ids, options) are merged: listed keys are set, keys given the
value None are removed, keys not listed are left alone (so keys written by the OS network
configuration survive adoption).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.diskless.datacenter.plugins.module_utils._ovs import (
    BridgeState,
    GlobalState,
    OvsInputError,
    PortState,
    SwitchState,
    Transaction,
    new_bridge,
    new_port,
    quoted,
    same_type,
)

VLAN_MODES = ("trunk", "access", "native-tagged", "native-untagged")
NATIVE_VLAN_MODES = ("native-tagged", "native-untagged")
VLAN_ID_MIN = 0
VLAN_ID_MAX = 4095

# Open_vSwitch other_config keys that ovs-vswitchd reads only when it starts
# (ovs-vswitchd.conf.db(5): "Changing this value requires restarting the daemon").
# dpdk-lcore-mask and dpdk-alloc-mem are DPDK EAL arguments, read once when DPDK initialises.
RESTART_KEYS = frozenset(
    {
        "hw-offload",
        "n-offload-threads",
        "offload-rebalance",
        "userspace-tso-enable",
        "dpdk-init",
        "dpdk-lcore-mask",
        "dpdk-alloc-mem",
        "dpdk-socket-mem",
        "dpdk-socket-limit",
        "dpdk-hugepage-dir",
        "dpdk-extra",
        "vhost-sock-dir",
        "vhost-iommu-support",
        "vhost-postcopy-support",
    }
)
# These need a restart only once DPDK is initialised.
DPDK_RESTART_KEYS = frozenset({"per-port-memory", "shared-mempool-config"})


# --------------------------------------------------------------------------- desired state and validation


def ovs_string(where: str, value: Any) -> str | None:
    """A map value as OVSDB stores it; YAML booleans become "true"/"false" (hw-offload: true)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise OvsInputError(f"{where}: {value!r} is not a string, number or boolean")


def map_changes(where: str, raw: Mapping[str, Any] | None) -> dict[str, str | None]:
    """Desired map keys: value None removes the key."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise OvsInputError(f"{where}: {raw!r} is not a dictionary")
    changes: dict[str, str | None] = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not key:
            raise OvsInputError(f"{where}: key {key!r} must be a non-empty string")
        changes[key] = ovs_string(f"{where}.{key}", value)
    return changes


def merged_map(current: Mapping[str, str], changes: Mapping[str, str | None]) -> dict[str, str]:
    result = dict(current)
    for key, value in changes.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def vlan_id(where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise OvsInputError(f"{where}: {value!r} is not an integer VLAN ID")
    if not VLAN_ID_MIN <= value <= VLAN_ID_MAX:
        raise OvsInputError(f"{where}: {value} is outside the VLAN range {VLAN_ID_MIN}-{VLAN_ID_MAX}")
    return value


def check_vlan_combination(where: str, tag: int | None, trunks: Sequence[int] | None, vlan_mode: str | None) -> None:
    """Reject what ovs-vswitchd would silently ignore or misread (see vswitch.xml, Port VLAN columns)."""
    if vlan_mode == "access":
        if trunks:
            raise OvsInputError(
                f"{where}: vlan_mode access carries only the VLAN in tag, so trunks {list(trunks)} cannot apply; use native-untagged or native-tagged"
            )
        if tag is None:
            raise OvsInputError(f"{where}: vlan_mode access needs a tag (the port's VLAN)")
    elif vlan_mode in NATIVE_VLAN_MODES:
        if tag is None:
            raise OvsInputError(f"{where}: vlan_mode {vlan_mode} needs a tag (the native VLAN)")
    elif vlan_mode == "trunk":
        if tag is not None:
            raise OvsInputError(f"{where}: vlan_mode trunk takes no tag (got tag {tag}); use native-untagged or native-tagged for a native VLAN")
    elif vlan_mode is None:
        if tag is not None and trunks:
            raise OvsInputError(
                f"{where}: tag {tag} with trunks {list(trunks)} needs vlan_mode native-untagged or native-tagged;"
                " without vlan_mode Open vSwitch makes the port an access port and ignores trunks"
            )
    else:
        raise OvsInputError(f"{where}: vlan_mode {vlan_mode!r} is not one of {', '.join(VLAN_MODES)}")


@dataclass
class PortSpec:
    name: str
    type: str | None = None
    tag: int | None = None
    trunks: list[int] | None = None
    vlan_mode: str | None = None
    options: dict[str, str | None] = field(default_factory=dict)
    external_ids: dict[str, str | None] = field(default_factory=dict)

    @property
    def manages_vlan(self) -> bool:
        """tag, trunks and vlan_mode describe the VLAN setup together: naming one manages all three."""
        return self.tag is not None or self.trunks is not None or self.vlan_mode is not None


@dataclass
class BridgeSpec:
    name: str
    datapath_type: str | None = None
    fail_mode: str | None = None
    other_config: dict[str, str | None] = field(default_factory=dict)
    external_ids: dict[str, str | None] = field(default_factory=dict)
    ports: list[PortSpec] | None = None
    purge_ports: bool = False


def port_spec(index: int, raw: Mapping[str, Any]) -> PortSpec:
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise OvsInputError(f"ports[{index}].name: {name!r} is not a port name")
    where = f"ports[{index}] ({name})"
    tag = raw.get("tag")
    if tag is not None:
        tag = vlan_id(f"{where}.tag", tag)
    trunks = raw.get("trunks")
    if trunks is not None:
        if isinstance(trunks, (str, bytes)) or not isinstance(trunks, Sequence):
            raise OvsInputError(f"{where}.trunks: {trunks!r} is not a list of VLAN IDs")
        trunks = sorted({vlan_id(f"{where}.trunks", vlan) for vlan in trunks})
    vlan_mode = raw.get("vlan_mode")
    check_vlan_combination(where, tag, trunks, vlan_mode)
    interface_type = raw.get("type")
    if interface_type is not None and (not isinstance(interface_type, str) or not interface_type.strip()):
        raise OvsInputError(f"{where}.type: {interface_type!r} is not an interface type")
    return PortSpec(
        name=name,
        type=interface_type,
        tag=tag,
        trunks=trunks,
        vlan_mode=vlan_mode,
        options=map_changes(f"{where}.options", raw.get("options")),
        external_ids=map_changes(f"{where}.external_ids", raw.get("external_ids")),
    )


def bridge_spec(params: Mapping[str, Any]) -> BridgeSpec:
    """Validate module parameters; every error names the field and the value."""
    name = params.get("name")
    if not isinstance(name, str) or not name.strip():
        raise OvsInputError(f"name: {name!r} is not a bridge name")
    raw_ports = params.get("ports")
    ports: list[PortSpec] | None = None
    if raw_ports is not None:
        ports = [port_spec(index, raw) for index, raw in enumerate(raw_ports)]
        seen: set[str] = set()
        for index, port in enumerate(ports):
            if port.name in seen:
                raise OvsInputError(f"ports[{index}].name: {port.name} is listed twice")
            seen.add(port.name)
    return BridgeSpec(
        name=name,
        datapath_type=params.get("datapath_type"),
        fail_mode=params.get("fail_mode"),
        other_config=map_changes("other_config", params.get("other_config")),
        external_ids=map_changes("external_ids", params.get("external_ids")),
        ports=ports,
        purge_ports=bool(params.get("purge_ports")),
    )


def desired_port(spec: PortSpec, current: PortState | None, bridge: str, where: str) -> PortState:
    port = copy.deepcopy(current) if current is not None else new_port(spec.name)
    if spec.manages_vlan:
        port.tag = spec.tag
        port.trunks = list(spec.trunks or [])
        port.vlan_mode = spec.vlan_mode
    interface = port.own_interface()
    touches_interface = spec.type is not None or bool(spec.options) or bool(spec.external_ids)
    if interface is None:
        if touches_interface:
            members = ", ".join(sorted(member.name for member in port.interfaces))
            raise OvsInputError(f"{where}: port {spec.name} is a bond of {members}; type, options and external_ids apply to single-interface ports only")
        return port
    if spec.type is not None and not same_type(spec.type, interface.type):
        if spec.name == bridge:
            raise OvsInputError(f"{where}.type: {spec.type} cannot apply to the bridge's own internal port {spec.name}")
        interface.type = spec.type
    interface.options = merged_map(interface.options, spec.options)
    interface.external_ids = merged_map(interface.external_ids, spec.external_ids)
    if interface.type == "patch" and "peer" not in interface.options:
        raise OvsInputError(f"{where}.options: a patch port needs options.peer (the name of the patch port on the other bridge)")
    return port


def desired_bridge(spec: BridgeSpec, switch: SwitchState) -> BridgeState:
    """The whole bridge as it must look afterwards."""
    current = switch.bridges.get(spec.name)
    bridge = copy.deepcopy(current) if current is not None else new_bridge(spec.name)
    if spec.datapath_type is not None and not same_type(spec.datapath_type, bridge.datapath_type):
        bridge.datapath_type = spec.datapath_type
    if spec.fail_mode is not None:
        bridge.fail_mode = spec.fail_mode
    bridge.other_config = merged_map(bridge.other_config, spec.other_config)
    bridge.external_ids = merged_map(bridge.external_ids, spec.external_ids)
    if spec.ports is None:
        return bridge
    listed = {port.name for port in spec.ports}
    kept = {name: port for name, port in bridge.ports.items() if name in listed or name == spec.name or not spec.purge_ports}
    for index, port in enumerate(spec.ports):
        where = f"ports[{index}] ({port.name})"
        owner = switch.bridge_of_port(port.name)
        if owner not in (None, spec.name) and port.name == owner:
            raise OvsInputError(f"{where}: {port.name} is the own internal port of bridge {owner} and cannot move")
        kept[port.name] = desired_port(port, kept.get(port.name), spec.name, where)
    bridge.ports = kept
    return bridge


# --------------------------------------------------------------------------- planning


def map_commands(table: str, record: str, column: str, before: Mapping[str, str], after: Mapping[str, str]) -> list[list[str]]:
    removed = [quoted(key) for key in sorted(before) if key not in after]
    assigned = [f"{column}:{quoted(key)}={quoted(value)}" for key, value in sorted(after.items()) if before.get(key) != value]
    commands: list[list[str]] = []
    if removed:
        commands.append(["remove", table, record, column, *removed])
    if assigned:
        commands.append(["set", table, record, *assigned])
    return commands


def column_commands(table: str, record: str, changes: Mapping[str, str | None]) -> list[list[str]]:
    """`changes` maps changed columns to their ovs-vsctl value; None clears the column."""
    assigned = [f"{column}={value}" for column, value in changes.items() if value is not None]
    cleared = [column for column, value in changes.items() if value is None]
    commands: list[list[str]] = []
    if cleared:
        commands.append(["clear", table, record, *cleared])
    if assigned:
        commands.append(["set", table, record, *assigned])
    return commands


def bridge_column_commands(before: BridgeState, after: BridgeState) -> list[list[str]]:
    changes: dict[str, str | None] = {}
    if not same_type(before.datapath_type, after.datapath_type):
        changes["datapath_type"] = quoted(after.datapath_type)
    if before.fail_mode != after.fail_mode:
        changes["fail_mode"] = after.fail_mode
    commands = column_commands("Bridge", after.name, changes)
    commands += map_commands("Bridge", after.name, "other_config", before.other_config, after.other_config)
    commands += map_commands("Bridge", after.name, "external_ids", before.external_ids, after.external_ids)
    return commands


def port_column_commands(before: PortState, after: PortState) -> list[list[str]]:
    changes: dict[str, str | None] = {}
    if before.tag != after.tag:
        changes["tag"] = str(after.tag) if after.tag is not None else None
    if before.trunks != after.trunks:
        changes["trunks"] = ",".join(str(vlan) for vlan in after.trunks) if after.trunks else None
    if before.vlan_mode != after.vlan_mode:
        changes["vlan_mode"] = after.vlan_mode
    commands = column_commands("Port", after.name, changes)
    old_interface, new_interface = before.own_interface(), after.own_interface()
    if old_interface is None or new_interface is None:
        return commands
    if not same_type(old_interface.type, new_interface.type):
        commands += column_commands("Interface", new_interface.name, {"type": quoted(new_interface.type)})
    commands += map_commands("Interface", new_interface.name, "options", old_interface.options, new_interface.options)
    commands += map_commands("Interface", new_interface.name, "external_ids", old_interface.external_ids, new_interface.external_ids)
    return commands


def bridge_transaction(before: BridgeState | None, after: BridgeState, switch: SwitchState) -> Transaction:
    """Commands turning `before` (None: no such bridge) into `after`; empty when nothing differs."""
    transaction = Transaction()
    baseline = before
    if baseline is None:
        transaction.add("--may-exist", "add-br", after.name)
        baseline = new_bridge(after.name)
    transaction.extend(bridge_column_commands(baseline, after))
    for name in sorted(set(baseline.ports) - set(after.ports)):
        transaction.add("--if-exists", "del-port", after.name, name)
    for name in sorted(after.ports):
        old = baseline.ports.get(name)
        if old is None:
            owner = switch.bridge_of_port(name)
            if owner is not None and owner != after.name:
                transaction.add("--if-exists", "del-port", owner, name)
            transaction.add("--may-exist", "add-port", after.name, name)
            old = new_port(name)
        transaction.extend(port_column_commands(old, after.ports[name]))
    return transaction


def bridge_removal(before: BridgeState | None, name: str) -> Transaction:
    transaction = Transaction()
    if before is not None:
        transaction.add("--if-exists", "del-br", name)
    return transaction


def desired_global(current: GlobalState, other_config: Mapping[str, Any] | None, external_ids: Mapping[str, Any] | None) -> GlobalState:
    return GlobalState(
        other_config=merged_map(current.other_config, map_changes("other_config", other_config)),
        external_ids=merged_map(current.external_ids, map_changes("external_ids", external_ids)),
    )


def global_transaction(before: GlobalState, after: GlobalState) -> Transaction:
    transaction = Transaction()
    transaction.extend(map_commands("Open_vSwitch", ".", "other_config", before.other_config, after.other_config))
    transaction.extend(map_commands("Open_vSwitch", ".", "external_ids", before.external_ids, after.external_ids))
    if transaction.commands and not before.exists:
        transaction.commands.insert(0, ["init"])
    return transaction


def restart_keys(before: GlobalState, after: GlobalState) -> list[str]:
    """Changed other_config keys that ovs-vswitchd applies only when it starts."""
    keys = set(RESTART_KEYS)
    if before.other_config.get("dpdk-init") in ("true", "try"):
        keys |= DPDK_RESTART_KEYS
    changed = {key for key in set(before.other_config) | set(after.other_config) if before.other_config.get(key) != after.other_config.get(key)}
    return sorted(changed & keys)
