"""Unit tests of plugins/module_utils/_ovs.py and _ovs_plan.py: OVSDB JSON parsing, validation, planning (no Open vSwitch needed)."""

from __future__ import annotations

from typing import Any

import pytest
from ansible_collections.diskless.datacenter.plugins.module_utils._ovs import (
    BridgeState,
    GlobalState,
    InterfaceState,
    OvsError,
    OvsInputError,
    OvsVsctl,
    PortState,
    SwitchState,
    Transaction,
    decode_datum,
    new_bridge,
    new_port,
    parse_tables,
    quoted,
    read_global,
    read_switch,
)
from ansible_collections.diskless.datacenter.plugins.module_utils._ovs_plan import (
    bridge_removal,
    bridge_spec,
    bridge_transaction,
    desired_bridge,
    desired_global,
    global_transaction,
    restart_keys,
)

# Recorded from ovs-vsctl 3.1.0 (Debian 12): bridge br0 (netdev) with p0 (trunks=67), pf0hpf (tag 65, trunks
# 65,67,68, native-untagged), bond0 (e1, e2 - devices missing) and its own port br0. Note the one-element sets
# printed as bare atoms (trunks 67, single interface uuids).
RECORDED_LIST_OUTPUT = """\
{"data":[[["uuid","b26229be-b627-4856-9248-cc3b406d9cda"],"br0","netdev","standalone",["map",[]],["map",[["os","ifupdown"]]],["set",[["uuid","2fb987c3-16f3-4af7-a3a0-4a8d88427c0e"],["uuid","86521879-bcd4-444d-aaaa-88f42ef42970"],["uuid","9c203725-9e19-4f10-8788-eafe0ac4a4ab"],["uuid","e55dbb43-7a95-4faf-a596-b0e949c697f1"]]]]],"headings":["_uuid","name","datapath_type","fail_mode","other_config","external_ids","ports"]}
{"data":[[["uuid","86521879-bcd4-444d-aaaa-88f42ef42970"],"p0",["set",[]],67,["set",[]],["uuid","4280c08d-d2c3-44b9-87f1-3ee987b357fc"]],[["uuid","9c203725-9e19-4f10-8788-eafe0ac4a4ab"],"bond0",["set",[]],["set",[]],["set",[]],["set",[["uuid","7e3eaaba-f00c-4076-a79d-20b048e34bde"],["uuid","ad71e20d-4b03-42bb-9007-aece07fef235"]]]],[["uuid","2fb987c3-16f3-4af7-a3a0-4a8d88427c0e"],"br0",["set",[]],["set",[]],["set",[]],["uuid","78095862-807c-43b1-a59d-f42173d2af99"]],[["uuid","e55dbb43-7a95-4faf-a596-b0e949c697f1"],"pf0hpf",65,["set",[65,67,68]],"native-untagged",["uuid","ea8e3565-f45d-44d0-8598-a7489a93db78"]]],"headings":["_uuid","name","tag","trunks","vlan_mode","interfaces"]}
{"data":[[["uuid","4280c08d-d2c3-44b9-87f1-3ee987b357fc"],"p0","internal",["map",[]],["map",[]],["set",[]]],[["uuid","ad71e20d-4b03-42bb-9007-aece07fef235"],"e2","",["map",[]],["map",[]],"could not open network device e2 (No such device)"],[["uuid","ea8e3565-f45d-44d0-8598-a7489a93db78"],"pf0hpf","internal",["map",[]],["map",[["a","b"]]],["set",[]]],[["uuid","78095862-807c-43b1-a59d-f42173d2af99"],"br0","internal",["map",[]],["map",[]],["set",[]]],[["uuid","7e3eaaba-f00c-4076-a79d-20b048e34bde"],"e1","",["map",[]],["map",[]],"could not open network device e1 (No such device)"]],"headings":["_uuid","name","type","options","external_ids","error"]}
"""  # noqa: E501 - verbatim ovs-vsctl output


class FakeRunner:
    """Records argv and answers with canned (rc, stdout, stderr)."""

    def __init__(self, *answers: tuple[int, str, str]) -> None:
        self.answers = list(answers)
        self.calls: list[list[str]] = []

    def __call__(self, args: list[str]) -> tuple[int, str, str]:
        self.calls.append(args)
        return self.answers.pop(0)


def switch_with(*bridges: BridgeState) -> SwitchState:
    return SwitchState(bridges={bridge.name: bridge for bridge in bridges})


