"""python -m edgewatch.inference"""

from __future__ import annotations

from pathlib import Path

from edgewatch.common.service.host import service_main
from edgewatch.inference.app import SERVICE_NAME, build_app
from edgewatch.inference.config import InferenceSettings

if __name__ == "__main__":
    service_main(SERVICE_NAME, InferenceSettings, build_app, Path(__file__).parent / "res" / "configuration.yaml")
