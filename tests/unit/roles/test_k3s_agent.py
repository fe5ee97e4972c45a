"""roles/k3s_agent run for several diskless hosts against a local "boot server" holding their own /etc trees.

One ansible-playbook run covers every case (a rerun changing nothing is the Molecule scenario's idempotence step).
The files are checked as the host will read them: config.yaml keys against K3s's documented agent
options, modes, the agent unit's ordering, the mount units (names as systemd-escape makes them), the
links that enable them, the token found nowhere but in the host's own /etc, and never printed.
"""

from __future__ import annotations

import configparser
import io
import os
import shutil
import stat
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.k3s_documented_options import AGENT_OPTIONS
from tests.support.playbook import Case, Outcome, run_role

TOKENS = {name: f"agent-token-of-{name}-0123456789abcdefghijklmnop" for name in ("node-a", "node-b", "node-uncovered")}
SERVER_URL = "https://10.42.67.93:6443"
NVME = "/dev/disk/by-id/nvme-MikroTik_pvc-node-b-var"


def make_tree(root: Path) -> dict[str, Path]:
    """The boot server's layout: shared images (with /etc) and each host's own /etc, as the boot layer leaves them."""
    image_etc = root / "images" / "debian-bookworm" / "0123456789ab" / "root" / "etc"
    image_etc.mkdir(parents=True)
    (image_etc / "hostname").write_text("image\n")
    for node in ("node-a", "node-b", "node-uncovered", "node-badinput"):
        (root / "hosts" / node / "etc").mkdir(parents=True)
        (root / "hosts" / node / "etc" / "hostname").write_text(f"{node}\n")
    return {"hosts": root / "hosts", "images": root / "images", "image_etc": image_etc, "bundles": root / "boot" / "etc"}


def cases(tree: dict[str, Path]) -> list[Case]:
    common = {
        "k3s_agent_boot_server": "boot",
        "k3s_agent_hosts_root": str(tree["hosts"]),
        "k3s_agent_shared_image_roots": [str(tree["images"])],
        "k3s_agent_etc_bundle_dir": str(tree["bundles"]),
    }
    hosts: dict[str, dict[str, Any]] = {
        "node-a": {
            "k3s_agent_server_url": SERVER_URL,
            "k3s_agent_token": TOKENS["node-a"],
            "k3s_agent_node_ip": "10.42.67.92",
            "k3s_agent_node_labels": ["dc.diskless/gpu=v100", "topology.kubernetes.io/zone=rack1"],
            "k3s_agent_node_taints": ["nvidia.com/gpu=present:NoSchedule"],
            "k3s_agent_kubelet_args": ["max-pods=250"],
        },
        "node-b": {
            "k3s_agent_server_url": SERVER_URL,
            "k3s_agent_token": TOKENS["node-b"],
            "k3s_agent_enabled": False,
            "k3s_agent_etc_delivery": "nfs",
            "k3s_agent_airgap_images_dir": "/usr/local/share/k3s/images",
            "k3s_agent_state_mounts": [
                {"path": "/var/lib/rancher", "what": NVME, "type": "ext4", "options": "_netdev,noatime"},
                {"path": "/var/lib/kubelet", "what": "tmpfs", "type": "tmpfs", "options": "mode=0755,size=2G"},
            ],
        },
        "node-missing": {"k3s_agent_server_url": SERVER_URL, "k3s_agent_token": "agent-token-of-node-missing-0123456789"},
        "node-inimage": {
            "k3s_agent_server_url": SERVER_URL,
            "k3s_agent_token": "agent-token-of-node-inimage-0123456789",
            "k3s_agent_etc_root": str(tree["image_etc"]),
        },
        "node-uncovered": {
            "k3s_agent_server_url": SERVER_URL,
            "k3s_agent_token": TOKENS["node-uncovered"],
            "k3s_agent_state_mounts": [{"path": "/var/lib/kubelet", "what": "tmpfs", "type": "tmpfs"}],
        },
        "node-badinput": {
            "k3s_agent_server_url": "http://10.42.67.93:6443",
            "k3s_agent_token": "",
            "k3s_agent_node_labels": ["no equals sign"],
            "k3s_agent_state_mounts": [
                {"path": "/var/lib/rancher", "what": "/srv/not-a-device", "type": "ext4"},
                {"path": "/var/lib/kubelet", "what": "tmpfs", "type": "tmpfs"},
            ],
        },
    }
    return [Case(name="k3s agents", hosts={name: {**common, **host_vars} for name, host_vars in hosts.items()}, groups=("diskless_hosts",))]


