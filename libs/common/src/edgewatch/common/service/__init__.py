"""Service skeleton shared by every edgewatch service: settings, logs, common routes, lifespan.

The host (``edgewatch.common.service.host``) is imported from its module: it depends on the bus.
"""

from __future__ import annotations

from edgewatch.common.service import nocli as nocli  # httpx without its command-line client: see the module
from edgewatch.common.service.http import common_router, install_common
from edgewatch.common.service.lifespan import Lifespan
from edgewatch.common.service.logging import configure_logging, correlation_id
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.common.service.settings import (
    ServiceSection,
    ServiceSettings,
    WritableSection,
    load_settings,
)

__all__ = [
    "Lifespan",
    "ServiceMetrics",
    "ServiceSection",
    "ServiceSettings",
    "WritableSection",
    "common_router",
    "configure_logging",
    "correlation_id",
    "install_common",
    "load_settings",
]
