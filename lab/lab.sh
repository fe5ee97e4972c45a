#!/usr/bin/env bash
# The virtual lab: a thin wrapper of its CLI, `python -m lab up|down|status|console HOST` (lab/cli.py).
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${PYTHON:-python}" -m lab "$@"
