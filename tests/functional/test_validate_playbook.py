"""playbooks/validate.yml and site.yml against good and bad inventories, run as a user would."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from tests.support.playbook import REPO, VENV_BIN, ansible_env


def ansible_playbook(inventory: Path, playbook: str) -> subprocess.CompletedProcess[str]:
    env = ansible_env(ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default")
    return subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), playbook],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
        check=False,
    )


def broken_copy_of_example(tmp_path: Path) -> Path:
    inventory = tmp_path / "inventory"
    shutil.copytree(REPO / "inventories" / "example", inventory)
    host_vars = inventory / "host_vars"
    r640 = yaml.safe_load((host_vars / "r640.yml").read_text())
    r640.update(dc_macs=["b0:26:28:0c:41:40"], dc_host_octet=92, dc_kernal_params="quiet")  # c4140's MAC and IP, and a typo
    (host_vars / "r640.yml").write_text(yaml.safe_dump(r640))
    dpu = yaml.safe_load((host_vars / "r740xd-dpu.yml").read_text())
    dpu["dc_host"] = "r750"
    (host_vars / "r740xd-dpu.yml").write_text(yaml.safe_dump(dpu))
    return inventory


def test_validate_passes_on_the_reference_datacenter() -> None:
    result = ansible_playbook(REPO / "inventories" / "example", "playbooks/validate.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "inventory is valid: 8 VLANs, 1 rds, 1 boot_servers, 3 dpus, 3 diskless_hosts" in result.stdout


def test_validate_lists_every_problem(tmp_path: Path) -> None:
    result = ansible_playbook(broken_copy_of_example(tmp_path), "playbooks/validate.yml")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for problem in (
        "r640: dc_macs='b0:26:28:0c:41:40': duplicate MAC: also used by c4140",
        "r640: address on VLAN 65='10.42.65.92': duplicate IP: also used by c4140",
        "r640: dc_kernal_params='quiet': unknown inventory key (typo?)",
        "r740xd-dpu: dc_host='r750': unknown host: not in group diskless_hosts",
    ):
        assert problem in output, output


def test_nothing_else_in_site_runs_when_validation_fails(tmp_path: Path) -> None:
    result = ansible_playbook(broken_copy_of_example(tmp_path), "site.yml")
    assert result.returncode != 0
    plays = [line for line in result.stdout.splitlines() if line.startswith("PLAY [")]
    assert plays == [plays[0]] and "Validate the datacenter inventory" in plays[0], result.stdout
    assert "Boot services" not in result.stdout
