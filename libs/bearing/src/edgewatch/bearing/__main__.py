"""``python -m edgewatch.bearing [eval cwru] --data DIR --manifest FILE --predictions OUT.csv``."""

from __future__ import annotations

import sys

from edgewatch.bearing.cli import main

sys.exit(main())
