"""python -m edgewatch.features"""

from __future__ import annotations

from pathlib import Path

from edgewatch.common.service.host import ServiceEntry
from edgewatch.features.app import SERVICE_NAME, build_app
from edgewatch.features.config import FeaturesSettings

ENTRY = ServiceEntry(SERVICE_NAME, FeaturesSettings, build_app, Path(__file__).parent / "res" / "configuration.yaml")

if __name__ == "__main__":
    ENTRY.main()
