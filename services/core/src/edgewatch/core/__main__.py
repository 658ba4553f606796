"""python -m edgewatch.core"""

from __future__ import annotations

from edgewatch.common.service.host import ServiceEntry, res_dir
from edgewatch.core.app import SERVICE_NAME, build_app
from edgewatch.core.config import CoreSettings

ENTRY = ServiceEntry(SERVICE_NAME, CoreSettings, build_app, res_dir(__file__) / "configuration.yaml")

if __name__ == "__main__":
    ENTRY.main()
