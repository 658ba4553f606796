"""python -m edgewatch.core"""

from __future__ import annotations

from edgewatch.common.service.host import res_dir, service_main
from edgewatch.core.app import SERVICE_NAME, build_app
from edgewatch.core.config import CoreSettings

if __name__ == "__main__":
    service_main(SERVICE_NAME, CoreSettings, build_app, res_dir(__file__) / "configuration.yaml")
