"""python -m edgewatch.ingest"""

from __future__ import annotations

from pathlib import Path

from edgewatch.common.service.host import service_main
from edgewatch.ingest.app import SERVICE_NAME, build_app
from edgewatch.ingest.config import IngestSettings

if __name__ == "__main__":
    service_main(SERVICE_NAME, IngestSettings, build_app, Path(__file__).parent / "res" / "configuration.yaml")
