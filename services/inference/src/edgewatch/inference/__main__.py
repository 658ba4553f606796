"""python -m edgewatch.inference"""

from __future__ import annotations

from pathlib import Path

from edgewatch.common.service.host import ServiceEntry
from edgewatch.inference.app import SERVICE_NAME, build_app
from edgewatch.inference.config import InferenceSettings

ENTRY = ServiceEntry(SERVICE_NAME, InferenceSettings, build_app, Path(__file__).parent / "res" / "configuration.yaml")

if __name__ == "__main__":
    ENTRY.main()
