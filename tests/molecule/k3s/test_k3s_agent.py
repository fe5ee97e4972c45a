"""The K3s agents' files on the boot server: in each diskless host's own /etc, never in the shared image."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.k3s_documented_options import AGENT_OPTIONS

testinfra_hosts = ["podman://dc-molecule-k3s-boot"]  # podman exec: quicker than through Ansible
STATE = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"))
NODES = {"node-a": "10.42.67.92", "node-b": "10.42.67.82"}
IMAGE_ETC = "/srv/diskless/images/debian-bookworm/0123456789ab/root/etc"


def agent_token() -> str:
    return (STATE / "k3s-secrets" / "agent-token").read_text().strip()


@pytest.mark.parametrize("node", sorted(NODES))
def test_agent_config_in_the_hosts_own_etc(host: Any, node: str) -> None:
    config_file = host.file(f"/srv/diskless/hosts/{node}/etc/rancher/k3s/config.yaml")
    assert (config_file.user, config_file.mode) == ("root", 0o600)
    config = yaml.safe_load(config_file.content_string)
    assert set(config) <= AGENT_OPTIONS, set(config) - AGENT_OPTIONS
    assert config["server"].startswith("https://") and config["server"].endswith(":6443")
    assert (config["token"], config["node-name"], config["node-ip"]) == (agent_token(), node, NODES[node])
    assert (config["node-label"], config["kubelet-arg"]) == (["dc.diskless/role=worker"], ["max-pods=200"])


# Walks the given trees for files holding the token. The token travels base64-encoded: a command line
# naming it would itself land in the journal and in Ansible's temporary files.
FIND_TOKEN = """
import base64, os, sys
token = base64.b64decode(sys.argv[1])
for top in sys.argv[2:]:
    for root, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(root, d))]
        for name in files:
            path = os.path.join(root, name)
            try:
                with open(path, "rb") as handle:
                    if token in handle.read():
                        print(path)
            except OSError:
                pass
"""


def test_agent_token_is_nowhere_else(host: Any) -> None:
    encoded = base64.b64encode(agent_token().encode()).decode()
    found = host.run("python3 -c %s %s /srv /etc /root /var /tmp /opt /usr/local", FIND_TOKEN, encoded)
    assert found.rc == 0, found.stderr
    expected = sorted(f"/srv/diskless/hosts/{node}/etc/rancher/k3s/config.yaml" for node in NODES)
    assert sorted(found.stdout.split()) == expected
    assert not host.file(f"{IMAGE_ETC}/rancher").exists
    assert not host.file(f"{IMAGE_ETC}/systemd/system/k3s-agent.service").exists


@pytest.mark.parametrize("node", sorted(NODES))
def test_state_on_tmpfs_mount_units(host: Any, node: str) -> None:
    system = f"/srv/diskless/hosts/{node}/etc/systemd/system"
    for path, unit in (("/var/lib/rancher", "var-lib-rancher.mount"), ("/var/lib/kubelet", "var-lib-kubelet.mount")):
        assert host.run("systemd-escape --path --suffix=mount %s", path).stdout.strip() == unit
        content = host.file(f"{system}/{unit}").content_string
        assert f"Where={path}" in content and "Type=tmpfs" in content
        assert host.file(f"{system}/local-fs.target.wants/{unit}").linked_to == f"{system}/{unit}"
    verified = host.run(f"systemd-analyze verify --man=no {system}/var-lib-rancher.mount {system}/var-lib-kubelet.mount")
    assert (verified.rc, verified.stdout + verified.stderr) == (0, "")


@pytest.mark.parametrize("node", sorted(NODES))
def test_agent_unit_enabled_and_valid_apart_from_the_images_binary(host: Any, node: str) -> None:
    system = f"/srv/diskless/hosts/{node}/etc/systemd/system"
    assert host.file(f"{system}/multi-user.target.wants/k3s-agent.service").linked_to == f"{system}/k3s-agent.service"
    unit = host.file(f"{system}/k3s-agent.service").content_string
    assert "After=network-online.target local-fs.target remote-fs.target" in unit
    assert "RequiresMountsFor=/var/lib/rancher /var/lib/kubelet" in unit
    verified = host.run(f"systemd-analyze verify --man=no {system}/k3s-agent.service")
    # The binary comes with the host's image, not with the boot server.
    assert (verified.stdout + verified.stderr).strip().splitlines() == [
        "k3s-agent.service: Command /usr/local/bin/k3s is not executable: No such file or directory"
    ]
