"""The role's input checks: bad input stops the role with a message naming the variable and the value.

One ansible-playbook run on the controller, one inventory host per case, only the role's checks
(`--tags dpu_ovs_preflight`, plus `--check`): nothing is installed or configured on the controller.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
import yaml

from tests.support.playbook import REPO, VENV_BIN, ansible_env

# case -> (role variables, expected message fragments; empty: the checks pass)
CASES: dict[str, tuple[dict[str, Any], list[str]]] = {
    "reference_layout": ({}, []),
    "restricted_uplink_and_extra_ports": (
        {
            "dpu_ovs_uplink_trunks": [65, 66, 67, 68],
            "dpu_ovs_uplink_native_vlan": 66,
            "dpu_ovs_extra_ports": [{"name": "pf0sf0"}, {"name": "pf0vf0", "tag": 66, "vlan_mode": "access"}],
        },
        [],
    ),
    "userspace_with_netdev": ({"dpu_ovs_kernel_datapath": False, "dpu_ovs_datapath_type": "netdev"}, []),
    "tagged_vlan_out_of_range": ({"dpu_ovs_tagged_vlans": [67, 4095]}, ["dpu_ovs_tagged_vlans[1]=4095: not a VLAN ID (1-4094)"]),
    "native_vlan_out_of_range": ({"dpu_ovs_native_vlan": 5000}, ["dpu_ovs_native_vlan=5000: not a VLAN ID (1-4094, or 0 for none)"]),
    "native_vlan_also_tagged": ({"dpu_ovs_tagged_vlans": [65, 67]}, ["VLAN 65 is dpu_ovs_native_vlan"]),
    "tagged_vlan_twice": ({"dpu_ovs_tagged_vlans": [67, 68, 67]}, ["dpu_ovs_tagged_vlans=[67, 68, 67]: VLAN 67 is listed more than once"]),
    "host_port_without_vlans": ({"dpu_ovs_native_vlan": 0, "dpu_ovs_tagged_vlans": []}, ["the host port would carry no VLAN"]),
    "uplink_trunks_miss_host_vlan": (
        {"dpu_ovs_uplink_trunks": [65, 67]},
        ["dpu_ovs_uplink_trunks=[65, 67]: does not carry VLAN 68 (dpu_ovs_tagged_vlans)"],
    ),
    "uplink_native_vlan_not_among_trunks": (
        {"dpu_ovs_uplink_trunks": [65, 67, 68], "dpu_ovs_uplink_native_vlan": 64},
        ["does not carry VLAN 64 (dpu_ovs_uplink_native_vlan)"],
    ),
    "port_listed_twice": ({"dpu_ovs_extra_ports": [{"name": "p0"}]}, ["port p0 is given more than once: dpu_ovs_uplink_port, dpu_ovs_extra_ports[0].name"]),
    "bridge_name_with_slash": ({"dpu_ovs_bridge": "br/0"}, ["dpu_ovs_bridge=br/0: not a valid name"]),
    "bridge_name_too_long": ({"dpu_ovs_bridge": "ovsbr1-sixteen-c"}, ["dpu_ovs_bridge=ovsbr1-sixteen-c: not a valid name"]),
    "port_named_like_the_bridge": ({"dpu_ovs_host_port": "ovsbr1"}, ["dpu_ovs_host_port=ovsbr1: is the bridge itself"]),
    "extra_port_native_vlan_not_among_trunks": (
        {"dpu_ovs_extra_ports": [{"name": "pf0vf0", "tag": 66, "trunks": [67], "vlan_mode": "native-untagged"}]},
        ["dpu_ovs_extra_ports[0] (pf0vf0): tag=66: the native VLAN must be among trunks=[67]"],
    ),
    "extra_port_trunk_out_of_range": (
        {"dpu_ovs_extra_ports": [{"name": "pf0sf0"}, {"name": "pf0vf0", "trunks": [67, 0], "vlan_mode": "trunk"}]},
        ["dpu_ovs_extra_ports[1] (pf0vf0): trunks[1]=0: not a VLAN ID (1-4094)"],
    ),
    "extra_port_access_with_trunks": (
        {"dpu_ovs_extra_ports": [{"name": "pf0vf0", "tag": 66, "trunks": [66, 67], "vlan_mode": "access"}]},
        ["dpu_ovs_extra_ports[0] (pf0vf0): vlan_mode=access carries exactly one VLAN"],
    ),
    "system_datapath_without_kernel_module": (
        {"dpu_ovs_kernel_datapath": False},
        ["dpu_ovs_datapath_type=system: needs the openvswitch kernel module, but dpu_ovs_kernel_datapath is false"],
    ),
    "every_problem_at_once": (
        {"dpu_ovs_native_vlan": 0, "dpu_ovs_tagged_vlans": [], "dpu_ovs_bridge": "x" * 16},
        ["has 2 problem(s)", "the host port would carry no VLAN", "dpu_ovs_bridge=xxxxxxxxxxxxxxxx: not a valid name"],
    ),
    "wrong_type_caught_by_the_argument_spec": ({"dpu_ovs_tagged_vlans": ["sixty-seven"]}, ["dpu_ovs_tagged_vlans"]),
}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Run the checks once for every case; host name -> result of the first failed task ({} when none failed)."""
    workdir = tmp_path_factory.mktemp("dpu_ovs_preflight")
    inventory = {"all": {"hosts": {name: {"ansible_connection": "local", **case[0]} for name, case in CASES.items()}}}
    (workdir / "inventory.yml").write_text(yaml.safe_dump(inventory))
    play = [{"name": "Checks of the dpu_ovs role", "hosts": "all", "gather_facts": False, "roles": ["diskless.datacenter.dpu_ovs"]}]
    (workdir / "play.yml").write_text(yaml.safe_dump(play))
    cmd = [str(VENV_BIN / "ansible-playbook"), "-i", str(workdir / "inventory.yml"), str(workdir / "play.yml"), "--check", "--tags", "dpu_ovs_preflight"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=ansible_env(), cwd=REPO, check=False, timeout=120)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"ansible-playbook printed no JSON:\n{proc.stdout}\n{proc.stderr}") from exc
    results: dict[str, dict[str, Any]] = {name: {} for name in CASES}
    tasks_run: set[str] = set()
    for task in report["plays"][0]["tasks"]:
        tasks_run.add(task["task"]["name"])
        for host, result in task["hosts"].items():
            if result.get("failed") and not results[host]:
                results[host] = result
    # Only the checks ran: nothing else of the role may have been reached on the controller.
    assert all("Preflight" in name or "argument" in name.lower() for name in tasks_run), sorted(tasks_run)
    return results


@pytest.mark.parametrize("case", sorted(CASES))
def test_input_check(outcomes: dict[str, dict[str, Any]], case: str) -> None:
    expected = CASES[case][1]
    result = outcomes[case]
    if not expected:
        assert result == {}, result.get("msg", result)
        return
    assert result, f"{case}: the checks accepted bad input"
    message = str(result.get("msg", result))
    for fragment in expected:
        assert fragment in message, message
