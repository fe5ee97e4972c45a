"""Molecule's testinfra verifiers, one directory a scenario (extensions/molecule/<scenario>/molecule.yml points here).

They need the scenario's instances and the inventory Molecule writes, so they run from `molecule verify|test -s
SCENARIO` (which names their files and sets MOLECULE_SCENARIO_DIRECTORY); any other run (e.g. `pytest tests`)
does not collect them.
"""

from __future__ import annotations

import os

collect_ignore_glob = [] if os.environ.get("MOLECULE_SCENARIO_DIRECTORY") else ["*/test_*.py"]
