"""python -m edgewatch.sync"""

from __future__ import annotations

from edgewatch.common.service.host import res_dir, service_main
from edgewatch.sync.app import SERVICE_NAME, build_app
from edgewatch.sync.config import SyncSettings

if __name__ == "__main__":
    service_main(SERVICE_NAME, SyncSettings, build_app, res_dir(__file__) / "configuration.yaml")
