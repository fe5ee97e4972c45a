"""roles/k3s_server run locally for several clusters, with fake airgap artifacts and the service start disabled.

Every case is a play of one ansible-playbook run; each server's files land in its own directory tree
under the test's temporary directory. The rendered config.yaml is checked against K3s's documented
server options, the reference flags, the datastore (external etcd or embedded), the token placement
and modes; the preflight failures must name their problem and leave nothing changed. (A rerun changing
nothing is the Molecule scenario's idempotence step.)
"""

from __future__ import annotations

import shutil
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.k3s_airgap import FAKE_K3S, write_airgap
from tests.support.k3s_documented_options import SERVER_OPTIONS
from tests.support.playbook import Case, Outcome, run_role

# The reference datacenter's VLAN plan (inventories/example): 10.42.64.0/18, VLAN N = 10.42.N.0/24.
VLAN_SUBNETS = [f"10.42.{vlan}.0/24" for vlan in range(64, 72)]
ETCD = ["https://10.42.67.93:2379", "https://10.42.67.83:2379", "https://10.42.67.43:2379"]
GIVEN_TOKEN = "given-server-token-0123456789abcdefghij"
GIVEN_AGENT_TOKEN = "given-agent-token-0123456789abcdefghijk"


def server(root: Path, name: str, address: str, **role_vars: Any) -> tuple[str, dict[str, Any]]:
    """A server's host variables: its facts, and every path of the role inside its own tree."""
    tree = root / "servers" / name
    return name, {
        "ansible_architecture": "aarch64",
        "ansible_default_ipv4": {"address": address},
        "k3s_server_binary_path": str(tree / "usr/local/bin/k3s"),
        "k3s_server_config_dir": str(tree / "etc/rancher/k3s"),
        "k3s_server_data_dir": str(tree / "var/lib/rancher/k3s"),
        "k3s_server_systemd_dir": str(tree / "etc/systemd/system"),
        **role_vars,
    }


def etcd_client_files(root: Path) -> dict[str, str]:
    """Stand-ins for the etcd role's CA and client certificate on the server."""
    pki = root / "etcd-pki"
    pki.mkdir(parents=True, exist_ok=True)
    for name in ("ca.crt", "client.crt", "client.key"):
        (pki / name).write_text(f"fake {name}\n")
    return {
        "k3s_server_datastore_cafile": str(pki / "ca.crt"),
        "k3s_server_datastore_certfile": str(pki / "client.crt"),
        "k3s_server_datastore_keyfile": str(pki / "client.key"),
    }


def good_cases(root: Path) -> list[Case]:
    common = {"k3s_server_secrets_dir": str(root / "secrets"), "k3s_server_reserved_networks": VLAN_SUBNETS, "k3s_server_service_start": False}
    embedded = {"k3s_server_members": ["emb-1", "emb-2", "emb-3"], "k3s_server_datastore": "embedded"}
    hosts = dict(
        [
            # The first host makes the token files (a run_once task); the others read them.
            server(root, "ext-1", "10.42.67.93", k3s_server_members=["ext-1"], k3s_server_datastore_endpoints=ETCD, **etcd_client_files(root)),
            server(root, "emb-1", "10.42.67.11", **embedded),
            server(root, "emb-2", "10.42.67.12", **embedded),
            server(
                root,
                "emb-3",
                "10.42.67.13",
                **embedded,
                k3s_server_config={"disable-kube-proxy": None, "cluster-domain": "dc.internal", "kube-apiserver-arg": ["audit-log-maxage=7"]},
            ),
            server(
                root,
                "tok-good",
                "10.42.67.21",
                k3s_server_members=["tok-good"],
                k3s_server_datastore="embedded",
                k3s_server_token=GIVEN_TOKEN,
                k3s_server_agent_token=GIVEN_AGENT_TOKEN,
            ),
        ]
    )
    return [Case(name="good clusters", hosts=hosts, groups=("dpus",), role_vars={**common, "k3s_server_airgap_dir": str(root / "airgap")})]


