"""Run a play of the collection's roles on localhost and read the per-task results (JSON callback).

Used by the fast role tests (no QEMU): roles render into temporary directories given as their paths.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import REPO, VENV_BIN, ansible_env


def run_play(tmp_path: Path, tasks: list[dict[str, Any]], *, play_vars: dict[str, Any] | None = None, check: bool = False) -> dict[str, Any]:
    """Run `tasks` on localhost; return {"failed": bool, "msg": first failure message, "tasks": [(name, result)], "changed": n}."""
    play = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "connection": "local",
            "vars": {"ansible_python_interpreter": sys.executable, **(play_vars or {})},
            "tasks": tasks,
        }
    ]
    playbook = tmp_path / f"play-{os.getpid()}-{len(list(tmp_path.glob('play-*.yml')))}.yml"
    playbook.write_text(yaml.safe_dump(play, sort_keys=False))
    cmd = [str(VENV_BIN / "ansible-playbook"), "-i", "localhost,", str(playbook)]
    if check:
        cmd.append("--check")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=ansible_env(), cwd=REPO, check=False, timeout=300)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"ansible-playbook printed no JSON:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}") from exc
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


ROLES = REPO / "roles"
