"""python -m edgewatch.suite (same as the ``edgewatch`` command)."""

from __future__ import annotations

import sys

from edgewatch.suite.cli import main

if __name__ == "__main__":
    sys.exit(main())
