"""python -m edgewatch.receiver"""

from __future__ import annotations

from edgewatch.common.service.host import res_dir, service_main
from edgewatch.receiver.app import SERVICE_NAME, build_app
from edgewatch.receiver.config import ReceiverSettings

if __name__ == "__main__":
    service_main(SERVICE_NAME, ReceiverSettings, build_app, res_dir(__file__) / "configuration.yaml")
