"""python -m edgewatch.ingest"""

from __future__ import annotations

from edgewatch.common.service.host import ServiceEntry
from edgewatch.ingest.app import SERVICE_NAME, build_app
from edgewatch.ingest.config import DEFAULT_RES, IngestSettings

ENTRY = ServiceEntry(SERVICE_NAME, IngestSettings, build_app, DEFAULT_RES / "configuration.yaml")

if __name__ == "__main__":
    ENTRY.main()
