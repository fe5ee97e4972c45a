"""roles/etcd: its rendered files checked against the real etcd 3.4 on this machine, and its preflight.

The settings file is rendered by Ansible's template module with the role's defaults and vars (one
ansible-playbook run, an amd64 and an arm64 member); every ETCD_* variable in it must be a flag that
`etcd --help` of Debian's etcd-server knows. The preflight runs for bad clusters and must stop every
member before anything is made (no CA on the controller). The cluster itself is exercised by the
Molecule scenario extensions/molecule/etcd.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.playbook import REPO, VENV_BIN, Case, ansible_env, run_role

ROLE = REPO / "roles" / "etcd"
MEMBERS = {"etcd-a": "10.42.67.93", "etcd-b": "10.42.67.83", "etcd-c": "10.42.67.43"}
ENV_ONLY = {"ETCD_UNSUPPORTED_ARCH"}  # read from the environment only, no flag (etcd 3.4)


def parse_env(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    """etcd.env, bootstrap.env and etcd.service of two members, rendered as the role renders them."""
    out = tmp_path_factory.mktemp("etcd-render")
    # The role's defaults come in as vars_files, above inventory variables: each member's own settings
    # go in `case` and are set as facts (above vars_files) before rendering.
    hosts = {
        "etcd-a": {"ansible_architecture": "x86_64", "case": {"extra_env": {"ETCD_EXPERIMENTAL_INITIAL_CORRUPT_CHECK": "true"}}},
        "etcd-b": {"ansible_architecture": "aarch64", "case": {"listen_localhost": False, "metrics_url": ""}},
    }
    inventory = {
        "all": {
            "hosts": {
                name: {"ansible_connection": "local", "ansible_python_interpreter": sys.executable, "member_address": MEMBERS[name], **host_vars}
                for name, host_vars in hosts.items()
            }
        }
    }
    templates = [("etcd.env.j2", "etcd.env"), ("bootstrap.env.j2", "bootstrap.env"), ("etcd.service.j2", "etcd.service")]
    play = [
        {
            "hosts": "all",
            "gather_facts": False,
            "vars_files": [str(ROLE / "defaults/main.yml"), str(ROLE / "vars/main.yml")],
            "vars": {"__etcd_initial_state": "new", "__etcd_initial_cluster": "{{ __etcd_initial_cluster_all }}", "etcd_members": sorted(hosts)},
            "tasks": [
                {
                    "name": "this member's settings",
                    "ansible.builtin.set_fact": {
                        "etcd_address": "{{ member_address }}",
                        "etcd_listen_localhost": "{{ case.listen_localhost | default(true) }}",
                        "etcd_metrics_url": "{{ case.metrics_url | default(etcd_metrics_url) }}",
                        "etcd_extra_env": "{{ case.extra_env | default({}) }}",
                    },
                },
                {
                    "name": "note the member",
                    "ansible.builtin.set_fact": {
                        "__etcd_member_name": "{{ inventory_hostname }}",
                        "__etcd_member_address": "{{ etcd_address }}",
                        "__etcd_member_client_url": "{{ __etcd_client_url }}",
                        "__etcd_member_peer_url": "{{ __etcd_peer_url }}",
                    },
                },
                {
                    "name": "render",
                    "ansible.builtin.template": {
                        "src": f"{ROLE}/templates/{{{{ item.0 }}}}",
                        "dest": f"{out}/{{{{ inventory_hostname }}}}-{{{{ item.1 }}}}",
                        "mode": "0644",
                    },
                    "loop": templates,
                },
            ],
        }
    ]
    (out / "inventory.yml").write_text(yaml.safe_dump(inventory))
    (out / "play.yml").write_text(yaml.safe_dump(play))
    proc = subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), "-i", str(out / "inventory.yml"), str(out / "play.yml")],
        capture_output=True,
        text=True,
        env=ansible_env(),
        cwd=REPO,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    result = {name: {file: (out / f"{name}-{file}").read_text() for template, file in templates if template} for name in hosts}
    shutil.rmtree(out, ignore_errors=True)
    return result


@pytest.fixture(scope="module")
def etcd_flags() -> set[str]:
    etcd = shutil.which("etcd")
    if etcd is None:
        pytest.skip("etcd (Debian package etcd-server, installed by make setup) is not installed")
    help_text = subprocess.run([etcd, "--help"], capture_output=True, text=True, check=False)
    return set(re.findall(r"^\s+--([a-z0-9-]+)", help_text.stdout + help_text.stderr, re.M))


@pytest.mark.parametrize("member", ["etcd-a", "etcd-b"])
def test_every_setting_is_an_etcd_flag(rendered: dict[str, dict[str, str]], etcd_flags: set[str], member: str) -> None:
    settings = {**parse_env(rendered[member]["etcd.env"]), **parse_env(rendered[member]["bootstrap.env"])}
    unknown = {key for key in settings if key not in ENV_ONLY and key.removeprefix("ETCD_").lower().replace("_", "-") not in etcd_flags}
    assert unknown == set()
    assert len(settings) > 25


def test_member_speaks_mutual_tls_to_clients_and_peers(rendered: dict[str, dict[str, str]]) -> None:
    settings = parse_env(rendered["etcd-a"]["etcd.env"])
    assert settings["ETCD_LISTEN_CLIENT_URLS"] == "https://10.42.67.93:2379,https://127.0.0.1:2379"
    assert settings["ETCD_ADVERTISE_CLIENT_URLS"] == "https://10.42.67.93:2379"
    assert settings["ETCD_LISTEN_PEER_URLS"] == settings["ETCD_INITIAL_ADVERTISE_PEER_URLS"] == "https://10.42.67.93:2380"
    assert settings["ETCD_CLIENT_CERT_AUTH"] == settings["ETCD_PEER_CLIENT_CERT_AUTH"] == "true"
    assert settings["ETCD_TRUSTED_CA_FILE"] == settings["ETCD_PEER_TRUSTED_CA_FILE"] == "/etc/etcd/pki/ca.crt"
    assert (settings["ETCD_CERT_FILE"], settings["ETCD_KEY_FILE"]) == ("/etc/etcd/pki/member.crt", "/etc/etcd/pki/member.key")
    assert settings["ETCD_EXPERIMENTAL_INITIAL_CORRUPT_CHECK"] == "true"
    assert parse_env(rendered["etcd-b"]["etcd.env"])["ETCD_LISTEN_CLIENT_URLS"] == "https://10.42.67.83:2379"
    assert "ETCD_LISTEN_METRICS_URLS" not in parse_env(rendered["etcd-b"]["etcd.env"])


def test_defaults_are_sized_for_a_dpu(rendered: dict[str, dict[str, str]]) -> None:
    settings = parse_env(rendered["etcd-a"]["etcd.env"])
    assert (settings["ETCD_HEARTBEAT_INTERVAL"], settings["ETCD_ELECTION_TIMEOUT"]) == ("250", "5000")
    assert settings["ETCD_QUOTA_BACKEND_BYTES"] == str(2 * 1024**3)
    assert (settings["ETCD_AUTO_COMPACTION_MODE"], settings["ETCD_AUTO_COMPACTION_RETENTION"]) == ("periodic", "8")


def test_arm64_members_allow_etcd_3_4_on_their_architecture(rendered: dict[str, dict[str, str]]) -> None:
    assert parse_env(rendered["etcd-b"]["etcd.env"])["ETCD_UNSUPPORTED_ARCH"] == "arm64"
    assert "ETCD_UNSUPPORTED_ARCH" not in parse_env(rendered["etcd-a"]["etcd.env"])


def test_bootstrap_settings_name_every_member(rendered: dict[str, dict[str, str]]) -> None:
    bootstrap = parse_env(rendered["etcd-a"]["bootstrap.env"])
    assert bootstrap == {
        "ETCD_INITIAL_CLUSTER_TOKEN": "etcd",
        "ETCD_INITIAL_CLUSTER_STATE": "new",
        "ETCD_INITIAL_CLUSTER": "etcd-a=https://10.42.67.93:2380,etcd-b=https://10.42.67.83:2380",
    }


def test_unit_passes_systemd_analyze_verify(rendered: dict[str, dict[str, str]], tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None or not Path("/usr/bin/etcd").exists():
        pytest.skip("needs systemd-analyze and /usr/bin/etcd (Debian packages systemd and etcd-server)")
    unit = tmp_path / "etcd.service"
    unit.write_text(rendered["etcd-a"]["etcd.service"])
    verified = subprocess.run(["systemd-analyze", "verify", "--man=no", str(unit)], capture_output=True, text=True, check=False)
    assert (verified.returncode, verified.stdout + verified.stderr) == (0, "")
    text = unit.read_text()
    assert "Type=notify" in text and "EnvironmentFile=/etc/etcd/etcd.env" in text and "EnvironmentFile=-/etc/etcd/bootstrap.env" in text


def test_preflight_stops_bad_clusters_before_any_change(tmp_path: Path) -> None:
    pki = tmp_path / "controller-pki"
    common = {"etcd_pki_controller_dir": str(pki), "ansible_architecture": "x86_64", "ansible_default_ipv4": {"address": "192.0.2.1"}}
    even = {"etcd_members": ["even-1", "even-2"]}
    hosts: dict[str, dict[str, Any]] = {
        "even-1": {**common, **even, "etcd_address": "10.42.67.1"},
        "even-2": {**common, **even, "etcd_address": "10.42.67.2"},
        "bad-1": {
            **common,
            "etcd_members": ["bad-1"],
            "etcd_address": "not-an-address",
            "etcd_election_timeout": 1000,
            "etcd_extra_env": {"election_timeout": "1"},
        },
    }
    outcomes = run_role("etcd", [Case(name="bad clusters", hosts=hosts)], tmp_path / "run")[0]
    expected = {
        "even-1": "etcd_members=even-1,even-2: 2 members; an etcd cluster needs an odd number",
        "even-2": "etcd_members=even-1,even-2: 2 members; an etcd cluster needs an odd number",
        "bad-1": "bad-1: etcd_address=not-an-address: not an IP address",
    }
    for host, fragment in expected.items():
        assert outcomes[host].failed and fragment in outcomes[host].msg, (host, outcomes[host].msg)
        assert outcomes[host].changed == []
    assert "etcd_election_timeout=1000: etcd requires at least 5 x etcd_heartbeat_interval (1250 ms)" in outcomes["bad-1"].msg
    assert "etcd_extra_env: election_timeout: not an etcd setting" in outcomes["bad-1"].msg
    assert not pki.exists()
    assert json.dumps(sorted(outcomes)) == json.dumps(sorted(hosts))
