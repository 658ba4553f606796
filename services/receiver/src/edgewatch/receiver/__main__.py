"""python -m edgewatch.receiver"""

from __future__ import annotations

from edgewatch.common.service.host import ServiceEntry, res_dir
from edgewatch.receiver.app import SERVICE_NAME, build_app
from edgewatch.receiver.config import ReceiverSettings

ENTRY = ServiceEntry(SERVICE_NAME, ReceiverSettings, build_app, res_dir(__file__) / "configuration.yaml")

if __name__ == "__main__":
    ENTRY.main()
