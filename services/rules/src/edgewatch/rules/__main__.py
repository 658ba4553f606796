"""python -m edgewatch.rules"""

from __future__ import annotations

from pathlib import Path

from edgewatch.common.service.host import service_main
from edgewatch.rules.app import SERVICE_NAME, build_app
from edgewatch.rules.config import RulesSettings

if __name__ == "__main__":
    service_main(SERVICE_NAME, RulesSettings, build_app, Path(__file__).parent / "res" / "configuration.yaml")