def existing_bridge() -> BridgeState:
    bridge = new_bridge("ovsbr1")
    bridge.datapath_type = "netdev"
    bridge.external_ids = {"os": "ifupdown"}
    bridge.ports["p0"] = PortState(name="p0", vlan_mode="trunk", interfaces=[InterfaceState(name="p0")])
    bridge.ports["pf0hpf"] = PortState(name="pf0hpf", tag=65, trunks=[65, 67], vlan_mode="native-untagged", interfaces=[InterfaceState(name="pf0hpf")])
    return bridge


def plan(params: dict[str, Any], *bridges: BridgeState) -> list[list[str]]:
    switch = switch_with(*bridges)
    spec = bridge_spec(params)
    return bridge_transaction(switch.bridges.get(spec.name), desired_bridge(spec, switch), switch).commands


REFERENCE_PORTS = [
    {"name": "p0", "vlan_mode": "trunk"},
    {"name": "pf0hpf", "tag": 65, "trunks": [65, 67, 68], "vlan_mode": "native-untagged"},
]


# --------------------------------------------------------------------------- OVSDB JSON


def test_decode_datum_turns_sets_maps_and_uuids_into_python() -> None:
    assert decode_datum(["set", [1, 2]]) == [1, 2]
    assert decode_datum(["set", []]) == []
    assert decode_datum(["map", [["hw-offload", "true"]]]) == {"hw-offload": "true"}
    assert decode_datum(["uuid", "86521879-bcd4-444d-aaaa-88f42ef42970"]) == "86521879-bcd4-444d-aaaa-88f42ef42970"
    assert decode_datum(["set", [["uuid", "a"], ["uuid", "b"]]]) == ["a", "b"]
    assert decode_datum(67) == 67
    assert decode_datum("native-untagged") == "native-untagged"


@pytest.mark.parametrize("value", [["bag", []], ["set"], [1, 2]])
def test_decode_datum_refuses_unknown_shapes(value: Any) -> None:
    with pytest.raises(OvsError, match="unexpected OVSDB JSON value"):
        decode_datum(value)


def test_parse_tables_checks_the_number_of_tables_and_json() -> None:
    assert len(parse_tables(RECORDED_LIST_OUTPUT, 3)) == 3
    with pytest.raises(OvsError, match="printed 3 tables, expected 2"):
        parse_tables(RECORDED_LIST_OUTPUT, 2)
    with pytest.raises(OvsError, match="not a JSON table"):
        parse_tables("ovs-vsctl: no row\n", 1)
    with pytest.raises(OvsError, match="not a JSON table"):
        parse_tables('{"data":[["a","b"]],"headings":["name"]}', 1)


def test_read_switch_builds_bridges_ports_and_interfaces_from_one_call() -> None:
    runner = FakeRunner((0, RECORDED_LIST_OUTPUT, ""))
    client = OvsVsctl(run=runner, binary="/usr/bin/ovs-vsctl", db="unix:/tmp/db.sock", timeout=7)

    switch = read_switch(client)

    assert runner.calls == [
        [
            "/usr/bin/ovs-vsctl", "--timeout=7", "--db=unix:/tmp/db.sock", "--format=json", "--data=json",
            "--columns=_uuid,name,datapath_type,fail_mode,other_config,external_ids,ports", "list", "Bridge", "--",
            "--columns=_uuid,name,tag,trunks,vlan_mode,interfaces", "list", "Port", "--",
            "--columns=_uuid,name,type,options,external_ids,error", "list", "Interface",
        ]
    ]  # fmt: skip
    bridge = switch.bridges["br0"]
    assert bridge.datapath_type == "netdev"
    assert bridge.fail_mode == "standalone"
    assert bridge.external_ids == {"os": "ifupdown"}
    assert sorted(bridge.ports) == ["bond0", "br0", "p0", "pf0hpf"]
    assert bridge.ports["p0"].trunks == [67]
    assert bridge.ports["p0"].tag is None
    assert bridge.ports["pf0hpf"].as_dict() == {
        "tag": 65,
        "trunks": [65, 67, 68],
        "vlan_mode": "native-untagged",
        "type": "internal",
        "options": {},
        "external_ids": {"a": "b"},
    }
    assert bridge.ports["bond0"].as_dict()["interfaces"] == ["e1", "e2"]
    assert bridge.interface_errors() == [
        "interface e1 of bridge br0: could not open network device e1 (No such device)",
        "interface e2 of bridge br0: could not open network device e2 (No such device)",
    ]
    assert switch.bridge_of_port("pf0hpf") == "br0"
    assert switch.bridge_of_port("nothing") is None


