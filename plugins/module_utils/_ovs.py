# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private Open vSwitch layer: read OVSDB rows with ovs-vsctl, plan ONE transaction, apply it, read back.

Reading uses `ovs-vsctl --format=json --data=json list TABLE` (several `list` commands in one call, so
they see one consistent snapshot). Writing builds a single `ovs-vsctl A -- B -- C` transaction, so a
bridge and all its ports change together or not at all.

Desired state is turned into the complete state expected afterwards (`desired_bridge`); the
commands are the difference between the current and that state (`bridge_transaction`). Check
mode reports the expected state without running anything.

Map columns (other_config, external_ids, options) are merged: listed keys are set, keys given the
value None are removed, keys not listed are left alone (so keys written by the OS network
configuration survive adoption).
"""

from __future__ import annotations

import copy
import json
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    CommandRunner = Callable[[list[str]], tuple[int, str, str]]
    Row = dict[str, Any]

VLAN_MODES = ("trunk", "access", "native-tagged", "native-untagged")
NATIVE_VLAN_MODES = ("native-tagged", "native-untagged")
VLAN_ID_MIN = 0
VLAN_ID_MAX = 4095
DEFAULT_TIMEOUT = 30

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

BRIDGE_COLUMNS = ("_uuid", "name", "datapath_type", "fail_mode", "other_config", "external_ids", "ports")
PORT_COLUMNS = ("_uuid", "name", "tag", "trunks", "vlan_mode", "interfaces")
INTERFACE_COLUMNS = ("_uuid", "name", "type", "options", "external_ids", "error")
GLOBAL_COLUMNS = ("_uuid", "other_config", "external_ids")


class OvsError(Exception):
    """ovs-vsctl failed, or answered with something this layer cannot read."""


class OvsInputError(ValueError):
    """A desired value that is rejected before anything is changed."""


class ModuleLike(Protocol):
    """The part of AnsibleModule this layer uses."""

    def run_command(self, args: list[str]) -> tuple[int, str, str]: ...

    def get_bin_path(self, arg: str, required: bool = False) -> str | None: ...


# --------------------------------------------------------------------------- OVSDB JSON


def decode_datum(value: Any) -> Any:
    """RFC 7047 <value> to Python: ["set", [..]] -> list, ["map", [[k, v]..]] -> dict, ["uuid", u] -> u."""
    if not isinstance(value, list):
        return value
    if len(value) != 2 or not isinstance(value[0], str):
        raise OvsError(f"unexpected OVSDB JSON value {value!r}")
    kind, payload = value
    if kind == "set":
        return [decode_datum(item) for item in payload]
    if kind == "map":
        return {decode_datum(key): decode_datum(item) for key, item in payload}
    if kind in ("uuid", "named-uuid"):
        return payload
    raise OvsError(f"unexpected OVSDB JSON value {value!r}")


def optional_atom(datum: Any) -> Any:
    """A column with at most one value (tag, vlan_mode, fail_mode): empty set -> None."""
    if not isinstance(datum, list):
        return datum
    if len(datum) > 1:
        raise OvsError(f"expected at most one value, got {datum!r}")
    return datum[0] if datum else None


def atom_list(datum: Any) -> list[Any]:
    """A set column: OVSDB prints a one-element set as the bare element."""
    return list(datum) if isinstance(datum, list) else [datum]


def string_map(datum: Any) -> dict[str, str]:
    if not isinstance(datum, dict):
        raise OvsError(f"expected an OVSDB map, got {datum!r}")
    return {str(key): str(value) for key, value in datum.items()}


def parse_tables(stdout: str, expected: int) -> list[list[Row]]:
    """Output of `ovs-vsctl --format=json --data=json list A -- list B`: one JSON table per line."""
    tables: list[list[Row]] = []
    for line in stdout.splitlines():
        if not line.strip():
            continue
        try:
            document = json.loads(line)
            headings = document["headings"]
            rows = [dict(zip(headings, row, strict=True)) for row in document["data"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise OvsError(f"ovs-vsctl printed something that is not a JSON table: {line[:200]!r}") from exc
        tables.append([{column: decode_datum(cell) for column, cell in row.items()} for row in rows])
    if len(tables) != expected:
        raise OvsError(f"ovs-vsctl printed {len(tables)} tables, expected {expected}")
    return tables


# --------------------------------------------------------------------------- ovs-vsctl syntax and client


def quoted(text: str) -> str:
    """ovs-vsctl reads a double-quoted string with JSON escapes, so any character is safe."""
    return json.dumps(text, ensure_ascii=False)


@dataclass
class Transaction:
    """ovs-vsctl commands run together as one OVSDB transaction."""

    commands: list[list[str]] = field(default_factory=list)

    def add(self, *args: str) -> None:
        self.commands.append(list(args))

    def extend(self, commands: Sequence[list[str]]) -> None:
        self.commands.extend(commands)

    def argv(self) -> list[str]:
        args: list[str] = []
        for index, command in enumerate(self.commands):
            if index:
                args.append("--")
            args.extend(command)
        return args

    def describe(self) -> list[str]:
        return [shlex.join(command) for command in self.commands]


@dataclass(frozen=True)
class OvsVsctl:
    """Runs ovs-vsctl against one database (`db`, e.g. unix:/run/openvswitch/db.sock)."""

    run: CommandRunner
    binary: str = "ovs-vsctl"
    db: str | None = None
    timeout: int = DEFAULT_TIMEOUT

    def base_args(self) -> list[str]:
        args = [self.binary, f"--timeout={self.timeout}"]
        if self.db:
            args.append(f"--db={self.db}")
        return args

    def call(self, args: list[str]) -> str:
        rc, stdout, stderr = self.run(args)
        if rc != 0:
            detail = (stderr or stdout).strip() or "no output"
            raise OvsError(f"{shlex.join(args)} failed (rc={rc}): {detail}")
        return stdout

    def list_tables(self, queries: Sequence[tuple[str, Sequence[str]]]) -> list[list[Row]]:
        """Read several tables in one call: [(table, columns), ...] -> one list of rows per table."""
        args = [*self.base_args(), "--format=json", "--data=json"]
        for index, (table, columns) in enumerate(queries):
            if index:
                args.append("--")
            args += [f"--columns={','.join(columns)}", "list", table]
        return parse_tables(self.call(args), len(queries))

    def apply(self, transaction: Transaction) -> None:
        if transaction.commands:
            self.call([*self.base_args(), *transaction.argv()])


def client_from_module(module: ModuleLike, binary: str | None, db: str | None, timeout: int) -> OvsVsctl:
    """Client for a module; `binary` None means ovs-vsctl from PATH (fails the module when missing)."""
    if timeout < 0:
        raise OvsInputError(f"timeout: {timeout} is negative (0 waits forever)")
    path = binary or module.get_bin_path("ovs-vsctl", required=True) or "ovs-vsctl"
    return OvsVsctl(run=module.run_command, binary=path, db=db, timeout=timeout)


# --------------------------------------------------------------------------- state


def same_type(first: str | None, second: str | None) -> bool:
    """ "" and "system" are synonyms for interface types and datapath types."""

    def canonical(value: str | None) -> str:
        return "system" if value in (None, "", "system") else str(value)

    return canonical(first) == canonical(second)


@dataclass
class InterfaceState:
    name: str
    type: str = ""
    options: dict[str, str] = field(default_factory=dict)
    external_ids: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type or "system", "options": dict(self.options), "external_ids": dict(self.external_ids)}


@dataclass
class PortState:
    name: str
    tag: int | None = None
    trunks: list[int] = field(default_factory=list)
    vlan_mode: str | None = None
    interfaces: list[InterfaceState] = field(default_factory=list)

    def own_interface(self) -> InterfaceState | None:
        """The interface named like the port; a bond has none."""
        return next((interface for interface in self.interfaces if interface.name == self.name), None)

    def as_dict(self) -> dict[str, Any]:
        summary: dict[str, Any] = {"tag": self.tag, "trunks": list(self.trunks), "vlan_mode": self.vlan_mode}
        interface = self.own_interface()
        if interface is not None:
            summary.update(interface.as_dict())
        else:
            summary["interfaces"] = sorted(member.name for member in self.interfaces)
        return summary


def new_port(name: str, interface_type: str = "") -> PortState:
    return PortState(name=name, interfaces=[InterfaceState(name=name, type=interface_type)])


@dataclass
class BridgeState:
    name: str
    datapath_type: str = ""
    fail_mode: str | None = None
    other_config: dict[str, str] = field(default_factory=dict)
    external_ids: dict[str, str] = field(default_factory=dict)
    ports: dict[str, PortState] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "datapath_type": self.datapath_type or "system",
            "fail_mode": self.fail_mode,
            "other_config": dict(self.other_config),
            "external_ids": dict(self.external_ids),
            "ports": {name: self.ports[name].as_dict() for name in sorted(self.ports)},
        }

    def interface_errors(self) -> list[str]:
        return [
            f"interface {interface.name} of bridge {self.name}: {interface.error}"
            for name in sorted(self.ports)
            for interface in self.ports[name].interfaces
            if interface.error
        ]


def new_bridge(name: str) -> BridgeState:
    """What `add-br NAME` creates: the bridge and its own internal port."""
    return BridgeState(name=name, ports={name: new_port(name, "internal")})


@dataclass
class SwitchState:
    bridges: dict[str, BridgeState] = field(default_factory=dict)

    def bridge_of_port(self, port: str) -> str | None:
        return next((bridge.name for bridge in self.bridges.values() if port in bridge.ports), None)


def interface_from_row(row: Row) -> InterfaceState:
    error = optional_atom(row["error"])
    return InterfaceState(
        name=str(row["name"]),
        type=str(row["type"]),
        options=string_map(row["options"]),
        external_ids=string_map(row["external_ids"]),
        error=str(error) if error is not None else None,
    )


def port_from_row(row: Row, interfaces: Mapping[str, InterfaceState]) -> PortState:
    tag = optional_atom(row["tag"])
    vlan_mode = optional_atom(row["vlan_mode"])
    return PortState(
        name=str(row["name"]),
        tag=int(tag) if tag is not None else None,
        trunks=sorted(int(vlan) for vlan in atom_list(row["trunks"])),
        vlan_mode=str(vlan_mode) if vlan_mode is not None else None,
        interfaces=[interfaces[uuid] for uuid in atom_list(row["interfaces"]) if uuid in interfaces],
    )


def bridge_from_row(row: Row, ports: Mapping[str, PortState]) -> BridgeState:
    fail_mode = optional_atom(row["fail_mode"])
    members = [ports[uuid] for uuid in atom_list(row["ports"]) if uuid in ports]
    return BridgeState(
        name=str(row["name"]),
        datapath_type=str(row["datapath_type"]),
        fail_mode=str(fail_mode) if fail_mode is not None else None,
        other_config=string_map(row["other_config"]),
        external_ids=string_map(row["external_ids"]),
        ports={port.name: port for port in members},
    )


def read_switch(client: OvsVsctl) -> SwitchState:
    bridge_rows, port_rows, interface_rows = client.list_tables([("Bridge", BRIDGE_COLUMNS), ("Port", PORT_COLUMNS), ("Interface", INTERFACE_COLUMNS)])
    interfaces = {str(row["_uuid"]): interface_from_row(row) for row in interface_rows}
    ports = {str(row["_uuid"]): port_from_row(row, interfaces) for row in port_rows}
    bridges = [bridge_from_row(row, ports) for row in bridge_rows]
    return SwitchState(bridges={bridge.name: bridge for bridge in bridges})


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


# --------------------------------------------------------------------------- Open_vSwitch table


@dataclass
class GlobalState:
    other_config: dict[str, str] = field(default_factory=dict)
    external_ids: dict[str, str] = field(default_factory=dict)
    exists: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {"other_config": dict(self.other_config), "external_ids": dict(self.external_ids)}


def read_global(client: OvsVsctl) -> GlobalState:
    (rows,) = client.list_tables([("Open_vSwitch", GLOBAL_COLUMNS)])
    if not rows:
        return GlobalState(exists=False)
    if len(rows) > 1:
        raise OvsError(f"the Open_vSwitch table has {len(rows)} rows, expected one")
    return GlobalState(other_config=string_map(rows[0]["other_config"]), external_ids=string_map(rows[0]["external_ids"]))


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
