"""playbooks/network.yml with the reference inventory, against a RouterOS API (the simulator by default).

It applies the whole reference plan, so against a real router (ROUTEROS_HOST set) it runs only when
ROUTEROS_ALLOW_FULL_PLAN=1 says the router may be reconfigured.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.playbook import REPO, VENV_BIN, ansible_env
from tests.support.routeros import RouterOSTarget, connect_api, network_override


@pytest.fixture
def target(routeros_full_plan: RouterOSTarget) -> RouterOSTarget:
    return routeros_full_plan


def network_playbook(target: RouterOSTarget, tmp_path: Path, *extra: str) -> dict[str, Any]:
    override = network_override(target, tmp_path)
    result = subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), "-i", "inventories/example", "playbooks/network.yml", "-e", f"@{override}", *extra],
        capture_output=True, text=True, env=ansible_env(), cwd=REPO, timeout=300, check=False,
    )  # fmt: skip
    report = json.loads(result.stdout)
    assert result.returncode == 0, json.dumps(report, indent=1)[-4000:]
    return report


def rds_changes(report: dict[str, Any]) -> dict[str, bool]:
    changes = {}
    for play in report["plays"]:
        for task in play["tasks"]:
            result = task["hosts"].get("rds1")
            if result is not None:
                changes[task["task"]["name"].split(" : ")[-1]] = bool(result.get("changed"))
    return changes


def test_check_shows_the_plan_then_apply_then_nothing_to_do(target: RouterOSTarget, tmp_path: Path) -> None:
    planned = rds_changes(network_playbook(target, tmp_path, "--check", "--diff"))
    assert planned["Bridge, ports, VLAN table and VLAN interfaces (management path kept, filtering last)"]
    assert planned["DHCP and network boot on the boot VLAN, a static lease per diskless host"]
    assert planned["NVMe/TCP exports of ROSE storage"]

    api = connect_api(target)
    try:
        assert list(api.path("/interface/bridge")) == [], "check mode changed the router"
    finally:
        api.close()

    applied = rds_changes(network_playbook(target, tmp_path))
    assert any(applied.values())
    again = rds_changes(network_playbook(target, tmp_path))
    assert not any(again.values()), again
    assert not any(rds_changes(network_playbook(target, tmp_path, "--check", "--diff")).values())

    api = connect_api(target)
    try:
        leases = {row["mac-address"].lower(): row["address"] for row in api.path("/ip/dhcp-server/lease")}
        assert leases == {"b0:26:28:0c:41:40": "10.42.65.92", "b0:26:28:06:40:00": "10.42.65.82", "b0:26:28:74:0d:00": "10.42.65.42"}
        vlan_65 = next(row for row in api.path("/interface/bridge/vlan") if str(row["vlan-ids"]) == "65" and not row.get("dynamic"))
        assert set(vlan_65["untagged"].split(",")) == {"sfp28-1", "sfp28-2", "sfp28-3", "sfp-sfpplus1", "sfp-sfpplus2", "sfp-sfpplus3"}
        bridge = next(iter(api.path("/interface/bridge")))
        assert bridge["vlan-filtering"] is True
        disks = [row for row in api.path("/disk") if row.get("slot") == "c4140-var"]
        assert disks and disks[0]["nvme-tcp-export"] is True
    finally:
        api.close()


def test_rds_role_refuses_bad_input_before_connecting(tmp_path: Path) -> None:
    play = [
        {
            "hosts": "localhost",
            "connection": "local",
            "gather_facts": False,
            "vars": {"ansible_python_interpreter": str(VENV_BIN / "python")},
            "roles": [
                {
                    "role": "diskless.datacenter.rds",
                    "rds_api": {"hostname": "192.0.2.1", "username": "admin", "password": "x"},  # never contacted
                    "rds_vlans": [{"id": 64, "name": "mgmt", "address": "10.42.64.1/24"}, {"id": 5000, "name": "Bad Name"}],
                    "rds_ports": [{"interface": "sfp28-1", "pvid": 65, "tagged": [67]}, {"interface": "sfp28-1"}],
                    "rds_netboot_vlan": 65,
                    "rds_nvme_exports": [{"slot": "vol1"}],
                }
            ],
        }
    ]
    playbook = tmp_path / "bad.yml"
    playbook.write_text(yaml.safe_dump(play))
    result = subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), "-i", "localhost,", str(playbook)],
        capture_output=True, text=True, env=ansible_env(), cwd=REPO, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    message = json.loads(result.stdout)["plays"][0]["tasks"][-1]["hosts"]["localhost"]["msg"]
    for problem in (
        "rds_vlans[1]: id=5000: must be a VLAN ID from 1 to 4094",
        "rds_vlans[1]: name=Bad Name: must be a short lowercase name",
        "rds_ports[0] (sfp28-1): VLAN 65: not in rds_vlans",
        "rds_ports[0] (sfp28-1): VLAN 67: not in rds_vlans",
        "rds_ports[1] (sfp28-1): interface=sfp28-1: port listed twice",
        "rds_netboot_vlan=65: not in rds_vlans",
        "rds_nvme_exports[0]: file_path=(missing): required",
        "rds_nvme_exports[0]: size=(missing): required",
    ):
        assert problem in message, message
