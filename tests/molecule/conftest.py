"""Molecule's testinfra verifiers, one directory a scenario (extensions/molecule/<scenario>/molecule.yml points here).

They need the scenario's instances and the inventory Molecule writes, so they run from `molecule verify|test -s
SCENARIO`; collected in any other run (e.g. `pytest tests`) they are skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("MOLECULE_SCENARIO_DIRECTORY"):
        return
    skip = pytest.mark.skip(reason="a Molecule verifier: run by `molecule test -s SCENARIO`")
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(skip)
