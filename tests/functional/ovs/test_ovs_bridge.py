"""diskless.datacenter.ovs_bridge against a real Open vSwitch (private ovsdb-server + ovs-vswitchd, netdev datapath)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.ovs import OvsInstance, UniqueNames

MODULE = "diskless.datacenter.ovs_bridge"
RunModule = Callable[..., dict[str, Any]]


def bridge_args(ovs: OvsInstance, name: str, **options: Any) -> dict[str, Any]:
    return {"name": name, "datapath_type": "netdev", **options, **ovs.module_args()}


def host_port(name: str, trunks: list[int], vlan_mode: str = "native-untagged", tag: int = 65) -> dict[str, Any]:
    return {"name": name, "type": "internal", "tag": tag, "trunks": trunks, "vlan_mode": vlan_mode}


def succeeded(result: dict[str, Any]) -> dict[str, Any]:
    assert not result.get("failed"), result.get("msg", result)
    return result


def test_creates_bridge_with_ports_then_changes_nothing(run_module: RunModule, ovs: OvsInstance, names: UniqueNames) -> None:
    args = bridge_args(
        ovs,
        names.bridge,
        fail_mode="standalone",
        other_config={"mac-aging-time": 600, "disable-in-band": True},
        external_ids={"managed-by": "diskless"},
        ports=[
            {"name": names.uplink, "type": "internal", "vlan_mode": "trunk"},
            host_port(names.host, [65, 67, 68]),
            {"name": names.extra, "type": "internal", "tag": 10, "vlan_mode": "access", "external_ids": {"role": "mgmt"}},
        ],
    )

    created = succeeded(run_module(MODULE, args))

    assert created["changed"] is True
    assert ovs.get("Bridge", names.bridge, "datapath_type") == "netdev"
    assert ovs.get("Bridge", names.bridge, "fail_mode") == "standalone"
    assert ovs.get("Bridge", names.bridge, "other_config") == '{disable-in-band="true", mac-aging-time="600"}'
    assert ovs.get("Bridge", names.bridge, "external_ids") == "{managed-by=diskless}"
    assert ovs.ports(names.bridge) == sorted([names.uplink, names.host, names.extra])
    assert ovs.get("Port", names.uplink, "vlan_mode") == "trunk"
    assert ovs.get("Port", names.host, "tag") == "65"
    assert ovs.get("Port", names.host, "trunks") == "[65, 67, 68]"
    assert ovs.get("Port", names.host, "vlan_mode") == "native-untagged"
    assert ovs.get("Port", names.extra, "tag") == "10"
    assert ovs.get("Interface", names.extra, "type") == "internal"
    assert ovs.get("Interface", names.extra, "external_ids") == "{role=mgmt}"
    assert created["bridge"]["ports"][names.host] == {
        "tag": 65,
        "trunks": [65, 67, 68],
        "vlan_mode": "native-untagged",
        "type": "internal",
        "options": {},
        "external_ids": {},
    }

    again = succeeded(run_module(MODULE, args))

    assert again["changed"] is False
    assert again["commands"] == []


def test_changes_trunks_of_an_existing_port_in_place(run_module: RunModule, ovs: OvsInstance, names: UniqueNames) -> None:
    succeeded(run_module(MODULE, bridge_args(ovs, names.bridge, ports=[host_port(names.host, [65, 67])])))
    port_uuid = ovs.get("Port", names.host, "_uuid")

    result = succeeded(run_module(MODULE, bridge_args(ovs, names.bridge, ports=[host_port(names.host, [65, 67, 68])]), diff=True))

    assert result["changed"] is True
    assert result["commands"] == [f"set Port {names.host} trunks=65,67,68"]
    assert ovs.get("Port", names.host, "trunks") == "[65, 67, 68]"
    assert ovs.get("Port", names.host, "_uuid") == port_uuid, "the port was recreated instead of changed"
    assert result["diff"]["before"]["ports"][names.host]["trunks"] == [65, 67]
    assert result["diff"]["after"]["ports"][names.host]["trunks"] == [65, 67, 68]


def test_changes_vlan_mode_and_clears_what_the_new_mode_does_not_name(run_module: RunModule, ovs: OvsInstance, names: UniqueNames) -> None:
    succeeded(run_module(MODULE, bridge_args(ovs, names.bridge, ports=[host_port(names.host, [65, 67, 68])])))

    tagged = succeeded(run_module(MODULE, bridge_args(ovs, names.bridge, ports=[host_port(names.host, [65, 67, 68], vlan_mode="native-tagged")])))
    assert tagged["changed"] is True
    assert ovs.get("Port", names.host, "vlan_mode") == "native-tagged"

    access = succeeded(run_module(MODULE, bridge_args(ovs, names.bridge, ports=[{"name": names.host, "tag": 65, "vlan_mode": "access"}])))
    assert access["changed"] is True
    assert ovs.get("Port", names.host, "vlan_mode") == "access"
    assert ovs.get("Port", names.host, "trunks") == "[]"
    assert ovs.get("Port", names.host, "tag") == "65"

    untouched = succeeded(run_module(MODULE, bridge_args(ovs, names.bridge, ports=[{"name": names.host}])))
    assert untouched["changed"] is False, "a port listed without VLAN settings must keep its VLAN setup"
    assert ovs.get("Port", names.host, "vlan_mode") == "access"


def test_adopts_a_bridge_made_by_hand_without_recreating_it(run_module: RunModule, ovs: OvsInstance, names: UniqueNames) -> None:
    ovs.vsctl(
        "add-br", names.bridge,
        "--", "set", "Bridge", names.bridge, "datapath_type=netdev", "external_ids:os-config=ifupdown",
        "--", "add-port", names.bridge, names.host, "tag=65",
        "--", "set", "Interface", names.host, "type=internal",
    )  # fmt: skip
    bridge_uuid = ovs.get("Bridge", names.bridge, "_uuid")
    port_uuid = ovs.get("Port", names.host, "_uuid")

    result = succeeded(
        run_module(
            MODULE,
            bridge_args(
                ovs,
                names.bridge,
                external_ids={"managed-by": "diskless"},
                ports=[host_port(names.host, [65, 67, 68]), {"name": names.uplink, "type": "internal", "vlan_mode": "trunk"}],
            ),
        )
    )

    assert result["changed"] is True
    assert ovs.get("Bridge", names.bridge, "_uuid") == bridge_uuid
    assert ovs.get("Port", names.host, "_uuid") == port_uuid
    assert ovs.get("Bridge", names.bridge, "external_ids") == "{managed-by=diskless, os-config=ifupdown}"
    assert ovs.get("Port", names.host, "trunks") == "[65, 67, 68]"
    assert ovs.get("Port", names.host, "vlan_mode") == "native-untagged"
    assert ovs.ports(names.bridge) == sorted([names.host, names.uplink])
    assert not any("add-br" in command for command in result["commands"])


def test_removes_unlisted_ports_only_with_purge_ports(run_module: RunModule, ovs: OvsInstance, names: UniqueNames) -> None:
    everything = [{"name": port, "type": "internal"} for port in (names.uplink, names.host, names.extra)]
    succeeded(run_module(MODULE, bridge_args(ovs, names.bridge, ports=everything)))

    kept = succeeded(run_module(MODULE, bridge_args(ovs, names.bridge, ports=[{"name": names.uplink}])))
    assert kept["changed"] is False
    assert ovs.ports(names.bridge) == sorted([names.uplink, names.host, names.extra])

    purged = succeeded(run_module(MODULE, bridge_args(ovs, names.bridge, ports=[{"name": names.uplink}], purge_ports=True)))
    assert purged["changed"] is True
    assert ovs.ports(names.bridge) == [names.uplink]
    assert ovs.get("Interface", names.bridge, "type") == "internal", "the bridge's own port must survive a purge"


def test_check_mode_reports_but_changes_nothing(run_module: RunModule, ovs: OvsInstance, names: UniqueNames) -> None:
    new = succeeded(run_module(MODULE, bridge_args(ovs, names.bridge, ports=[host_port(names.host, [65, 67])]), check=True, diff=True))
    assert new["changed"] is True
    assert new["diff"]["before"] == {}
    assert new["diff"]["after"]["ports"][names.host]["trunks"] == [65, 67]
    assert f"--may-exist add-br {names.bridge}" in new["commands"]
    assert not ovs.bridge_exists(names.bridge)

    succeeded(run_module(MODULE, bridge_args(ovs, names.bridge, ports=[host_port(names.host, [65, 67])])))
    change = succeeded(run_module(MODULE, bridge_args(ovs, names.bridge, ports=[host_port(names.host, [65, 67, 68])], fail_mode="secure"), check=True))
    assert change["changed"] is True
    assert change["bridge"]["ports"][names.host]["trunks"] == [65, 67, 68]
    assert ovs.get("Port", names.host, "trunks") == "[65, 67]"
    assert ovs.get("Bridge", names.bridge, "fail_mode") == "[]"


def test_moves_a_port_from_another_bridge(run_module: RunModule, ovs: OvsInstance, names: UniqueNames) -> None:
    other = f"{names.bridge}o"
    try:
        ovs.vsctl(
            "add-br", other, "--", "set", "Bridge", other, "datapath_type=netdev",
            "--", "add-port", other, names.host, "--", "set", "Interface", names.host, "type=internal",
        )  # fmt: skip

        result = succeeded(run_module(MODULE, bridge_args(ovs, names.bridge, ports=[host_port(names.host, [65, 67])])))

        assert result["changed"] is True
        assert ovs.ports(other) == []
        assert ovs.ports(names.bridge) == [names.host]
        assert ovs.get("Port", names.host, "trunks") == "[65, 67]"
    finally:
        ovs.vsctl("--if-exists", "del-br", other)


def test_absent_removes_the_bridge_then_changes_nothing(run_module: RunModule, ovs: OvsInstance, names: UniqueNames) -> None:
    ovs.vsctl("add-br", names.bridge, "--", "set", "Bridge", names.bridge, "datapath_type=netdev")

    removed = succeeded(run_module(MODULE, {"name": names.bridge, "state": "absent", **ovs.module_args()}, diff=True))
    assert removed["changed"] is True
    assert removed["diff"]["after"] == {}
    assert removed["diff"]["before"]["name"] == names.bridge
    assert not ovs.bridge_exists(names.bridge)

    again = succeeded(run_module(MODULE, {"name": names.bridge, "state": "absent", **ovs.module_args()}))
    assert again["changed"] is False


@pytest.mark.parametrize(
    ("bad_port", "expected"),
    [
        ({"tag": 5000, "vlan_mode": "access"}, "ports[1] ({host}).tag: 5000 is outside the VLAN range 0-4095"),
        ({"tag": 65, "trunks": [67, 68], "vlan_mode": "access"}, "ports[1] ({host}): vlan_mode access carries only the VLAN in tag, so trunks [67, 68]"),
    ],
    ids=["tag-out-of-range", "access-with-trunks"],
)
def test_bad_input_fails_before_anything_changes(run_module: RunModule, ovs: OvsInstance, names: UniqueNames, bad_port: dict[str, Any], expected: str) -> None:
    succeeded(run_module(MODULE, bridge_args(ovs, names.bridge, ports=[{"name": names.uplink, "type": "internal", "vlan_mode": "trunk"}])))

    result = run_module(
        MODULE,
        bridge_args(
            ovs,
            names.bridge,
            fail_mode="secure",
            ports=[{"name": names.uplink, "vlan_mode": "trunk", "trunks": [67]}, {"name": names.host, "type": "internal", **bad_port}],
        ),
    )

    assert result.get("failed") is True
    assert expected.format(host=names.host) in result["msg"]
    assert ovs.ports(names.bridge) == [names.uplink]
    assert ovs.get("Port", names.uplink, "trunks") == "[]"
    assert ovs.get("Bridge", names.bridge, "fail_mode") == "[]"


def test_reports_interface_errors_as_warnings(run_module: RunModule, ovs: OvsInstance, names: UniqueNames) -> None:
    result = succeeded(run_module(MODULE, bridge_args(ovs, names.bridge, ports=[{"name": names.uplink, "type": "system"}])))

    assert result["changed"] is True
    assert any(names.uplink in warning and "No such device" in warning for warning in result.get("warnings", [])), result.get("warnings")
