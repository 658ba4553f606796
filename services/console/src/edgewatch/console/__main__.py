"""python -m edgewatch.console"""

from __future__ import annotations

from pathlib import Path

from edgewatch.common.service.host import ServiceEntry
from edgewatch.console.app import SERVICE_NAME, build_app
from edgewatch.console.config import ConsoleSettings

ENTRY = ServiceEntry(SERVICE_NAME, ConsoleSettings, build_app, Path(__file__).parent / "res" / "configuration.yaml")

if __name__ == "__main__":
    ENTRY.main()
