# Copyright: contributors to diskless.datacenter
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private Open vSwitch layer, reading half: read OVSDB rows with ovs-vsctl and apply ONE transaction.

Reading uses `ovs-vsctl --format=json --data=json list TABLE` (several `list` commands in one call, so
they see one consistent snapshot). Writing runs a single `ovs-vsctl A -- B -- C` transaction, so a
bridge and all its ports change together or not at all.

The planning half (validation of the module input, desired state, the commands of the transaction)
is `_ovs_plan.py`.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

from ansible_collections.diskless.datacenter.plugins.module_utils._module import ModuleProtocol

if TYPE_CHECKING:
    CommandRunner = Callable[[list[str]], tuple[int, str, str]]
    Row = dict[str, Any]

DEFAULT_TIMEOUT = 30

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


def run_module(module: ModuleProtocol, run: Callable[[ModuleProtocol], dict[str, Any]]) -> NoReturn:
    """Run a module's work and exit with its result; an input or ovs-vsctl error fails the module."""
    try:
        result = run(module)
    except (OvsInputError, OvsError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


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
