"""Composition root of edgewatch-console: build_app() wires sessions, upstream client, bus, pages and routes."""

from __future__ import annotations

from fastapi.staticfiles import StaticFiles

from edgewatch.common.service.host import ServiceHost
from edgewatch.console.api import api_router
from edgewatch.console.config import ConsoleSettings
from edgewatch.console.intake import ReadingGate
from edgewatch.console.live import LiveHub
from edgewatch.console.login import TokenCheck
from edgewatch.console.messaging import ConsoleMessaging
from edgewatch.console.pages import STATIC_DIR, pages_router
from edgewatch.console.security import UI_PREFIX, SecurityHeadersMiddleware, is_public
from edgewatch.console.session import SessionStore
from edgewatch.console.upstream import Upstream

__all__ = ["SERVICE_NAME", "build_app"]

SERVICE_NAME = "edgewatch-console"


def build_app(settings: ConsoleSettings) -> ServiceHost:
    """Build the service host (not started): upstream client -> bus subscriptions -> pages -> JSON routes."""
    host = ServiceHost(SERVICE_NAME, settings)
    cfg = settings.console
    sessions = SessionStore(cfg.session_idle_timeout, cfg.session_max_age, cfg.max_sessions)
    upstream = Upstream(settings.upstream)
    hub = LiveHub(
        cfg.history_points, cfg.stream_queue, history_bytes=cfg.history_bytes, max_devices=cfg.max_live_devices
    )
    messaging = ConsoleMessaging(host.bus, hub, ReadingGate(cfg.live_reading_interval))
    check = TokenCheck(settings.service.bearer_token, upstream)

    host.lifespan.add("upstream", upstream.start, upstream.stop)
    host.lifespan.add("subscriptions", messaging.start, messaging.stop)
    host.health_checks["sessions"] = lambda: len(sessions)
    host.health_checks["livePages"] = lambda: hub.listener_count
    host.health_checks["liveHistoryBytes"] = lambda: hub.history_size
    host.health_checks["liveHistoryMemory"] = lambda: hub.history_memory
    app = host.new_app("edgewatch console", settings.service.port, public=is_public)
    app.add_middleware(SecurityHeadersMiddleware)
    app.include_router(pages_router(sessions, check, cfg))
    app.include_router(api_router(sessions, upstream, hub, cfg))
    app.mount(f"{UI_PREFIX}/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
    return host
