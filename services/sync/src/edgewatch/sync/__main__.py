"""python -m edgewatch.sync"""

from __future__ import annotations

from pathlib import Path

from edgewatch.common.service.host import service_main
from edgewatch.sync.app import SERVICE_NAME, build_app
from edgewatch.sync.config import SyncSettings

if __name__ == "__main__":
    service_main(SERVICE_NAME, SyncSettings, build_app, Path(__file__).parent / "res" / "configuration.yaml")
