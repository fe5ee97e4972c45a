"""Run one of the collection's roles for several cases in a single ansible-playbook run, locally.

Each case is a play of its own (run_once tasks then see only that case's hosts). Hosts use the local
connection, so every file a role writes lands under the test's temporary directory, given through
the role's path variables. The role runs inside block/rescue: a failing case is noted and the run goes
on with the next play; what a failed case left on disk can be inspected afterwards. The outcome of each
host (its first failure, how many tasks changed something) comes from the JSON callback's report.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import REPO, VENV_BIN, ansible_env

RESCUE_TASK = "case failed (rescued)"


@dataclass
class Case:
    """A play: its hosts (name -> host variables), the groups they belong to and the role's variables."""

    name: str
    hosts: dict[str, dict[str, Any]]
    groups: tuple[str, ...] = ()
    role_vars: dict[str, Any] | None = None
    outside_groups: tuple[str, ...] = ()  # hosts of this case left out of `groups`


@dataclass
class Outcome:
    failed: bool
    msg: str
    changed: list[str]


def run_role(role: str, cases: list[Case], workdir: Path, extra_hosts: tuple[str, ...] = ()) -> tuple[dict[str, Outcome], str]:
    """Run every case; return each host's outcome and ansible-playbook's whole output.

    `extra_hosts` join the inventory without a play (e.g. a boot server that tasks are delegated to).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    inventory: dict[str, Any] = {"all": {"hosts": {}, "children": {}}}
    for host in extra_hosts:
        inventory["all"]["hosts"][host] = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    for case in cases:
        for host, host_vars in case.hosts.items():
            inventory["all"]["hosts"][host] = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable, **host_vars}
            for group in case.groups if host not in case.outside_groups else ():
                inventory["all"]["children"].setdefault(group, {"hosts": {}})["hosts"][host] = None
    (workdir / "inventory.yml").write_text(yaml.safe_dump(inventory))
    (workdir / "play.yml").write_text(yaml.safe_dump([_play(role, case) for case in cases], sort_keys=False))
    proc = subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), "-i", str(workdir / "inventory.yml"), str(workdir / "play.yml")],
        capture_output=True,
        text=True,
        env=ansible_env(ANSIBLE_FORKS="20"),
        cwd=REPO,
        check=False,
        timeout=300,
    )
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"ansible-playbook printed no JSON:\n{proc.stdout[-5000:]}\n{proc.stderr[-3000:]}") from exc
    outcomes = {host: Outcome(failed=False, msg="", changed=[]) for case in cases for host in case.hosts}
    for play in report["plays"]:
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                outcome = outcomes[host]
                if task["task"]["name"] == RESCUE_TASK:
                    continue
                if result.get("failed") and not outcome.failed:
                    outcome.failed, outcome.msg = True, str(result.get("msg", result))
                if result.get("changed"):
                    outcome.changed.append(task["task"]["name"])
    unrecorded = [host for host in outcomes if host not in report["stats"]]
    if unrecorded or any(stats.get("failures") or stats.get("unreachable") for stats in report["stats"].values()):
        raise AssertionError(f"unrescued failure or missing hosts {unrecorded}:\n{json.dumps(report['stats'])}\n{proc.stderr[-3000:]}")
    return outcomes, proc.stdout + proc.stderr


def _play(role: str, case: Case) -> dict[str, Any]:
    return {
        "name": case.name,
        "hosts": ":".join(case.hosts),
        "gather_facts": False,
        "vars": case.role_vars or {},
        "tasks": [
            {
                "name": "run the role",
                "block": [{"name": "role", "ansible.builtin.include_role": {"name": f"diskless.datacenter.{role}"}}],
                "rescue": [{"name": RESCUE_TASK, "ansible.builtin.meta": "noop"}],
            }
        ],
    }