def test_recorded_state_planned_against_itself_needs_no_command() -> None:
    switch = read_switch(OvsVsctl(run=FakeRunner((0, RECORDED_LIST_OUTPUT, ""))))
    params = {
        "name": "br0",
        "datapath_type": "netdev",
        "fail_mode": "standalone",
        "external_ids": {"os": "ifupdown"},
        "ports": [
            {"name": "p0", "type": "internal", "trunks": [67]},
            {"name": "pf0hpf", "type": "internal", "tag": 65, "trunks": [68, 67, 65, 67], "vlan_mode": "native-untagged", "external_ids": {"a": "b"}},
            {"name": "bond0"},
        ],
        "purge_ports": True,
    }
    spec = bridge_spec(params)

    assert bridge_transaction(switch.bridges["br0"], desired_bridge(spec, switch), switch).commands == []


# --------------------------------------------------------------------------- client


def test_client_reports_the_failing_command_and_its_error() -> None:
    client = OvsVsctl(run=FakeRunner((1, "", "ovs-vsctl: no bridge named br9\n")), db="unix:/x")
    transaction = Transaction()
    transaction.add("set", "Bridge", "br9", "fail_mode=secure")

    with pytest.raises(OvsError, match=r"ovs-vsctl --timeout=30 --db=unix:/x set Bridge br9 fail_mode=secure failed \(rc=1\): ovs-vsctl: no bridge named br9"):
        client.apply(transaction)


def test_client_runs_one_transaction_and_nothing_when_empty() -> None:
    runner = FakeRunner((0, "", ""))
    client = OvsVsctl(run=runner)
    client.apply(Transaction())
    assert runner.calls == []

    transaction = Transaction()
    transaction.add("--may-exist", "add-br", "br0")
    transaction.add("set", "Bridge", "br0", 'datapath_type="netdev"')
    client.apply(transaction)

    assert runner.calls == [["ovs-vsctl", "--timeout=30", "--may-exist", "add-br", "br0", "--", "set", "Bridge", "br0", 'datapath_type="netdev"']]
    assert transaction.describe() == ["--may-exist add-br br0", "set Bridge br0 'datapath_type=\"netdev\"'"]


def test_quoted_keeps_ovs_vsctl_separators_inside_the_string() -> None:
    assert quoted("a:b=c,d") == '"a:b=c,d"'
    assert quoted('say "hi"') == '"say \\"hi\\""'


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("port", "message"),
    [
        ({"name": "pf0hpf", "tag": 5000, "vlan_mode": "access"}, "ports[0] (pf0hpf).tag: 5000 is outside the VLAN range 0-4095"),
        ({"name": "pf0hpf", "tag": -1, "vlan_mode": "access"}, "ports[0] (pf0hpf).tag: -1 is outside the VLAN range 0-4095"),
        ({"name": "pf0hpf", "tag": True, "vlan_mode": "access"}, "ports[0] (pf0hpf).tag: True is not an integer VLAN ID"),
        ({"name": "pf0hpf", "trunks": [65, 4096]}, "ports[0] (pf0hpf).trunks: 4096 is outside the VLAN range 0-4095"),
        ({"name": "pf0hpf", "trunks": ["65-68"]}, "ports[0] (pf0hpf).trunks: '65-68' is not an integer VLAN ID"),
        ({"name": "pf0hpf", "trunks": "65,67"}, "ports[0] (pf0hpf).trunks: '65,67' is not a list of VLAN IDs"),
        ({"name": "pf0hpf", "tag": 65, "trunks": [67], "vlan_mode": "access"}, "vlan_mode access carries only the VLAN in tag, so trunks [67] cannot apply"),
        ({"name": "pf0hpf", "vlan_mode": "access"}, "ports[0] (pf0hpf): vlan_mode access needs a tag"),
        ({"name": "pf0hpf", "trunks": [67], "vlan_mode": "native-untagged"}, "ports[0] (pf0hpf): vlan_mode native-untagged needs a tag (the native VLAN)"),
        ({"name": "p0", "tag": 65, "vlan_mode": "trunk"}, "ports[0] (p0): vlan_mode trunk takes no tag (got tag 65)"),
        ({"name": "pf0hpf", "tag": 65, "trunks": [65, 67]}, "ports[0] (pf0hpf): tag 65 with trunks [65, 67] needs vlan_mode native-untagged or native-tagged"),
        ({"name": "pf0hpf", "vlan_mode": "dot1q"}, "ports[0] (pf0hpf): vlan_mode 'dot1q' is not one of trunk, access, native-tagged, native-untagged"),
        ({"name": ""}, "ports[0].name: '' is not a port name"),
        ({"name": "pf0hpf", "options": {"peer": ["x"]}}, "ports[0] (pf0hpf).options.peer: ['x'] is not a string, number or boolean"),
        ({"name": "pf0hpf", "type": ""}, "ports[0] (pf0hpf).type: '' is not an interface type"),
    ],
)
def test_bad_port_input_names_the_field_and_the_value(port: dict[str, Any], message: str) -> None:
    with pytest.raises(OvsInputError) as caught:
        bridge_spec({"name": "ovsbr1", "ports": [port]})
    assert message in str(caught.value)


