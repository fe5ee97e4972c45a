"""Shared pytest fixtures: run a module of the collection through ansible-playbook."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
COLLECTIONS_PATH = REPO / ".build" / "collections"
# Tests import the collection's Python code by its FQCN path, as Ansible does.
sys.path.insert(0, str(COLLECTIONS_PATH))
VENV_BIN = Path(sys.executable).parent


def ansible_env(**extra: str) -> dict[str, str]:
    """Environment for ansible commands that load this collection from the repository."""
    env = dict(os.environ)
    env.update(
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_PATH),
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
        ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_DEPRECATION_WARNINGS="0",
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
    )
    env.update(extra)
    return env


def run_play_json(play: list[dict[str, Any]], workdir: Path, extra_vars: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    """Write PLAY to WORKDIR/render.yml and run it on localhost with the JSON callback; the caller reads stdout."""
    playbook = workdir / "render.yml"
    playbook.write_text(yaml.safe_dump(play))
    return subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), "-i", "localhost,", str(playbook), "-e", json.dumps(extra_vars)],
        capture_output=True,
        text=True,
        env=ansible_env(),
        cwd=REPO,
        check=False,
    )


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
    play = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "connection": "local",
            "vars": {"ansible_python_interpreter": sys.executable},
            "tasks": [{"name": "under test", module: args}],
        }
    ]
    playbook = tmp_path / f"play-{os.getpid()}-{len(list(tmp_path.iterdir()))}.yml"
    playbook.write_text(yaml.safe_dump(play))
    cmd = [str(VENV_BIN / "ansible-playbook"), "-i", "localhost,", str(playbook)]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=ansible_env(), cwd=REPO, check=False)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"ansible-playbook printed no JSON:\n{proc.stdout}\n{proc.stderr}") from exc
    host_results = report["plays"][0]["tasks"][0]["hosts"]
    return dict(host_results["localhost"])


@pytest.fixture
def run_module(tmp_path: Path) -> Callable[..., dict[str, Any]]:
    """`run_module(fqcn, args, check=False, diff=False)` -> the task result."""

    def _run(module: str, args: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return run_task(module, args, tmp_path=tmp_path, **kwargs)

    return _run
