"""The K3s server's files on the "DPU" container, as K3s and systemd would read them (the service never starts)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from tests.support.k3s_documented_options import SERVER_OPTIONS

testinfra_hosts = ["podman://dc-molecule-k3s-dpu"]  # podman exec: quicker than through Ansible
STATE = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/nonexistent"))


def released_sums() -> dict[str, str]:
    lines = (STATE / "airgap" / "sha256sum-arm64.txt").read_text().splitlines()
    return {name: digest for digest, name in (line.split() for line in lines)}


def test_config_is_root_only_and_uses_documented_options(host: Any) -> None:
    config = host.file("/etc/rancher/k3s/config.yaml")
    assert (config.user, config.mode) == ("root", 0o600)
    assert host.file("/etc/rancher/k3s").mode == 0o700
    keys = set(yaml.safe_load(config.content_string))
    assert keys <= SERVER_OPTIONS, keys - SERVER_OPTIONS


def test_config_has_the_reference_flags_and_the_external_etcd(host: Any) -> None:
    config = yaml.safe_load(host.file("/etc/rancher/k3s/config.yaml").content_string)
    address = next(address for address in host.interface("eth0").addresses if "." in address)
    assert config["flannel-backend"] == "none"
    assert config["disable-network-policy"] is True and config["disable-kube-proxy"] is True
    assert config["disable"] == ["traefik", "servicelb"]
    assert (config["cluster-cidr"], config["service-cidr"], config["cluster-dns"]) == ("10.142.0.0/16", "10.143.0.0/16", "10.143.0.10")
    assert config["datastore-endpoint"] == f"https://{address}:2379"
    assert (config["datastore-cafile"], config["datastore-certfile"], config["datastore-keyfile"]) == (
        "/etc/etcd/pki/ca.crt",
        "/etc/etcd/pki/client.crt",
        "/etc/etcd/pki/client.key",
    )
    assert config["node-label"] == ["dc.diskless/role=dpu"]


def test_tokens_come_from_the_controllers_private_files(host: Any) -> None:
    config = yaml.safe_load(host.file("/etc/rancher/k3s/config.yaml").content_string)
    secrets = STATE / "k3s-secrets"
    assert oct(secrets.stat().st_mode & 0o777) == "0o700"
    for key, name in (("token", "token"), ("agent-token", "agent-token")):
        assert oct((secrets / name).stat().st_mode & 0o777) == "0o600"
        assert config[key] == (secrets / name).read_text().strip()


def test_airgap_artifacts_match_the_released_checksums(host: Any) -> None:
    sums = released_sums()
    binary = host.file("/usr/local/bin/k3s")
    assert binary.mode == 0o755
    assert binary.sha256sum == sums["k3s-arm64"]
    assert host.file("/var/lib/rancher/k3s/agent/images/k3s-airgap-images-arm64.tar.zst").sha256sum == sums["k3s-airgap-images-arm64.tar.zst"]


def test_unit_is_valid_and_the_service_was_not_started(host: Any) -> None:
    verified = host.run("systemd-analyze verify --man=no /etc/systemd/system/k3s.service")
    assert (verified.rc, verified.stdout + verified.stderr) == (0, "")
    assert "ExecStart=/usr/local/bin/k3s server --config /etc/rancher/k3s/config.yaml" in host.file("/etc/systemd/system/k3s.service").content_string
    service = host.service("k3s")
    assert not service.is_running
    assert not service.is_enabled