def test_a_port_listed_twice_is_refused() -> None:
    with pytest.raises(OvsInputError, match=r"ports\[1\].name: p0 is listed twice"):
        bridge_spec({"name": "ovsbr1", "ports": [{"name": "p0"}, {"name": "p0"}]})


def test_a_patch_port_needs_a_peer() -> None:
    with pytest.raises(OvsInputError, match=r"ports\[0\] \(patch-a\).options: a patch port needs options.peer"):
        plan({"name": "ovsbr1", "ports": [{"name": "patch-a", "type": "patch"}]})


def test_bond_ports_take_vlan_settings_but_no_interface_settings() -> None:
    bridge = existing_bridge()
    bridge.ports["bond0"] = PortState(name="bond0", interfaces=[InterfaceState(name="e1"), InterfaceState(name="e2")])

    assert plan({"name": "ovsbr1", "ports": [{"name": "bond0", "trunks": [67]}]}, bridge) == [["set", "Port", "bond0", "trunks=67"]]
    with pytest.raises(OvsInputError, match=r"port bond0 is a bond of e1, e2"):
        plan({"name": "ovsbr1", "ports": [{"name": "bond0", "type": "internal"}]}, bridge)


def test_the_bridges_own_port_keeps_its_type_and_another_bridges_own_port_cannot_move() -> None:
    with pytest.raises(OvsInputError, match=r"ports\[0\] \(ovsbr1\).type: system cannot apply to the bridge's own internal port"):
        plan({"name": "ovsbr1", "ports": [{"name": "ovsbr1", "type": "system"}]}, existing_bridge())
    with pytest.raises(OvsInputError, match=r"ovsbr1 is the own internal port of bridge ovsbr1 and cannot move"):
        plan({"name": "ovsbr2", "ports": [{"name": "ovsbr1"}]}, existing_bridge())


# --------------------------------------------------------------------------- planning


def test_new_bridge_is_created_with_all_ports_in_one_transaction() -> None:
    params = {"name": "ovsbr1", "datapath_type": "netdev", "fail_mode": "standalone", "other_config": {"hwaddr": "02:00:00:00:00:01"}, "ports": REFERENCE_PORTS}

    commands = plan(params)

    assert commands == [
        ["--may-exist", "add-br", "ovsbr1"],
        ["set", "Bridge", "ovsbr1", 'datapath_type="netdev"', "fail_mode=standalone"],
        ["set", "Bridge", "ovsbr1", 'other_config:"hwaddr"="02:00:00:00:00:01"'],
        ["--may-exist", "add-port", "ovsbr1", "p0"],
        ["set", "Port", "p0", "vlan_mode=trunk"],
        ["--may-exist", "add-port", "ovsbr1", "pf0hpf"],
        ["set", "Port", "pf0hpf", "tag=65", "trunks=65,67,68", "vlan_mode=native-untagged"],
    ]


def test_existing_port_gets_only_the_changed_columns() -> None:
    commands = plan({"name": "ovsbr1", "ports": REFERENCE_PORTS}, existing_bridge())

    assert commands == [["set", "Port", "pf0hpf", "trunks=65,67,68"]]


def test_vlan_settings_are_managed_together_and_left_alone_when_not_named() -> None:
    to_access = plan({"name": "ovsbr1", "ports": [{"name": "pf0hpf", "tag": 65, "vlan_mode": "access"}]}, existing_bridge())
    to_all_vlans = plan({"name": "ovsbr1", "ports": [{"name": "pf0hpf", "trunks": []}]}, existing_bridge())
    untouched = plan({"name": "ovsbr1", "ports": [{"name": "pf0hpf"}]}, existing_bridge())

    assert to_access == [["clear", "Port", "pf0hpf", "trunks"], ["set", "Port", "pf0hpf", "vlan_mode=access"]]
    assert to_all_vlans == [["clear", "Port", "pf0hpf", "tag", "trunks", "vlan_mode"]]
    assert untouched == []


