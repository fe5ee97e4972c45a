"""Run ansible-playbook with this project's environment: the collection from the repository, its ansible.cfg.

The one play runner; tests/support/playbook.py builds its test helpers on it, and the lab and the benchmarks use
it directly. `ansible_env` is the environment for machine-read runs (the JSON callback on stdout);
`project_env` the one for runs people read (the lab's playbooks).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
COLLECTIONS_PATH = REPO / ".build" / "collections"
VENV_BIN = Path(sys.executable).parent
JSON_OUTPUT = {
    "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
    "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
    "ANSIBLE_NOCOLOR": "1",
    "ANSIBLE_DEPRECATION_WARNINGS": "0",
}


class PlaybookOutputError(AssertionError):
    """ansible-playbook printed no JSON report (it failed before or instead of running the play)."""


def project_env(**extra: str) -> dict[str, str]:
    """Environment for ansible commands that load this collection from the repository."""
    env = dict(os.environ)
    env.update(
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH),
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    env.update(extra)
    return env


def ansible_env(**extra: str) -> dict[str, str]:
    """`project_env` with the JSON callback on stdout, no colour and no deprecation warnings (EXTRA overrides them)."""
    return project_env(**{**JSON_OUTPUT, **extra})


def ansible_playbook(*args: str, env: dict[str, str] | None = None, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    """`ansible-playbook ARGS` from the repository root, output captured (JSON environment unless `env`)."""
    return subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), *args], capture_output=True, text=True, env=env or ansible_env(), cwd=REPO, check=False, timeout=timeout
    )


def json_report(proc: subprocess.CompletedProcess[str], tail: int | None = None) -> dict[str, Any]:
    """The JSON callback's report from a finished run; PlaybookOutputError with the output's tail if there is none."""
    try:
        return dict(json.loads(proc.stdout))
    except json.JSONDecodeError as exc:
        out, err = (proc.stdout, proc.stderr) if tail is None else (proc.stdout[-tail:], proc.stderr[-tail:])
        raise PlaybookOutputError(f"ansible-playbook printed no JSON:\n{out}\n{err}") from exc


def localhost_play(tasks: list[dict[str, Any]], play_vars: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """A play of TASKS on localhost (local connection, this Python, no facts)."""
    return [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "connection": "local",
            "vars": {"ansible_python_interpreter": sys.executable, **(play_vars or {})},
            "tasks": tasks,
        }
    ]


def run_task(
    module: str,
    args: dict[str, Any],
    *,
    check: bool = False,
    diff: bool = False,
    tmp_path: Path,
    extra_vars: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run one task on localhost and return its result dict (failed tasks included)."""
    playbook = tmp_path / f"play-{os.getpid()}-{len(list(tmp_path.iterdir()))}.yml"
    playbook.write_text(yaml.safe_dump(localhost_play([{"name": "under test", module: args}])))
    cmd = ["-i", "localhost,", str(playbook)]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    report = json_report(ansible_playbook(*cmd))
    host_results = report["plays"][0]["tasks"][0]["hosts"]
    return dict(host_results["localhost"])
