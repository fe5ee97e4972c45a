"""Make the repository's test helpers importable from this scenario's testinfra tests."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))
