"""Make the repository importable from this scenario's testinfra tests (for the documented K3s options)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[4]))