def failing_cases(root: Path) -> list[Case]:
    write_airgap(root / "airgap-wrong", wrong_sum=True)
    (root / "airgap-empty").mkdir()
    embedded = {"k3s_server_datastore": "embedded"}

    def alone(name: str, address: str, **extra: Any) -> tuple[str, dict[str, Any]]:
        return server(root, name, address, k3s_server_members=[name], **extra)

    # Preflight reports every problem at once: one host can carry several.
    hosts = dict(
        [
            alone("not-dpu", "10.42.65.5", **embedded),
            alone(
                "bad-networks",
                "10.42.67.31",
                **embedded,
                k3s_server_cluster_cidr="10.42.0.0/16",
                k3s_server_cluster_dns="10.42.70.10",
                k3s_server_token="abcdef.0123456789abcdef",
                k3s_server_agent_token="agent token with spaces in it 0123456789",
            ),
            alone(
                "bad-datastore",
                "10.42.67.32",
                k3s_server_datastore_cafile=str(root / "missing/ca.crt"),
                k3s_server_token="short-token",
                k3s_server_agent_token="K10" + "a" * 64 + "::server:" + "b" * 32,
            ),
            server(root, "even-1", "10.42.67.34", k3s_server_members=["even-1", "even-2"], **embedded),
            server(root, "even-2", "10.42.67.35", k3s_server_members=["even-1", "even-2"], **embedded),
            alone("no-airgap", "10.42.67.41", **embedded, k3s_server_airgap_dir=str(root / "airgap-empty")),
            alone("bad-sum", "10.42.67.42", **embedded, k3s_server_airgap_dir=str(root / "airgap-wrong")),
        ]
    )
    for host_vars in hosts.values():
        host_vars.setdefault("k3s_server_airgap_dir", str(root / "airgap"))
    common = {"k3s_server_secrets_dir": str(root / "secrets-failing"), "k3s_server_service_start": False, "k3s_server_reserved_networks": VLAN_SUBNETS}
    return [Case(name="bad input", hosts=hosts, groups=("dpus",), outside_groups=("not-dpu",), role_vars=common)]


@dataclass
class ServersRun:
    root: Path
    outcomes: dict[str, Outcome]
    output: str


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServersRun]:
    root = tmp_path_factory.mktemp("k3s-server")
    write_airgap(root / "airgap")
    outcomes, output = run_role("k3s_server", good_cases(root) + failing_cases(root), root / "run")
    yield ServersRun(root, outcomes, output)
    shutil.rmtree(root, ignore_errors=True)


def tree(root: Path, name: str) -> Path:
    return root / "servers" / name


def config_of(root: Path, name: str) -> dict[str, Any]:
    return dict(yaml.safe_load((tree(root, name) / "etc/rancher/k3s/config.yaml").read_text()))


@pytest.mark.parametrize("name", ["ext-1", "emb-1", "emb-2", "emb-3", "tok-good"])
def test_config_uses_documented_server_options_only_and_is_root_only(servers: ServersRun, name: str) -> None:
    root, outcomes = servers.root, servers.outcomes
    assert not outcomes[name].failed, outcomes[name].msg
    config = config_of(root, name)
    assert set(config) <= SERVER_OPTIONS, set(config) - SERVER_OPTIONS
    config_file = tree(root, name) / "etc/rancher/k3s/config.yaml"
    assert (stat.S_IMODE(config_file.stat().st_mode), config_file.stat().st_uid) == (0o600, 0)
    assert stat.S_IMODE(config_file.parent.stat().st_mode) == 0o700


def test_reference_flags_are_the_defaults(servers: ServersRun) -> None:
    root = servers.root
    config = config_of(root, "ext-1")
    assert config["flannel-backend"] == "none"
    assert config["disable-network-policy"] is True
    assert config["disable-kube-proxy"] is True
    assert config["disable"] == ["traefik", "servicelb"]
    assert (config["cluster-cidr"], config["service-cidr"], config["cluster-dns"]) == ("10.142.0.0/16", "10.143.0.0/16", "10.143.0.10")
    assert (config["node-ip"], config["advertise-address"]) == ("10.42.67.93", "10.42.67.93")
    assert config["tls-san"] == ["10.42.67.93"]
    assert config["write-kubeconfig-mode"] == "0600"


def test_external_datastore_is_the_etcd_cluster_with_client_certificates(servers: ServersRun) -> None:
    root = servers.root
    config = config_of(root, "ext-1")
    assert config["datastore-endpoint"] == ",".join(ETCD)
    assert config["datastore-cafile"] == str(root / "etcd-pki/ca.crt")
    assert config["datastore-certfile"] == str(root / "etcd-pki/client.crt")
    assert config["datastore-keyfile"] == str(root / "etcd-pki/client.key")
    assert "cluster-init" not in config and "server" not in config


def test_embedded_datastore_first_server_initialises_the_others_join_it(servers: ServersRun) -> None:
    root = servers.root
    first, second, third = (config_of(root, name) for name in ("emb-1", "emb-2", "emb-3"))
    assert first["cluster-init"] is True and "server" not in first
    for joiner in (second, third):
        assert joiner["server"] == "https://10.42.67.11:6443"
        assert "cluster-init" not in joiner and "datastore-endpoint" not in joiner
    assert first["token"] == second["token"] == third["token"]
    assert first["agent-token"] == second["agent-token"] == third["agent-token"] != first["token"]


