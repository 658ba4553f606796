"""Composition root of edgewatch-rules: build_app() wires bus, domain objects and routes (the only wiring)."""

from __future__ import annotations

from edgewatch.common.service.host import ServiceHost
from edgewatch.rules.actuator import Actuator
from edgewatch.rules.api import router
from edgewatch.rules.config import RulesSettings
from edgewatch.rules.engine import RuleEngine
from edgewatch.rules.history import History
from edgewatch.rules.manager import RuleManager
from edgewatch.rules.messaging import RulesMessaging
from edgewatch.rules.metadata import MetadataReplica
from edgewatch.rules.state import RunState
from edgewatch.rules.store import RuleStore

__all__ = ["SERVICE_NAME", "build_app"]

SERVICE_NAME = "edgewatch-rules"


def build_app(settings: RulesSettings) -> ServiceHost:
    """Build the service host (not started): store -> engine -> actuator -> history -> manager -> subscriptions
    -> REST."""
    host = ServiceHost(SERVICE_NAME, settings)
    engine = RuleEngine()
    replica = MetadataReplica(host.bus, settings.actuation.bucket_prefix)
    actuator = Actuator(
        host.bus,
        host.metrics,
        settings.actuation,
        engine.record_action_result,
        settings.rules.alert_history,
        replica if settings.actuation.route == "direct" else None,
        lambda: settings.service.max_document_depth,
    )
    store = RuleStore(settings.data_path("rules"))
    history = History(settings.dry_run)
    manager = RuleManager(engine, store, actuator, settings.rules.stale_check_interval, history)
    messaging = RulesMessaging(host.bus, engine, actuator, host.metrics.hop("rules_sample_decision"))
    manager.on_change = messaging.sync

    async def load_rules() -> None:
        manager.load(settings.rule_files())

    if settings.actuation.route == "direct":
        host.lifespan.add("metadata-replica", replica.start, replica.stop)
        host.health_checks["metadataReplicaReady"] = lambda: replica.ready
    host.lifespan.add("rules", load_rules)
    host.lifespan.add("subscriptions", messaging.sync, messaging.stop)
    host.lifespan.add("watchdog", manager.start_watchdog, manager.stop_watchdog)
    host.health_checks["rulesInError"] = lambda: sum(rt.run_state is RunState.ERROR for rt in engine.rules.values())
    app = host.new_app("edgewatch rules", settings.service.port)
    app.include_router(router(manager))
    return host