def test_maps_are_merged_and_null_removes_a_key() -> None:
    commands = plan(
        {"name": "ovsbr1", "external_ids": {"os": None, "owner": "dc"}, "ports": [{"name": "p0", "options": {"n_rxq": 2}, "external_ids": {"x": None}}]},
        existing_bridge(),
    )

    assert commands == [
        ["remove", "Bridge", "ovsbr1", "external_ids", '"os"'],
        ["set", "Bridge", "ovsbr1", 'external_ids:"owner"="dc"'],
        ["set", "Interface", "p0", 'options:"n_rxq"="2"'],
    ]


def test_system_and_empty_type_are_the_same() -> None:
    bridge = existing_bridge()
    bridge.datapath_type = ""

    assert plan({"name": "ovsbr1", "datapath_type": "system", "ports": [{"name": "p0", "type": "system"}]}, bridge) == []
    assert plan({"name": "ovsbr1", "ports": [{"name": "p0", "type": "internal"}]}, bridge) == [["set", "Interface", "p0", 'type="internal"']]


def test_purge_removes_unlisted_ports_but_never_the_bridges_own_port() -> None:
    bridge = existing_bridge()

    assert plan({"name": "ovsbr1", "ports": [{"name": "p0"}]}, bridge) == []
    assert plan({"name": "ovsbr1", "ports": [{"name": "p0"}], "purge_ports": True}, bridge) == [["--if-exists", "del-port", "ovsbr1", "pf0hpf"]]
    assert plan({"name": "ovsbr1", "purge_ports": True}, bridge) == [], "purge_ports without ports looks at no port"


def test_a_port_on_another_bridge_is_moved_in_the_same_transaction() -> None:
    other = new_bridge("ovsbr2")
    other.ports["pf1hpf"] = new_port("pf1hpf")

    commands = plan({"name": "ovsbr1", "ports": [{"name": "pf1hpf", "trunks": [67]}]}, existing_bridge(), other)

    assert commands == [
        ["--if-exists", "del-port", "ovsbr2", "pf1hpf"],
        ["--may-exist", "add-port", "ovsbr1", "pf1hpf"],
        ["set", "Port", "pf1hpf", "trunks=67"],
    ]


def test_removal_deletes_only_an_existing_bridge() -> None:
    assert bridge_removal(existing_bridge(), "ovsbr1").commands == [["--if-exists", "del-br", "ovsbr1"]]
    assert bridge_removal(None, "ovsbr1").commands == []


# --------------------------------------------------------------------------- Open_vSwitch table


def test_global_keys_are_set_as_strings_and_hw_offload_needs_a_restart() -> None:
    before = GlobalState(other_config={"max-idle": "10000"})
    after = desired_global(before, {"hw-offload": True, "max-idle": 10000}, None)

    assert after.other_config == {"hw-offload": "true", "max-idle": "10000"}
    assert global_transaction(before, after).commands == [["set", "Open_vSwitch", ".", 'other_config:"hw-offload"="true"']]
    assert restart_keys(before, after) == ["hw-offload"]
    assert global_transaction(after, desired_global(after, {"hw-offload": "true"}, None)).commands == []


def test_restart_keys_follow_the_documented_list() -> None:
    offloaded = GlobalState(other_config={"hw-offload": "true"})

    assert restart_keys(offloaded, desired_global(offloaded, {"hw-offload": None}, None)) == ["hw-offload"]
    assert restart_keys(offloaded, desired_global(offloaded, {"max-idle": 5000}, None)) == []
    assert restart_keys(offloaded, desired_global(offloaded, {"per-port-memory": True}, None)) == []
    dpdk = GlobalState(other_config={"dpdk-init": "true"})
    assert restart_keys(dpdk, desired_global(dpdk, {"per-port-memory": True}, None)) == ["per-port-memory"]


def test_an_empty_open_vswitch_table_is_initialised_first() -> None:
    empty = read_global(OvsVsctl(run=FakeRunner((0, '{"data":[],"headings":["_uuid","other_config","external_ids"]}\n', ""))))
    after = desired_global(empty, None, {"rack": "r1"})

    assert empty.exists is False
    assert global_transaction(empty, after).commands == [["init"], ["set", "Open_vSwitch", ".", 'external_ids:"rack"="r1"']]


def test_global_values_must_be_scalars() -> None:
    with pytest.raises(OvsInputError, match=r"other_config.hw-offload: \{'on': True\} is not a string, number or boolean"):
        desired_global(GlobalState(), {"hw-offload": {"on": True}}, None)
