"""python -m edgewatch.rules"""

from __future__ import annotations

from pathlib import Path

from edgewatch.common.service.host import ServiceEntry
from edgewatch.rules.app import SERVICE_NAME, build_app
from edgewatch.rules.config import RulesSettings

ENTRY = ServiceEntry(SERVICE_NAME, RulesSettings, build_app, Path(__file__).parent / "res" / "configuration.yaml")

if __name__ == "__main__":
    ENTRY.main()
