"""The tests' play runner: plays of the collection's modules and roles on localhost, results from the JSON callback.

Built on lab/ansible.py (ansible-playbook with the project's environment), so the lab, the benchmarks and the
tests share one runner. Three shapes of run:
  - `run_task`: one module task, its result dict (module tests, through the conftest's `run_module` fixture);
  - `run_play` / `run_play_json`: a play of tasks (e.g. include_role) and its per-task outcome, or the raw run;
  - `run_role`: one role for several cases in a single ansible-playbook run. Each case is a play of its own
    (run_once tasks then see only that case's hosts). Hosts use the local connection, so every file a role
    writes lands under the test's temporary directory, given through the role's path variables. The role runs
    inside block/rescue: a failing case is noted and the run goes on with the next play; what a failed case
    left on disk can be inspected afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from lab.ansible import COLLECTIONS_PATH, REPO, VENV_BIN, ansible_env, ansible_playbook, json_report, localhost_play, run_task

__all__ = [
    "COLLECTIONS_PATH",
    "REPO",
    "ROLES",
    "VENV_BIN",
    "Case",
    "Outcome",
    "ansible_env",
    "role_task",
    "run_play",
    "run_play_json",
    "run_role",
    "run_task",
]

ROLES = REPO / "roles"


def run_play_json(play: list[dict[str, Any]], workdir: Path, extra_vars: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    """Write PLAY to WORKDIR/render.yml and run it on localhost with the JSON callback; the caller reads stdout."""
    playbook = workdir / "render.yml"
    playbook.write_text(yaml.safe_dump(play))
    return ansible_playbook("-i", "localhost,", str(playbook), "-e", json.dumps(extra_vars))


def run_play(tmp_path: Path, tasks: list[dict[str, Any]], *, play_vars: dict[str, Any] | None = None, check: bool = False) -> dict[str, Any]:
    """Run `tasks` on localhost; return {"failed": bool, "msg": first failure message, "tasks": [(name, result)], "changed": n}."""
    playbook = tmp_path / f"play-{os.getpid()}-{len(list(tmp_path.glob('play-*.yml')))}.yml"
    playbook.write_text(yaml.safe_dump(localhost_play(tasks, play_vars), sort_keys=False))
    cmd = ["-i", "localhost,", str(playbook)]
    if check:
        cmd.append("--check")
    report = json_report(ansible_playbook(*cmd, timeout=300), tail=3000)
    results = [(task["task"]["name"], task["hosts"].get("localhost", {})) for task in report["plays"][0]["tasks"]]
    failures = [result for _name, result in results if result.get("failed")]
    stats = report["stats"]["localhost"]
    return {
        "failed": bool(failures) or stats.get("failures", 0) > 0,
        "msg": str(failures[0].get("msg", "")) if failures else "",
        "tasks": results,
        "changed": stats.get("changed", 0),
    }


def role_task(role: str, tasks_from: str = "main", **params: Any) -> dict[str, Any]:
    """An include_role task for a role of this collection, with role parameters."""
    return {
        "name": f"{role} {tasks_from}",
        "ansible.builtin.include_role": {"name": f"diskless.datacenter.{role}", "tasks_from": tasks_from},
        "vars": params,
    }


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
    """Run every case; return each host's outcome and ansible-playbook's whole output (-vvv, and its log file).

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
    # At -vvv (its messages on stderr, the JSON report alone on stdout) and with Ansible's log file: a secret
    # that any verbosity or the log would show is in the output the tests search.
    log = workdir / "ansible.log"
    env = ansible_env(ANSIBLE_FORKS="20", ANSIBLE_VERBOSE_TO_STDERR="1", ANSIBLE_LOG_PATH=str(log))
    proc = ansible_playbook("-vvv", "-i", str(workdir / "inventory.yml"), str(workdir / "play.yml"), env=env, timeout=300)
    report = json_report(proc, tail=3000)
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
    return outcomes, proc.stdout + proc.stderr + (log.read_text(errors="replace") if log.exists() else "")


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
