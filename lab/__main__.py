"""``python -m lab up|down|status|console HOST``: see lab.cli."""

import sys

from lab.cli import main

sys.exit(main())
