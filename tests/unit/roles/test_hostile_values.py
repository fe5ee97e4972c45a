"""Hostile values never add a directive, a line or a command to what a role templates (issue "Security", item 1).

For each role below, ONE ansible-playbook run holds one play per case (the role's defaults and vars, a valid
base, then the case's one hostile value). Each play:

* runs the role's preflight fact tasks (taken from its tasks/preflight.yml): the problems it collects must
  name the variable that carries the hostile value;
* renders the role's templates with Ansible's template module straight from the values (as if the preflight
  were bypassed): each must either fail naming the value, or render exactly the structure (directive keys,
  fields, YAML keys, ...) the valid base renders.

The netboot role's templates have their own test (test_netboot.py); k3s_agent's are in test_k3s_agent_hostile
below. dpu_ovs's only template
(ovs-vswitchd-userspace.conf.j2) writes no variable but ansible_managed.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from lab.ansible import ansible_playbook, json_report
from tests.support.playbook import REPO, ansible_env

ROLES = REPO / "roles"

# The hostile values of the issue; each case puts one of them into one field.
HOSTILE: dict[str, str] = {
    "newline": "x\ny",
    "cr": "x\rY",
    "nul": "x\x00y",
    "dquote": 'x"y',
    "squote": "x'y",
    "hash": "x#y",
    "semicolon": "x;y",
    "space": "x y",
    "comma": "x,y",
    "unicode": "nœud",
    "long": "x" * 5000,
    # Alone: at the end of every field built as f"name{value}" - `match` allowlists ($) let a final newline through.
    "trailing_newline": "\n",
}
# Kinds no file format here can take: every preflight must refuse them.
ALWAYS_REFUSED = ("newline", "cr", "nul", "trailing_newline")


def role_vars(role: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in ("defaults", "vars"):
        path = ROLES / role / part / "main.yml"
        if path.exists():
            out.update(yaml.safe_load(path.read_text()) or {})
    return out


def preflight_tasks(role: str, names: list[str]) -> list[dict[str, Any]]:
    tasks = yaml.safe_load((ROLES / role / "tasks" / "preflight.yml").read_text())
    chosen = [task for task in tasks if task["name"] in names]
    assert len(chosen) == len(names), names
    return [task | {"ignore_errors": True} for task in chosen]


def run_cases(
    role: str,
    workdir: Path,
    base: dict[str, Any],
    cases: dict[str, dict[str, Any]],
    *,
    preflight: list[str],
    fact: str,
    templates: dict[str, str],
) -> dict[str, dict[str, Any]]:
    """Run every case; return, per case, {'problems': [...], TEMPLATE: {'failed', 'msg', 'text'}}.

    Each case is a host of its own (the role's defaults, vars and BASE as the group `all`'s variables, the case's
    values as the host's), all in one play; the templates are rendered on the controller by the template lookup,
    the engine of the template module, with the same search path.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    names = {f"case{index}": case for index, case in enumerate(cases)}
    inventory = {
        "all": {
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable, **role_vars(role), **base},
            "hosts": {host: cases[case] or {} for host, case in names.items()},
        }
    }
    (workdir / "inventory.yml").write_text(yaml.safe_dump(inventory, allow_unicode=False, width=1_000_000))
    tasks = preflight_tasks(role, preflight)
    for index, (name, src) in enumerate(templates.items()):
        # SRC: a file name, or "=EXPR" for a template chosen by the role's variables (rootfs: by family).
        path = f"'{ROLES / role / 'templates'}/' ~ ({src[1:]})" if src.startswith("=") else f"'{ROLES / role / 'templates' / src}'"
        render = {f"__rendered_{index}": f"{{{{ lookup('ansible.builtin.template', {path}) }}}}"}
        tasks.append({"name": f"render {name}", "ansible.builtin.set_fact": render, "ignore_errors": True})
    play = [{"name": role, "hosts": "all", "gather_facts": False, "tasks": tasks}]
    playbook = workdir / "play.yml"
    playbook.write_text(yaml.safe_dump(play, sort_keys=False))
    proc = ansible_playbook("-i", str(workdir / "inventory.yml"), str(playbook), env=ansible_env(ANSIBLE_FORKS="8"), timeout=900)
    report = json_report(proc, tail=3000)
    by_task = {task["task"]["name"]: task["hosts"] for task in report["plays"][0]["tasks"]}
    results: dict[str, dict[str, Any]] = {}
    for host, case in names.items():
        problems: list[str] | None = None
        for task_name in preflight:
            facts = by_task.get(task_name, {}).get(host, {}).get("ansible_facts", {})
            if fact in facts:
                problems = facts[fact]
        if problems is None:  # the preflight itself failed on this value: a problem of its own, named by the case
            failure = next((hosts[host].get("msg", "") for name, hosts in by_task.items() if name in preflight and hosts.get(host, {}).get("failed")), "")
            problems = [f"(preflight task failed: {failure})"]
        results[case] = {"problems": problems}
        for index, name in enumerate(templates):
            result = by_task[f"render {name}"][host]
            results[case][name] = {
                "failed": bool(result.get("failed")),
                "msg": str(result.get("msg", "")),
                "text": None if result.get("failed") else result["ansible_facts"][f"__rendered_{index}"],
            }
    return results


