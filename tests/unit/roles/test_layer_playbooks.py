"""playbooks/control_plane.yml and playbooks/workers.yml on the reference datacenter (inventories/example).

The playbooks map the inventory model onto the roles' variables; this runs them as a user would, with
every DPU and the boot server on the local connection, each writing into its own directory tree here
(paths and the controller's HOME redirected, the K3s service start disabled, fake airgap artifacts).
etcd is skipped (it needs systemd; extensions/molecule/etcd runs it). The rendered files must carry
the model's addresses: the DPUs' control-VLAN addresses as node IPs and etcd endpoints, the first
DPU as API endpoint, the VLAN plan as reserved networks, and the agents the token the servers made.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.k3s_airgap import write_airgap
from tests.support.playbook import REPO, VENV_BIN, ansible_env

DPUS = {"c4140-dpu": "10.42.67.93", "r640-dpu": "10.42.67.83", "r740xd-dpu": "10.42.67.43"}
HOSTS = {"c4140": "10.42.67.92", "r640": "10.42.67.82", "r740xd": "10.42.67.42"}
DOMAIN = "lab.diskless.example"


def run_playbook(playbook: str, root: Path, extra: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    return subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), "-i", str(REPO / "inventories/example"), playbook, "-e", json.dumps(local | extra), *args],
        capture_output=True,
        text=True,
        env=ansible_env(ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default", HOME=str(root / "home")),
        cwd=REPO,
        check=False,
        timeout=300,
    )


def server_paths(root: Path) -> dict[str, str]:
    tree = f"{root}/dpu/{{{{ inventory_hostname }}}}"
    return {
        "k3s_server_binary_path": f"{tree}/usr/local/bin/k3s",
        "k3s_server_config_dir": f"{tree}/etc/rancher/k3s",
        "k3s_server_data_dir": f"{tree}/var/lib/rancher/k3s",
        "k3s_server_systemd_dir": f"{tree}/etc/systemd/system",
    }


@dataclass
class LayerRuns:
    root: Path
    control_plane: subprocess.CompletedProcess[str]
    overlapping: subprocess.CompletedProcess[str]
    workers: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def datacenter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LayerRuns]:
    root = tmp_path_factory.mktemp("layers")
    (root / "home").mkdir()
    write_airgap(root / "airgap")
    pki = root / "etcd-pki"
    pki.mkdir()
    for name in ("ca.crt", "client.crt", "client.key"):
        (pki / name).write_text(f"stand-in {name}\n")
    for host in HOSTS:
        (root / "boot" / "hosts" / host / "etc").mkdir(parents=True)
    server_extra = {
        **server_paths(root),
        "k3s_server_arch": "arm64",
        "k3s_server_airgap_dir": str(root / "airgap"),
        "k3s_server_service_start": False,
        "k3s_server_datastore_cafile": str(pki / "ca.crt"),
        "k3s_server_datastore_certfile": str(pki / "client.crt"),
        "k3s_server_datastore_keyfile": str(pki / "client.key"),
    }
    control_plane = run_playbook("playbooks/control_plane.yml", root, server_extra, "--skip-tags", "etcd")
    overlapping = run_playbook(
        "playbooks/control_plane.yml", root, server_extra | {"k3s_server_cluster_cidr": "10.42.64.0/20"}, "--tags", "k3s_server_preflight"
    )
    boot_extra = {"netboot_hosts_root": str(root / "boot/hosts"), "netboot_image_store": str(root / "boot/images")}
    workers = run_playbook("playbooks/workers.yml", root, boot_extra)
    yield LayerRuns(root, control_plane, overlapping, workers)
    shutil.rmtree(root, ignore_errors=True)


def server_config(root: Path, dpu: str) -> dict[str, Any]:
    return dict(yaml.safe_load((root / "dpu" / dpu / "etc/rancher/k3s/config.yaml").read_text()))


def test_control_plane_renders_every_dpu_from_the_model(datacenter: LayerRuns) -> None:
    root, control_plane = datacenter.root, datacenter.control_plane
    assert control_plane.returncode == 0, control_plane.stdout[-4000:] + control_plane.stderr[-2000:]
    endpoints = ",".join(f"https://{address}:2379" for address in DPUS.values())
    for dpu, address in DPUS.items():
        config = server_config(root, dpu)
        assert (config["node-ip"], config["advertise-address"]) == (address, address)
        assert config["datastore-endpoint"] == endpoints
        assert config["tls-san"] == [DPUS["c4140-dpu"]]
    secrets = root / "home/.diskless-datacenter" / DOMAIN / "k3s"
    assert server_config(root, "r640-dpu")["token"] == (secrets / "token").read_text().strip()


def test_control_plane_checks_the_cluster_networks_against_the_vlan_plan(datacenter: LayerRuns) -> None:
    overlapping = datacenter.overlapping
    output = overlapping.stdout + overlapping.stderr
    assert overlapping.returncode != 0
    for vlan in range(64, 72):
        assert f"k3s_server_cluster_cidr=10.42.64.0/20: overlaps 10.42.{vlan}.0/24 of the datacenter network plan" in output


def test_workers_write_each_hosts_agent_into_its_own_etc_on_the_boot_server(datacenter: LayerRuns) -> None:
    root, workers = datacenter.root, datacenter.workers
    assert workers.returncode == 0, workers.stdout[-4000:] + workers.stderr[-2000:]
    agent_token = (root / "home/.diskless-datacenter" / DOMAIN / "k3s/agent-token").read_text().strip()
    for host, address in HOSTS.items():
        config = yaml.safe_load((root / "boot/hosts" / host / "etc/rancher/k3s/config.yaml").read_text())
        assert config["server"] == f"https://{DPUS['c4140-dpu']}:6443"
        assert (config["node-name"], config["node-ip"], config["token"]) == (host, address, agent_token)
        assert (root / "boot/hosts" / host / "etc/systemd/system/var-lib-rancher.mount").is_file()
    assert agent_token not in workers.stdout + workers.stderr
