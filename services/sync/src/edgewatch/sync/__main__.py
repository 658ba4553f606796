"""python -m edgewatch.sync"""

from __future__ import annotations

from edgewatch.common.service.host import ServiceEntry, res_dir
from edgewatch.sync.app import SERVICE_NAME, build_app
from edgewatch.sync.config import SyncSettings

ENTRY = ServiceEntry(SERVICE_NAME, SyncSettings, build_app, res_dir(__file__) / "configuration.yaml")

if __name__ == "__main__":
    ENTRY.main()