def hostile_cases(fields: dict[str, Callable[[str], dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """'good' plus, for every field and every hostile value, the overrides that put the value into the field."""
    cases: dict[str, dict[str, Any]] = {"good": {}}
    for field, build in fields.items():
        for kind, value in HOSTILE.items():
            cases[f"{field}--{kind}"] = build(value)
    return cases


def check_case(results: dict[str, Any], case: str, structure: dict[str, Callable[[str], Any]], must_refuse: tuple[str, ...]) -> None:
    """The common assertion: refused by the preflight naming the field, or every template keeps its structure."""
    field, kind = case.split("--")
    problems = results[case]["problems"]
    refused = any(field in problem for problem in problems)
    if kind in must_refuse:
        assert refused, f"{case}: the preflight did not refuse it: {problems}"
    if refused:
        named = [problem for problem in problems if field in problem]
        if kind != "long":
            shown = (json.dumps(HOSTILE[kind], ensure_ascii=True)[1:-1], HOSTILE[kind])
            assert any(form in problem for problem in named for form in shown) or kind == "unicode", named
        return
    for name, shape in structure.items():
        assert not results["good"][name]["failed"], results["good"][name]["msg"]
        rendered = results[case][name]
        if rendered["failed"]:
            assert "cannot be written" in rendered["msg"] or field in rendered["msg"], rendered["msg"]
            continue
        assert shape(rendered["text"]) == shape(results["good"][name]["text"]), f"{case}: {name} changed structure:\n{rendered['text']}"


def conf_lines(text: str, comment: str = "#") -> list[str]:
    return [line for line in text.split("\n") if line.strip() and not line.lstrip().startswith(comment)]


# ---- dnsmasq --------------------------------------------------------------------------------------------------
DNSMASQ_BASE: dict[str, Any] = {
    "dnsmasq_interfaces": ["eth1"],
    "dnsmasq_domain": "dc.internal",
    "dnsmasq_upstream_servers": ["10.42.64.1"],
    "dnsmasq_dhcp_subnets": [
        {"network": "10.42.65.0", "netmask": "255.255.255.0", "start": "10.42.65.200", "end": "10.42.65.250", "router": "10.42.65.1", "tag": "pxe"}
    ],
    # The model's reservations carry fields dnsmasq does not write (kernel parameters with commas among them).
    "dnsmasq_reservations": [
        {"mac": "52:54:00:12:34:56", "hostname": "node1", "ip": "10.42.65.11", "tags": ["diskless"], "kernel_params": "diskless.tmpfs=/a:size=1m,mode=0700"}
    ],
    "dnsmasq_dns_records": [{"name": "boot01", "ip": "10.42.65.2"}],
    "dnsmasq_ipxe_chain_url": "http://10.42.65.2/ipxe/boot.ipxe",
    "dnsmasq_boot_server": "10.42.65.2",
    "dnsmasq_ra_interfaces": ["eth1"],
    "dnsmasq_extra_options": ["log-dhcp"],
}


def _dnsmasq_field(name: str, make: Callable[[str], Any]) -> Callable[[str], dict[str, Any]]:
    return lambda value: {name: make(value)}


DNSMASQ_FIELDS: dict[str, Callable[[str], dict[str, Any]]] = {
    "dnsmasq_domain": lambda v: {"dnsmasq_domain": f"dc{v}.internal"},
    "dnsmasq_interfaces": lambda v: {"dnsmasq_interfaces": [f"eth{v}"], "dnsmasq_ra_interfaces": []},
    "dnsmasq_upstream_servers": lambda v: {"dnsmasq_upstream_servers": [f"10.42.64.1{v}"]},
    "dnsmasq_dns_records": lambda v: {"dnsmasq_dns_records": [{"name": f"boot{v}", "ip": "10.42.65.2"}]},
    "dnsmasq_lease_time": lambda v: {"dnsmasq_lease_time": f"12h{v}"},
    "dnsmasq_tftp_root": lambda v: {"dnsmasq_tftp_root": f"/srv/tftp{v}"},
    "dnsmasq_boot_tag": lambda v: {"dnsmasq_boot_tag": f"diskless{v}"},
    "dnsmasq_boot_file_bios": lambda v: {"dnsmasq_boot_file_bios": f"undionly{v}.kpxe"},
    "dnsmasq_boot_file_uefi": lambda v: {"dnsmasq_boot_file_uefi": f"snponly{v}.efi"},
    "dnsmasq_ipxe_chain_url": lambda v: {"dnsmasq_ipxe_chain_url": f"http://10.42.65.2/ipxe/{v}.ipxe"},
    "dnsmasq_extra_options": lambda v: {"dnsmasq_extra_options": [f"log-dhcp{v}"]},
    "dnsmasq_dhcp_subnets": lambda v: {"dnsmasq_dhcp_subnets": [DNSMASQ_BASE["dnsmasq_dhcp_subnets"][0] | {"tag": f"pxe{v}"}]},
    "dnsmasq_reservations": lambda v: {"dnsmasq_reservations": [DNSMASQ_BASE["dnsmasq_reservations"][0] | {"tags": [f"diskless{v}"]}]},
}
DNSMASQ_CASES = hostile_cases(DNSMASQ_FIELDS)


def dnsmasq_shape(text: str) -> list[tuple[str, int]]:
    """Each option by name and number of comma-separated fields: a value can add neither an option nor a field."""
    return [(line.split("=", 1)[0], line.count(",")) for line in conf_lines(text)]


@pytest.fixture(scope="module")
def dnsmasq(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return run_cases(
        "dnsmasq",
        tmp_path_factory.mktemp("dnsmasq"),
        DNSMASQ_BASE,
        DNSMASQ_CASES,
        preflight=["Preflight | Collect every problem in the role's input"],
        fact="__dnsmasq_problems",
        templates={"dnsmasq.conf": "dnsmasq.conf.j2"},
    )


def test_dnsmasq_good_passes(dnsmasq: dict[str, Any]) -> None:
    assert dnsmasq["good"]["problems"] == []
    text = dnsmasq["good"]["dnsmasq.conf"]["text"]
    assert "dhcp-host=52:54:00:12:34:56,node1,10.42.65.11,set:diskless\n" in text
    assert "server=10.42.64.1\n" in text and "log-dhcp\n" in text


@pytest.mark.parametrize("case", [case for case in DNSMASQ_CASES if case != "good"])
def test_dnsmasq_hostile_value(dnsmasq: dict[str, Any], case: str) -> None:
    # Every field but the verbatim extra options refuses what adds an option field (',') or a comment ('#');
    # upstream servers keep '#' (server=ADDR#PORT), the extra option lines keep both.
    field = case.split("--", maxsplit=1)[0]
    refuse: tuple[str, ...] = ALWAYS_REFUSED
    if field not in ("dnsmasq_extra_options",):
        refuse += ("comma", "unicode", "long")
    if field not in ("dnsmasq_extra_options", "dnsmasq_upstream_servers"):
        refuse += ("hash",)
    # The extra options are verbatim lines: a value may change its own line, never add one.
    shape = dnsmasq_shape if field != "dnsmasq_extra_options" else (lambda text: len(conf_lines(text)))
    check_case(dnsmasq, case, {"dnsmasq.conf": shape}, refuse)


# ---- nfs_server -----------------------------------------------------------------------------------------------
NFS_PATH = "/srv/diskless/images/debian/0123456789ab/root"
NFS_BASE: dict[str, Any] = {
    "nfs_server_exports": [{"path": NFS_PATH, "clients": [{"address": "10.42.65.0/24", "access": "ro"}]}],
}
NFS_FIELDS: dict[str, Callable[[str], dict[str, Any]]] = {
    "path": lambda v: {"nfs_server_exports": [{"path": f"{NFS_PATH}{v}", "clients": [{"address": "10.42.65.0/24"}]}]},
    "address": lambda v: {"nfs_server_exports": [{"path": NFS_PATH, "clients": [{"address": f"10.42.65.0/24{v}"}]}]},
    "nfs_server_ganesha_transports": lambda v: {"nfs_server_ganesha_transports": ["TCP", f"UDP{v}"]},
    "nfs_server_ganesha_protocols": lambda v: {"nfs_server_ganesha_protocols": [3, f"4{v}"]},
    "nfs_server_ganesha_mountd_port": lambda v: {"nfs_server_ganesha_mountd_port": f"20048{v}"},
}
NFS_CASES = hostile_cases(NFS_FIELDS)
EXPORT_LINE = re.compile(r'^"/[^"\s#]*" ([^\s()]+\([a-z_=0-9,]+\))( [^\s()]+\([a-z_=0-9,]+\))*$')


def exports_shape(text: str) -> list[str]:
    lines = conf_lines(text)
    return ["export" if EXPORT_LINE.match(line) else f"BAD {line!r}" for line in lines]


def ganesha_shape(text: str) -> list[str]:
    """The directives by key, with blocks: no value may open or close a block, end a value early or start a comment."""
    out = []
    for raw in conf_lines(text):
        line = raw.strip()
        if line.endswith("{") or line == "}":
            out.append(line)
            continue
        match = re.fullmatch(r'([A-Za-z_]+) = ("[^"#;{}]*"|[^"#;{}]+);', line)
        out.append(match.group(1) if match else f"BAD {line!r}")
    return out


@pytest.fixture(scope="module")
def nfs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return run_cases(
        "nfs_server",
        tmp_path_factory.mktemp("nfs"),
        NFS_BASE,
        NFS_CASES,
        preflight=["Preflight | Collect every problem in the exports"],
        fact="__nfs_server_problems",
        templates={"exports": "exports.j2", "ganesha.conf": "ganesha.conf.j2"},
    )


def test_nfs_good_passes(nfs: dict[str, Any]) -> None:
    assert nfs["good"]["problems"] == []
    assert exports_shape(nfs["good"]["exports"]["text"]) == ["export"]
    assert "BAD" not in str(ganesha_shape(nfs["good"]["ganesha.conf"]["text"]))


@pytest.mark.parametrize("case", [case for case in NFS_CASES if case != "good"])
def test_nfs_hostile_value(nfs: dict[str, Any], case: str) -> None:
    check_case(nfs, case, {"exports": exports_shape, "ganesha.conf": ganesha_shape}, tuple(HOSTILE))


# ---- etcd -----------------------------------------------------------------------------------------------------
ETCD_BASE: dict[str, Any] = {
    "etcd_members": "{{ [inventory_hostname] }}",
    "etcd_name": "node1",
    "etcd_address": "10.42.67.93",
    "ansible_default_ipv4": {"address": "10.42.67.93"},
    "ansible_architecture": "x86_64",
    "etcd_extra_env": {"ETCD_LOG_LEVEL": "info"},
    "__etcd_initial_state": "new",
    "__etcd_initial_cluster": "{{ __etcd_initial_cluster_all }}",
}
ETCD_FIELDS: dict[str, Callable[[str], dict[str, Any]]] = {
    "etcd_cluster_name": lambda v: {"etcd_cluster_name": f"dc{v}"},
    "etcd_name": lambda v: {"etcd_name": f"node1{v}"},
    "etcd_data_dir": lambda v: {"etcd_data_dir": f"/var/lib/etcd/{v}"},
    "etcd_pki_dir": lambda v: {"etcd_pki_dir": f"/etc/etcd/{v}"},
    "etcd_config_dir": lambda v: {"etcd_config_dir": f"/etc/{v}"},
    "etcd_binary_path": lambda v: {"etcd_binary_path": f"/usr/bin/etcd{v}"},
    "etcd_user": lambda v: {"etcd_user": f"etcd{v}"},
    "etcd_metrics_url": lambda v: {"etcd_metrics_url": f"http://127.0.0.1:2381/{v}"},
    "etcd_auto_compaction_retention": lambda v: {"etcd_auto_compaction_retention": f"8{v}"},
    "etcd_extra_env": lambda v: {"etcd_extra_env": {"ETCD_LOG_LEVEL": f"info{v}"}},
}
ETCD_CASES = hostile_cases(ETCD_FIELDS)


def env_shape(text: str) -> list[tuple[str, int]]:
    """KEY=VALUE lines by key; a value may hold no quote, backslash or '%' that systemd would read."""
    out = []
    for line in conf_lines(text):
        key, _, value = line.partition("=")
        out.append((key, sum(value.count(c) for c in "\"'\\")))
    return out


def unit_shape(text: str) -> list[Any]:
    """Sections and keys of a unit; ExecStart= split as systemd splits it (words)."""
    out: list[Any] = []
    for line in conf_lines(text):
        if line.startswith("["):
            out.append(line)
            continue
        key, _, value = line.partition("=")
        if key.startswith("Exec"):
            out.append((key, len(shlex.split(value, posix=True))))
        elif key == "Environment":
            words = shlex.split(value, posix=True)
            out.append((key, len(words), [word.split("=", 1)[0] for word in words]))
        else:
            out.append((key, value.count('"') + value.count("%")))
    return out


@pytest.fixture(scope="module")
def etcd(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return run_cases(
        "etcd",
        tmp_path_factory.mktemp("etcd"),
        ETCD_BASE,
        ETCD_CASES,
        preflight=["Preflight | Note this member's name and URLs for the other members", "Preflight | Collect every problem in the cluster's input"],
        fact="__etcd_problems",
        templates={"etcd.env": "etcd.env.j2", "bootstrap.env": "bootstrap.env.j2", "etcd.service": "etcd.service.j2"},
    )


def test_etcd_good_passes(etcd: dict[str, Any]) -> None:
    assert etcd["good"]["problems"] == []
    assert "ETCD_NAME=node1\n" in etcd["good"]["etcd.env"]["text"]
    assert "ETCD_LOG_LEVEL=info\n" in etcd["good"]["etcd.env"]["text"]


@pytest.mark.parametrize("case", [case for case in ETCD_CASES if case != "good"])
def test_etcd_hostile_value(etcd: dict[str, Any], case: str) -> None:
    field = case.split("--", maxsplit=1)[0]
    # An etcd setting's value may hold '#', ';', ',', spaces and unicode (systemd keeps them); names and paths may not.
    refuse: tuple[str, ...] = (*ALWAYS_REFUSED, "dquote", "squote", "long")
    if field != "etcd_extra_env":
        refuse += ("space", "unicode")
    shapes = {"etcd.env": env_shape, "bootstrap.env": env_shape, "etcd.service": unit_shape}
    check_case(etcd, case, shapes, refuse)


# ---- k3s_server -----------------------------------------------------------------------------------------------
K3S_BASE: dict[str, Any] = {
    "k3s_server_members": "{{ [inventory_hostname] }}",
    "k3s_server_address": "10.42.67.93",
    "k3s_server_datastore": "embedded",
    "k3s_server_install_method": "download",
    "k3s_server_version": "v1.31.4+k3s1",
    "ansible_default_ipv4": {"address": "10.42.67.93"},
    "ansible_architecture": "x86_64",
    "k3s_server_env": {"K3S_DEBUG": "false"},
    "k3s_server_required_group": "",
    "k3s_server_node_labels": ["zone=a"],
    "k3s_server_tls_san": ["api.dc.internal"],
    "__k3s_server_token_value": "a-long-enough-cluster-token-0123456789",
    "__k3s_server_agent_token_value": "a-long-enough-agent-token-0123456789",
}
K3S_FIELDS: dict[str, Callable[[str], dict[str, Any]]] = {
    "k3s_server_env": lambda v: {"k3s_server_env": {"K3S_DEBUG": f"false{v}"}},
    "k3s_server_binary_path": lambda v: {"k3s_server_binary_path": f"/usr/local/bin/k3s{v}"},
    "k3s_server_config_dir": lambda v: {"k3s_server_config_dir": f"/etc/rancher/{v}"},
    "k3s_server_node_labels": lambda v: {"k3s_server_node_labels": [f"zone={v}"]},
    "k3s_server_tls_san": lambda v: {"k3s_server_tls_san": [f"api{v}.dc.internal"]},
}
K3S_CASES = hostile_cases(K3S_FIELDS)


def yaml_shape(text: str) -> list[str]:
    """The top-level keys the file gives K3s; the values are YAML-quoted, so no value can add one."""
    data = yaml.safe_load(text)
    return sorted(data)


@pytest.fixture(scope="module")
def k3s(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return run_cases(
        "k3s_server",
        tmp_path_factory.mktemp("k3s"),
        K3S_BASE,
        K3S_CASES,
        preflight=["Preflight | Note this server's address for the other servers", "Preflight | Collect every problem in the role's input"],
        fact="__k3s_server_problems",
        templates={"config.yaml": "config.yaml.j2", "k3s.service": "k3s.service.j2"},
    )


def test_k3s_good_passes(k3s: dict[str, Any]) -> None:
    assert k3s["good"]["problems"] == []
    assert 'Environment="K3S_DEBUG=false"\n' in k3s["good"]["k3s.service"]["text"]


@pytest.mark.parametrize("case", [case for case in K3S_CASES if case != "good"])
def test_k3s_hostile_value(k3s: dict[str, Any], case: str) -> None:
    field = case.split("--", maxsplit=1)[0]
    refuse: tuple[str, ...] = ALWAYS_REFUSED if field not in {"k3s_server_node_labels", "k3s_server_tls_san"} else ()
    if field in ("k3s_server_binary_path", "k3s_server_config_dir"):
        refuse += ("dquote", "squote", "space", "unicode", "long")
    check_case(k3s, case, {"config.yaml": yaml_shape, "k3s.service": unit_shape}, refuse)


@pytest.mark.parametrize("kind", ["newline", "dquote", "long", "unicode"])
def test_k3s_config_yaml_keeps_the_value(k3s: dict[str, Any], kind: str) -> None:
    """config.yaml is to_nice_yaml: a hostile node label comes back from the file unchanged, as one list item."""
    text = k3s[f"k3s_server_node_labels--{kind}"]["config.yaml"]["text"]
    assert yaml.safe_load(text)["node-label"] == [f"zone={HOSTILE[kind]}"]


@pytest.mark.parametrize("kind", ["dquote", "squote", "space", "hash", "semicolon", "unicode"])
def test_k3s_service_environment_is_quoted(k3s: dict[str, Any], kind: str) -> None:
    """Environment="K=V" with systemd's quoting: the value comes back whole (quotes, backslashes and '%' escaped)."""
    text = k3s[f"k3s_server_env--{kind}"]["k3s.service"]["text"]
    (line,) = [line for line in text.split("\n") if line.startswith("Environment=")]
    assert shlex.split(line.partition("=")[2]) == [f"K3S_DEBUG=false{HOSTILE[kind]}"], line


# ---- rootfs ---------------------------------------------------------------------------------------------------
ROOTFS_BASE: dict[str, Any] = {
    "rootfs_users": [{"name": "ops", "uid": 1001, "groups": ["sudo"], "shell": "/bin/bash", "authorized_keys": ["ssh-ed25519 AAAAC3Nza ops@example"]}],
    "rootfs_root_authorized_keys": ["ssh-ed25519 AAAAC3Nzb root@example"],
    "rootfs_packages": ["vim"],
    "rootfs_locale": "en_US.UTF-8",
    "__rootfs_version": "0123456789ab",
    "__rootfs_family": "{{ __rootfs_families[rootfs_family] }}",
    "__rootfs_mirror": "{{ rootfs_mirror or __rootfs_families[rootfs_family].mirror }}",
    "__rootfs_components": "{{ rootfs_components or __rootfs_families[rootfs_family].components }}",
    "__rootfs_locale_generated": "{{ rootfs_locale not in ['C', 'POSIX', 'C.UTF-8'] }}",
    "__rootfs_chroot": "{{ 'arch-chroot' if rootfs_family == 'arch' else 'chroot' }}",
    "__rootfs_packages": "{{ (__rootfs_family.base + [rootfs_kernel_package or __rootfs_family.kernel] + rootfs_packages) | unique }}",
}
_USER = ROOTFS_BASE["rootfs_users"][0]
ROOTFS_FIELDS: dict[str, Callable[[str], dict[str, Any]]] = {
    "rootfs_name": lambda v: {"rootfs_name": f"debian{v}"},
    "rootfs_architecture": lambda v: {"rootfs_architecture": f"amd64{v}"},
    "rootfs_suite": lambda v: {"rootfs_suite": f"bookworm{v}"},
    "rootfs_mirror": lambda v: {"rootfs_mirror": f"http://deb.debian.org/debian{v}"},
    "rootfs_components": lambda v: {"rootfs_components": [f"main{v}"]},
    "rootfs_packages": lambda v: {"rootfs_packages": [f"vim{v}"]},
    "rootfs_locale": lambda v: {"rootfs_locale": f"en_US.UTF-8{v}"},
    "rootfs_timezone": lambda v: {"rootfs_timezone": f"Europe/Paris{v}"},
    "rootfs_masked_units": lambda v: {"rootfs_masked_units": [f"e2scrub{v}.service"]},
    "rootfs_root_authorized_keys": lambda v: {"rootfs_root_authorized_keys": [f"ssh-ed25519 AAAAC3Nzb root{v}"]},
    "name": lambda v: {"rootfs_users": [_USER | {"name": f"ops{v}"}]},
    "shell": lambda v: {"rootfs_users": [_USER | {"shell": f"/bin/bash{v}"}]},
    "groups": lambda v: {"rootfs_users": [_USER | {"groups": [f"sudo{v}"]}]},
    "authorized_keys": lambda v: {"rootfs_users": [_USER | {"authorized_keys": [f"ssh-ed25519 AAAAC3Nza ops{v}"]}]},
    "uid": lambda v: {"rootfs_users": [_USER | {"uid": f"1001{v}"}]},
}
ROOTFS_CASES = {
    **hostile_cases(ROOTFS_FIELDS),
    "arch": {"rootfs_family": "arch"},
    # The Arch script writes the mirror, the repositories and the packages differently (pacman.conf here-document).
    **{
        f"arch-{case}": overrides | {"rootfs_family": "arch"}
        for case, overrides in hostile_cases({k: ROOTFS_FIELDS[k] for k in ("rootfs_mirror", "rootfs_components", "rootfs_packages")}).items()
        if case != "good"
    },
}


def shell_shape(text: str) -> list[Any]:
    """What bash sees: `bash -n` accepts the script, it keeps its lines, and no value adds an operator outside quotes."""
    check = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True, check=False)
    operators: list[Any] = []
    for line in text.split("\n"):
        try:
            lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
            operators.append([token for token in lexer if set(token) <= set("();<>|&")])
        except ValueError as exc:
            operators.append(str(exc))
    return [f"bash -n: {check.returncode}", len(text.split("\n")), operators]


@pytest.fixture(scope="module")
def rootfs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return run_cases(
        "rootfs",
        tmp_path_factory.mktemp("rootfs"),
        ROOTFS_BASE,
        ROOTFS_CASES,
        preflight=["Preflight | Collect every problem in the role's input"],
        fact="__rootfs_problems",
        templates={"build.sh": "=__rootfs_family.template"},
    )


def test_rootfs_good_passes(rootfs: dict[str, Any]) -> None:
    for case in ("good", "arch"):
        assert rootfs[case]["problems"] == [], case
        assert shell_shape(rootfs[case]["build.sh"]["text"])[0] == "bash -n: 0"


@pytest.mark.parametrize("case", [case for case in ROOTFS_CASES if case not in ("good", "arch")])
def test_rootfs_hostile_value(rootfs: dict[str, Any], case: str) -> None:
    """build.sh is a shell script: every value with a line break or a control character is refused (a quoted one
    would still put a second line into a config or authorized_keys file, a comment or here-document line would
    run it); the allowlisted names refuse the rest."""
    arch = case.startswith("arch-")
    name = case.removeprefix("arch-")
    results = {name: rootfs[case], "good": rootfs["arch" if arch else "good"]}
    check_case(results, name, {"build.sh": shell_shape}, (*ALWAYS_REFUSED, "unicode"))


# ---- k3s_agent ---------------------------------------------------------------------------------------------------
# Each case: the value, the template (and first word) it would add a line to before the preflight refused it.
K3S_AGENT_BASE: dict[str, Any] = {
    "k3s_agent_server_url": "https://10.42.67.93:6443",
    "k3s_agent_token": "a-long-enough-agent-token-0123456789",
    "k3s_agent_node_name": "node1",
    "k3s_agent_require_etc_root": False,
    "__k3s_agent_etc_stat": {"stat": {"isdir": True}},
    "k3s_agent_airgap_images_dir": "/var/lib/rancher/airgap",
    "k3s_agent_state_mounts": [{"path": "/var/lib/rancher", "type": "ext4", "what": "/dev/vdb", "target": "local-fs.target"}],
    "k3s_agent_state_paths": ["/var/lib/rancher"],
    "mount": "{{ __k3s_agent_mounts[0] }}",
}
K3S_AGENT_MOUNT = K3S_AGENT_BASE["k3s_agent_state_mounts"][0]
EVIL_UNIT_LINE = "ExecStartPost=/bin/touch /PWNED"
K3S_AGENT_CASES: dict[str, dict[str, Any]] = {
    "good": {},
    # Only `^/` is checked: a newline adds a directive, a quote leaves the sh -c '...' of ExecStartPre.
    "k3s_agent_data_dir--newline": {"k3s_agent_data_dir": f"/var/lib/rancher/k3s\n{EVIL_UNIT_LINE}"},
    "k3s_agent_data_dir--squote": {"k3s_agent_data_dir": "/var/lib/rancher/k3s'; touch /PWNED; '"},
    "k3s_agent_binary_path--newline": {"k3s_agent_binary_path": f"/usr/local/bin/k3s\n{EVIL_UNIT_LINE}"},
    # `match` lets a trailing newline through the allowlists ($ matches before it).
    "k3s_agent_airgap_images_dir--newline": {"k3s_agent_airgap_images_dir": "/var/lib/rancher/airgap\n"},
    "k3s_agent_node_name--newline": {"k3s_agent_node_name": "node1\n"},
    # A mount's `what` is checked by its /dev/ prefix only.
    "k3s_agent_state_mounts--newline": {"k3s_agent_state_mounts": [K3S_AGENT_MOUNT | {"what": f"/dev/vdb\n{EVIL_UNIT_LINE}"}]},
    "k3s_agent_state_mounts--path_newline": {
        "k3s_agent_state_mounts": [K3S_AGENT_MOUNT | {"path": "/var/lib/rancher\n"}],
        "k3s_agent_state_paths": ["/var/lib/rancher\n"],
    },
}


@pytest.fixture(scope="module")
def k3s_agent(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return run_cases(
        "k3s_agent",
        tmp_path_factory.mktemp("k3s_agent"),
        K3S_AGENT_BASE,
        K3S_AGENT_CASES,
        preflight=["Preflight | Collect every problem in the role's input"],
        fact="__k3s_agent_problems",
        templates={"k3s-agent.service": "k3s-agent.service.j2", "state.mount": "state.mount.j2", "config.yaml": "config.yaml.j2"},
    )


def test_k3s_agent_good_passes(k3s_agent: dict[str, Any]) -> None:
    assert k3s_agent["good"]["problems"] == []
    assert all(not k3s_agent["good"][name]["failed"] for name in ("k3s-agent.service", "state.mount", "config.yaml"))


def test_k3s_agent_config_yaml_parses_with_a_hostile_node_name(k3s_agent: dict[str, Any]) -> None:
    """The settings are to_nice_yaml (quoted), and the header comment writes the name as JSON (one line)."""
    text = k3s_agent["k3s_agent_node_name--newline"]["config.yaml"]["text"]
    assert yaml.safe_load(text)["node-name"] == "node1\n"


def hostile_strings(value: Any) -> list[str]:
    """The strings of a case's value that carry a character the preflight must refuse."""
    if isinstance(value, dict):
        return [text for item in value.values() for text in hostile_strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in hostile_strings(item)]
    return [value] if isinstance(value, str) and any(char in value for char in "\n'") else []


@pytest.mark.parametrize("case", [case for case in K3S_AGENT_CASES if case != "good"])
def test_k3s_agent_hostile_value(k3s_agent: dict[str, Any], case: str) -> None:
    """Refused by the preflight, naming the variable and showing the value JSON-quoted (one line)."""
    field = case.split("--", maxsplit=1)[0]
    named = [problem for problem in k3s_agent[case]["problems"] if field in problem]
    assert named, f"{case}: the preflight did not refuse it: {k3s_agent[case]['problems']}"
    for value in hostile_strings(K3S_AGENT_CASES[case]):
        assert any(json.dumps(value, ensure_ascii=True) in problem for problem in named), (value, named)