def test_overrides_add_and_remove_options(servers: ServersRun) -> None:
    root = servers.root
    config = config_of(root, "emb-3")
    assert "disable-kube-proxy" not in config
    assert config["cluster-domain"] == "dc.internal"
    assert config["kube-apiserver-arg"] == ["audit-log-maxage=7"]


def test_tokens_made_once_on_the_controller_and_kept_private(servers: ServersRun) -> None:
    root, output = servers.root, servers.output
    secrets = root / "secrets"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o700
    token, agent_token = ((secrets / name).read_text().strip() for name in ("token", "agent-token"))
    for path in (secrets / "token", secrets / "agent-token"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(token) == len(agent_token) == 64 and token != agent_token
    for name in ("ext-1", "emb-1"):
        assert (config_of(root, name)["token"], config_of(root, name)["agent-token"]) == (token, agent_token)
    for secret in (token, agent_token, GIVEN_TOKEN, GIVEN_AGENT_TOKEN):
        assert secret not in output


def test_given_tokens_are_used(servers: ServersRun) -> None:
    root = servers.root
    config = config_of(root, "tok-good")
    assert (config["token"], config["agent-token"]) == (GIVEN_TOKEN, GIVEN_AGENT_TOKEN)


def test_airgap_artifacts_installed_as_released(servers: ServersRun) -> None:
    root = servers.root
    binary = tree(root, "ext-1") / "usr/local/bin/k3s"
    assert binary.read_text() == FAKE_K3S
    assert stat.S_IMODE(binary.stat().st_mode) == 0o755
    images = tree(root, "ext-1") / "var/lib/rancher/k3s/agent/images/k3s-airgap-images-arm64.tar.zst"
    assert images.read_bytes() == (root / "airgap" / "k3s-airgap-images-arm64.tar.zst").read_bytes()


def test_unit_runs_the_server_with_its_config(servers: ServersRun) -> None:
    root = servers.root
    unit_file = tree(root, "ext-1") / "etc/systemd/system/k3s.service"
    text = unit_file.read_text()
    assert f"ExecStart={tree(root, 'ext-1')}/usr/local/bin/k3s server --config {tree(root, 'ext-1')}/etc/rancher/k3s/config.yaml" in text
    assert "Type=notify" in text and "After=network-online.target etcd.service" in text
    if shutil.which("systemd-analyze"):
        verified = subprocess.run(["systemd-analyze", "verify", "--man=no", str(unit_file)], capture_output=True, text=True, check=False)
        assert (verified.returncode, verified.stdout + verified.stderr) == (0, "")


FAILURES = {
    "not-dpu": ["not-dpu: not in group dpus (k3s_server_required_group)"],
    "bad-networks": [
        "k3s_server_cluster_cidr=10.42.0.0/16: overlaps 10.42.64.0/24 of the datacenter network plan",
        "k3s_server_cluster_dns=10.42.70.10: not inside",
        "k3s_server_token: a bootstrap token (id.secret); those join agents only",
        "k3s_server_agent_token: contains white space",
    ],
    "bad-datastore": [
        "k3s_server_datastore_endpoints: empty",
        "/missing/ca.crt: missing on the server",
        "k3s_server_token: 11 characters; at least 32",
        "k3s_server_agent_token: in secure (K10...) format",
    ],
    "even-1": ["2 servers with the embedded etcd; it needs an odd number"],
    "even-2": ["2 servers with the embedded etcd; it needs an odd number"],
    "no-airgap": ["airgap-empty/k3s-arm64: missing on the controller", "airgap-empty/k3s-airgap-images-arm64.tar.zst: missing on the controller"],
    "bad-sum": ["airgap-wrong/k3s-arm64: sha256 ", "does not match the expected " + "0" * 64],
}


@pytest.mark.parametrize("name", sorted(FAILURES))
def test_preflight_names_the_problem_and_changes_nothing(servers: ServersRun, name: str) -> None:
    root, outcomes, output = servers.root, servers.outcomes, servers.output
    outcome: Outcome = outcomes[name]
    assert outcome.failed
    for fragment in FAILURES[name]:
        assert fragment in outcome.msg, outcome.msg
    assert outcome.changed == []
    assert not tree(root, name).exists()
    assert not (root / "secrets-failing").exists()
    assert "short-token" not in output
