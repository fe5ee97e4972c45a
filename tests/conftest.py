"""Shared pytest fixtures: run a module of the collection through ansible-playbook (tests/support/playbook.py)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lab.ansible import COLLECTIONS_PATH

# Tests import the collection's Python code by its FQCN path, as Ansible does.
sys.path.insert(0, str(COLLECTIONS_PATH))

from tests.support.playbook import run_task


@pytest.fixture
def run_module(tmp_path: Path) -> Callable[..., dict[str, Any]]:
    """`run_module(fqcn, args, check=False, diff=False)` -> the task result."""

    def _run(module: str, args: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return run_task(module, args, tmp_path=tmp_path, **kwargs)

    return _run