@dataclass
class AgentsRun:
    tree: dict[str, Path]
    outcomes: dict[str, Outcome]
    output: str


@pytest.fixture(scope="module")
def agents(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentsRun]:
    root = tmp_path_factory.mktemp("k3s-agent")
    tree = make_tree(root / "boot")
    outcomes, output = run_role("k3s_agent", cases(tree), root / "run", extra_hosts=("boot",))
    yield AgentsRun(tree, outcomes, output)
    shutil.rmtree(root, ignore_errors=True)


def etc(tree: dict[str, Path], node: str) -> Path:
    return tree["hosts"] / node / "etc"


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text())
    return parser


def escape(path: str) -> str:
    return subprocess.run(["systemd-escape", "--path", "--suffix=mount", path], capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.parametrize("node", ["node-a", "node-b"])
def test_agent_config_uses_documented_options_and_is_root_only(agents: AgentsRun, node: str) -> None:
    tree, outcomes = agents.tree, agents.outcomes
    assert not outcomes[node].failed, outcomes[node].msg
    config_file = etc(tree, node) / "rancher" / "k3s" / "config.yaml"
    info = config_file.stat()
    assert (stat.S_IMODE(info.st_mode), info.st_uid) == (0o600, 0)
    assert stat.S_IMODE((etc(tree, node) / "rancher" / "k3s").stat().st_mode) == 0o700
    config = yaml.safe_load(config_file.read_text())
    assert set(config) <= AGENT_OPTIONS, set(config) - AGENT_OPTIONS
    assert config["server"] == SERVER_URL
    assert config["token"] == TOKENS[node]
    assert config["node-name"] == node


def test_agent_config_carries_labels_taints_and_kubelet_args(agents: AgentsRun) -> None:
    tree = agents.tree
    config = yaml.safe_load((etc(tree, "node-a") / "rancher" / "k3s" / "config.yaml").read_text())
    assert config["node-ip"] == "10.42.67.92"
    assert config["node-label"] == ["dc.diskless/gpu=v100", "topology.kubernetes.io/zone=rack1"]
    assert config["node-taint"] == ["nvidia.com/gpu=present:NoSchedule"]
    assert config["kubelet-arg"] == ["max-pods=250"]
    assert "node-ip" not in yaml.safe_load((etc(tree, "node-b") / "rancher" / "k3s" / "config.yaml").read_text())


def test_agent_unit_waits_for_network_root_and_state_mounts(agents: AgentsRun) -> None:
    tree = agents.tree
    service = unit(etc(tree, "node-a") / "systemd" / "system" / "k3s-agent.service")
    assert "network-online.target" in service["Unit"]["Wants"].split()
    assert {"network-online.target", "local-fs.target", "remote-fs.target"} <= set(service["Unit"]["After"].split())
    assert service["Unit"]["RequiresMountsFor"].split() == ["/var/lib/rancher", "/var/lib/kubelet"]
    assert service["Service"]["ExecStart"] == "/usr/local/bin/k3s agent --config /etc/rancher/k3s/config.yaml"
    assert service["Service"]["Type"] == "notify"
    link = etc(tree, "node-a") / "systemd" / "system" / "multi-user.target.wants" / "k3s-agent.service"
    assert os.readlink(link) == "../k3s-agent.service"
    assert link.resolve() == (etc(tree, "node-a") / "systemd" / "system" / "k3s-agent.service").resolve()


def test_state_on_tmpfs_by_default(agents: AgentsRun) -> None:
    tree = agents.tree
    system = etc(tree, "node-a") / "systemd" / "system"
    for path in ("/var/lib/rancher", "/var/lib/kubelet"):
        name = escape(path)
        mount = unit(system / name)
        assert mount["Mount"]["Where"] == path
        assert (mount["Mount"]["What"], mount["Mount"]["Type"]) == ("tmpfs", "tmpfs")
        assert "mode=0755" in mount["Mount"]["Options"].split(",")
        assert mount["Install"]["WantedBy"] == "local-fs.target"
        assert os.readlink(system / "local-fs.target.wants" / name) == f"../{name}"


def test_state_on_a_network_block_device_and_agent_disabled(agents: AgentsRun) -> None:
    tree = agents.tree
    system = etc(tree, "node-b") / "systemd" / "system"
    rancher = unit(system / escape("/var/lib/rancher"))
    assert (rancher["Mount"]["What"], rancher["Mount"]["Type"], rancher["Mount"]["Options"]) == (NVME, "ext4", "_netdev,noatime")
    assert "DefaultDependencies" not in rancher["Unit"]
    assert rancher["Install"]["WantedBy"] == "remote-fs.target"
    assert (system / "remote-fs.target.wants" / escape("/var/lib/rancher")).is_symlink()
    assert not (system / "multi-user.target.wants" / "k3s-agent.service").exists()
    service = (system / "k3s-agent.service").read_text()
    assert "cp -u /usr/local/share/k3s/images/* /var/lib/rancher/k3s/agent/images/" in service


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze (package systemd) is not installed")
@pytest.mark.parametrize("node", ["node-a", "node-b"])
def test_units_pass_systemd_analyze_verify(agents: AgentsRun, node: str) -> None:
    tree = agents.tree
    system = etc(tree, node) / "systemd" / "system"
    mounts = sorted(str(path) for path in system.glob("*.mount"))
    assert len(mounts) == 2
    verified = subprocess.run(["systemd-analyze", "verify", "--man=no", *mounts], capture_output=True, text=True, check=False)
    assert (verified.returncode, verified.stdout + verified.stderr) == (0, "")
    # The binary lives in the host's image, not on the boot server: that must be the only complaint.
    service = subprocess.run(["systemd-analyze", "verify", "--man=no", str(system / "k3s-agent.service")], capture_output=True, text=True, check=False)
    complaints = (service.stdout + service.stderr).strip().splitlines()
    assert complaints == ["k3s-agent.service: Command /usr/local/bin/k3s is not executable: No such file or directory"]


def test_token_only_in_each_hosts_own_etc_and_never_printed(agents: AgentsRun) -> None:
    tree, output = agents.tree, agents.output
    for node, token in TOKENS.items():
        holders = [path for path in tree["hosts"].parent.rglob("*") if path.is_file() and token in path.read_text(errors="replace")]
        expected = [] if node == "node-uncovered" else [etc(tree, node) / "rancher" / "k3s" / "config.yaml"]
        assert holders == expected, (node, holders)
        assert token not in output


def test_failures_name_the_problem_and_change_nothing(agents: AgentsRun) -> None:
    tree, outcomes = agents.tree, agents.outcomes
    expected = {
        "node-missing": ["/node-missing/etc: no such directory; the boot layer"],
        "node-inimage": ["inside the shared images"],
        "node-uncovered": ["k3s_agent_state_paths: /var/lib/rancher: not on any of k3s_agent_state_mounts"],
        "node-badinput": [
            "k3s_agent_server_url=http://10.42.67.93:6443",
            "k3s_agent_token: empty",
            "k3s_agent_node_labels: no equals sign",
            "what=/srv/not-a-device: a ext4 mount needs a block device under /dev",
        ],
    }
    for node, fragments in expected.items():
        assert outcomes[node].failed, node
        for fragment in fragments:
            assert fragment in outcomes[node].msg, (node, outcomes[node].msg)
        assert outcomes[node].changed == [], (node, outcomes[node].changed)
    assert not (tree["image_etc"] / "rancher").exists()
    assert not (etc(tree, "node-uncovered") / "rancher").exists()


def test_sealed_delivery_seals_the_written_etc_for_the_host_alone(agents: AgentsRun) -> None:
    tree = agents.tree
    assert sorted(path.name for path in tree["bundles"].iterdir()) == ["node-a.cms"], "node-b has the nfs delivery, the others failed"
    bundle = tree["bundles"] / "node-a.cms"
    assert TOKENS["node-a"].encode() not in bundle.read_bytes()
    key = (tree["hosts"] / "node-a" / "etc-key").read_text().strip()
    assert stat.S_IMODE((tree["hosts"] / "node-a" / "etc-key").stat().st_mode) == 0o600
    opened = subprocess.run(
        ["openssl", "cms", "-decrypt", "-binary", "-inform", "DER", "-secretkey", key, "-secretkeyid", b"diskless-etc".hex(), "-in", str(bundle)],
        capture_output=True, check=False,
    )  # fmt: skip
    assert opened.returncode == 0, opened.stderr
    with tarfile.open(fileobj=io.BytesIO(opened.stdout)) as tar:
        config = tar.extractfile("./rancher/k3s/config.yaml")
        assert config is not None and TOKENS["node-a"] in config.read().decode()
    assert key not in agents.output
