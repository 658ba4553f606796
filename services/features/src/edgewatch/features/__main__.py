"""python -m edgewatch.features"""

from __future__ import annotations

from pathlib import Path

from edgewatch.common.service.host import service_main
from edgewatch.features.app import SERVICE_NAME, build_app
from edgewatch.features.config import FeaturesSettings

if __name__ == "__main__":
    service_main(SERVICE_NAME, FeaturesSettings, build_app, Path(__file__).parent / "res" / "configuration.yaml")
