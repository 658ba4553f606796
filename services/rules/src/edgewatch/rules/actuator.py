"""Actuator: carries out decisions: sends EdgeX commands and publishes Alerts.

A SET goes the way ``Actuation.Route`` says. ``direct`` (the default): straight to the owning device service on
``edgex.device.command.request.<service>.<device>.<command>.set`` (answered on ``edgex.response.<service>.<id>``),
checked and built exactly as core-command forwards it (``devicecommand.prepare_device_command`` on a read-only
replica of core-metadata's KV buckets, ``metadata.py``); a refusal or a device service's error reads as
core-command would have answered it. While the replica is not loaded (core not up, bus just connected), and while
a SET sent through core-command meanwhile is unanswered, SETs go through core-command. ``core-command``: every SET
goes through core-command (``edgex.core.command.request.<device>.<command>.set``). Read-backs always do.

A raise's actions run in order, each after its optional ``delay``; an action with ``confirm`` then reads the
resource back through core-command, and a value that does not match fails the action (the value read is in
the Alert). With ``onActionFailure: stop`` a failed action skips the ones after it (reported, not dropped).
A raise's commands wait only for the earlier commands of the same (rule, device), never for an earlier Alert
to be stored, and only until they are sent: once the earlier raise's last command is on its way (and needs no
read-back), the next raise's first command follows it without waiting for its answer. Both go out in order on
one connection, on the same route (a switch to the direct route waits until no SET through core-command is
unanswered), and core-command and the device service keep a device's order, so the device still sees them in
decision order; a chain of round trips instead queued a fast-toggling rule's commands for seconds on a loaded
gateway. (A retry of the earlier command, after a timeout or an error, may then follow the later one: it repeats
the same rule's action.) Every command carries, in the envelope's correlationID (REST: ``X-Correlation-ID``), the EdgeX
correlation id of the event behind the decision, so one incident can be followed from the event through vectors,
scores and the Alert to core-command and the device service; without one (a stale fail-safe, a producer that sent
none) it carries the action's idempotency key instead. Either is the same on every retry, so a receiver can drop a
duplicate (same correlationID, device and command) when an answer (not the command) was lost; the idempotency key
is always in the Alert's action. A command that never succeeds is
retried with exponential backoff and then reported (in the Alert, the log, a counter and the rule's error
state), never dropped silently. Alerts of one (rule, device) are published in decision order: a clear never
overtakes the raise it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nats.js.errors import NotFoundError as JsNotFoundError

from edgewatch.common.bus.client import NatsBus
from edgewatch.common.bus.devicecommand import answer_error
from edgewatch.common.bus.requestreply import PendingReply, edgex_send_new
from edgewatch.common.contracts import topics
from edgewatch.common.contracts.alert import Alert, AlertAction, encode_alert
from edgewatch.common.contracts.commanderror import error_text
from edgewatch.common.contracts.device import Device
from edgewatch.common.contracts.errors import EdgeXError
from edgewatch.common.service.metrics import ServiceMetrics
from edgewatch.rules.config import ActuationSection
from edgewatch.rules.confirm import ReadBack
from edgewatch.rules.engine import Decision
from edgewatch.rules.metadata import MetadataReplica
from edgewatch.rules.rule import Action
from edgewatch.rules.state import AlertState

__all__ = ["Actuator", "idempotency_key"]

log = logging.getLogger(__name__)

ResultCallback = Callable[[str, str], None]
STREAM_CHECK_S = 5.0  # how long "a stream captures this alert subject" is trusted


@dataclass(frozen=True)
class _Sent:
    """A direct SET on its way: what was sent, the answer to wait for, when it went (perf_counter)."""

    device: Device
    pending: PendingReply
    at: float


@dataclass(frozen=True)
class _First:
    """A raise's first SET, sent by :meth:`Actuator.submit_now` before its decision was queued."""

    body: bytes
    sent: _Sent | str  # the error text where it could not go


def idempotency_key(alert_id: str, index: int) -> str:
    """Deterministic per (alert, action): retries of one command share it; two raises never do."""
    return str(uuid.uuid5(uuid.UUID(alert_id), str(index)))


class Actuator:
    """Runs decisions in per-(rule, device) order and keeps the most recent alerts."""

    def __init__(
        self,
        bus: NatsBus,
        metrics: ServiceMetrics,
        cfg: ActuationSection,
        on_result: ResultCallback,
        history: int = 256,
        replica: MetadataReplica | None = None,
        max_depth: Callable[[], int] = lambda: 32,
    ) -> None:
        self.bus = bus
        self.cfg = cfg
        self.replica = replica
        self._via_core = 0  # SETs sent through core-command whose answer is still to come
        self.max_depth = max_depth
        self.on_result = on_result
        self.recent: deque[Alert] = deque(maxlen=history or None)
        self.read_back = ReadBack(bus, cfg)
        self._captured: dict[str, float] = {}  # alert subject -> when a stream was last seen capturing it
        self._tails: dict[tuple[str, str], asyncio.Task[None]] = {}  # last Alert queued per (rule, device)
        self._acting: dict[tuple[str, str], asyncio.Task[list[AlertAction]]] = {}  # last actions queued
        # per (rule, device): done once the last queued decision's actions no longer hold the next one back
        self._gates: dict[tuple[str, str], asyncio.Future[None]] = {}
        m = metrics
        self.alerts = m.counter("edgewatch_rules_alerts", "Alerts published", ("state", "kind"))
        self.commands = m.counter("edgewatch_rules_commands", "Commands by final result", ("result",))
        self.retries = m.counter("edgewatch_rules_command_retries", "Command attempts after the first")
        self.alert_retries = m.counter("edgewatch_rules_alert_publish_retries", "Alert publishes retried (not stored)")
        self.confirmations = m.counter("edgewatch_rules_confirmations", "Action read-back confirmations", ("result",))
        self.decision_command = m.hop("rules_decision_command")
        self.command_answer = m.hop("rules_command_answer")  # direct route: SET sent -> device service's answer
        self.decision_send = m.hop("rules_decision_send")  # decision -> its first command handed to the bus client
        routes = m.counter("edgewatch_rules_command_requests", "Command requests sent, by route", ("route",))
        self.sent_direct, self.sent_via_core = routes.labels("direct"), routes.labels("core-command")
        self._bodies: dict[int, tuple[Action, bytes]] = {}  # id(action) -> its SET body (the action kept alive)

    async def submit_now(self, d: Decision) -> asyncio.Task[None]:
        """:meth:`submit`, sending a raise's first SET before it returns when nothing holds it back: no earlier
        command of the same (rule, device) still to be sent, no delay before it, the direct route.

        The SET is then in the bus client's buffer when the caller next yields (the client's flusher writes it
        first), instead of after two task switches and the queued decision's bookkeeping: on the path from an
        event to a command, every step on a loaded gateway's cold caches costs tens of microseconds. Its answer,
        retries, the actions after it and the Alert follow in the decision's tasks exactly as :meth:`submit`'s.
        """
        decided = time.perf_counter()
        specs = self._specs(d)
        key = (d.rule.name, d.device)
        first: _First | None = None
        ahead = self._gates.get(key)  # done once the earlier decision's last command is sent
        if specs and (ahead is None or ahead.done()) and not specs[0].delay and self._direct():
            spec = specs[0]
            body = self._body(spec)
            cid = d.correlation_id or idempotency_key(d.alert_id, 0)
            try:
                sent = await self._start_direct(spec.command, spec.device or d.device, body, cid)
            except Exception as e:  # the bus client refused it (closed, reconnecting): the queued path retries
                log.warning("early SET not sent; queued", extra={"rule": d.rule.name, "error": repr(e)[:300]})
            else:
                first = _First(body, sent)
                self.decision_send(time.perf_counter() - decided)
        return self.submit(d, first, decided)

    def submit(self, d: Decision, first: _First | None = None, decided: float | None = None) -> asyncio.Task[None]:
        """Queue a decision: its actions behind the earlier actions of the same (rule, device), its Alert behind
        its own actions and the earlier Alerts of the same (rule, device). A command never waits for an earlier
        Alert to be stored (sync's alert buffer may be full for as long as the uplink is down). ``first``: its
        first SET, already sent (:meth:`submit_now`)."""
        key = (d.rule.name, d.device)
        specs = self._specs(d)
        decided = time.perf_counter() if decided is None else decided
        acting: asyncio.Task[list[AlertAction]] | None = None
        if specs:
            gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            acting = asyncio.create_task(self._act_after(self._gates.get(key), gate, d, specs, decided, first))
            _keep_tail(self._acting, key, acting)
            self._gates[key] = gate
            acting.add_done_callback(lambda _t: self._gates.pop(key, None) if self._gates.get(key) is gate else None)
        task = asyncio.create_task(self._announce_after(self._tails.get(key), acting, d))
        _keep_tail(self._tails, key, task)
        return task

    async def idle(self) -> None:
        """Wait until every queued decision is done."""
        while self._tails or self._acting:
            await asyncio.gather(*self._tails.values(), *self._acting.values(), return_exceptions=True)

    async def stop(self, grace: float = 5.0) -> None:
        """Let in-flight decisions finish for up to ``grace`` seconds, then cancel the rest."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.idle(), grace)
        for t in [*self._tails.values(), *self._acting.values()]:
            t.cancel()

    async def _act_after(
        self,
        prev: asyncio.Future[None] | None,
        gate: asyncio.Future[None],
        d: Decision,
        specs: list[Action],
        decided: float,
        first: _First | None = None,
    ) -> list[AlertAction]:
        def release() -> None:
            if not gate.done():
                gate.set_result(None)

        try:
            if prev is not None:
                await asyncio.wait([prev])  # the earlier decision's last command is sent (or it is done)
            return await self.act(d, specs, decided, release, first)
        except Exception:
            log.exception("actions failed", extra={"rule": d.rule.name, "device": d.device})
            return []
        finally:
            release()

    async def _announce_after(
        self, prev: asyncio.Task[None] | None, acting: asyncio.Task[list[AlertAction]] | None, d: Decision
    ) -> None:
        actions = await acting if acting is not None else []
        if prev is not None:
            await asyncio.wait([prev])
        try:
            await self.announce(d, actions)
        except Exception:
            log.exception("decision failed", extra={"rule": d.rule.name, "device": d.device})

    def _specs(self, d: Decision) -> list[Action]:
        """The actions a decision runs: a raise's, outside a cooldown."""
        if d.state is not AlertState.RAISED or not d.act:
            return []
        return d.rule.actions if d.kind == "threshold" else (d.rule.stale.actions if d.rule.stale else [])

    async def execute(self, d: Decision) -> Alert:
        """Run a decision's actions (raises outside a cooldown only), then publish its Alert."""
        specs = self._specs(d)
        return await self.announce(d, await self.act(d, specs) if specs else [])

    async def act(
        self,
        d: Decision,
        specs: list[Action],
        decided: float | None = None,
        last_sent: Callable[[], None] | None = None,
        first: _First | None = None,
    ) -> list[AlertAction]:
        """Run ``specs`` for ``d`` and report the outcome to the rule's run state; ``decided`` (perf_counter) is
        when the decision was handed over, the start of hop ``rules_decision_command``; ``last_sent`` is called
        once the last action's command is sent, when nothing (a read-back) follows it; ``first``: the first
        action's SET, already sent."""
        actions = await self.run_actions(d, specs, decided, last_sent, first)
        failed = [a for a in actions if a.result == "failed"]
        self.on_result(d.rule.name, "; ".join(f"{a.device}/{a.command}: {a.error}" for a in failed))
        return actions

    async def announce(self, d: Decision, actions: list[AlertAction]) -> Alert:
        """Publish the Alert of ``d`` with the outcome of its actions."""
        alert = Alert(
            id=d.alert_id,
            incident=d.incident,
            rule=d.rule.name,
            device=d.device,
            kind=d.kind,
            severity=d.rule.stale.severity if d.kind == "stale" and d.rule.stale else d.rule.severity,
            state="raised" if d.state is AlertState.RAISED else "cleared",
            value=d.value,
            threshold=d.threshold,
            message=d.message,
            origin=time.time_ns(),
            actions=actions,
            correlation_id=d.correlation_id,
        )
        await self.publish_alert(topics.alert(d.rule.name), encode_alert(alert), alert.id)
        self.alerts.labels(alert.state, alert.kind).inc()
        self.recent.append(alert)
        log.info(
            "alert",
            extra={
                "rule": alert.rule,
                "device": alert.device,
                "state": alert.state,
                "alertKind": alert.kind,
                "correlationId": alert.correlation_id,
            },
        )
        return alert

    async def run_actions(
        self,
        d: Decision,
        specs: list[Action],
        decided: float | None = None,
        last_sent: Callable[[], None] | None = None,
        first: _First | None = None,
    ) -> list[AlertAction]:
        """Each action in order: wait its delay, SET it, confirm it; stop after a failure when the rule says so.

        The first command's answer closes hop ``rules_decision_command`` (from ``decided``, else from now).
        ``last_sent`` is called when the last action's command has been sent, if no read-back follows it.
        ``first``: the first action's SET, already sent (its hop ``rules_decision_send`` taken then).
        """
        decided = time.perf_counter() if decided is None else decided
        out: list[AlertAction] = []
        failed = ""
        for i, spec in enumerate(specs):
            device, key = spec.device or d.device, idempotency_key(d.alert_id, i)
            if failed and d.rule.on_action_failure == "stop":
                out.append(_not_run(spec, device, key, f"not run: {failed} failed before it"))
                continue
            if spec.delay:
                await asyncio.sleep(spec.delay)
            last = i == len(specs) - 1 and spec.confirm is None
            sent = last_sent if last else None
            if i == 0 and first is None:
                sent = self._timing_send(decided, sent)
            action = await self.command(spec, device, key, d.correlation_id, sent, first if i == 0 else None)
            if i == 0:
                self.decision_command(time.perf_counter() - decided)
            if action.result == "ok" and spec.confirm is not None:
                action = await self._confirm(spec, device, d.correlation_id or key, action)
            if action.result == "failed" and not failed:
                failed = f"{device}/{spec.command}"
            out.append(action)
        return out

    def _timing_send(self, decided: float, then: Callable[[], None] | None) -> Callable[[], None]:
        """A ``sent`` callback that closes hop ``rules_decision_send`` and then calls ``then``."""

        def sent() -> None:
            self.decision_send(time.perf_counter() - decided)
            if then is not None:
                then()

        return sent

    async def _confirm(self, spec: Action, device: str, key: str, action: AlertAction) -> AlertAction:
        res = await self.read_back.confirm(spec, device, key)
        self.confirmations.labels("ok" if res.ok else "failed").inc()
        if res.ok:
            return action.model_copy(update={"read_back": res.value})
        log.error(
            "action not confirmed",
            extra={"device": device, "command": spec.command, "readBack": res.value, "error": res.error},
        )
        return action.model_copy(update={"result": "failed", "error": res.error, "read_back": res.value})

    async def publish_alert(self, subject: str, data: bytes, alert_id: str) -> bool:
        """Publish an Alert so that it is never silently lost; returns True when a stream stored it.

        Alerts go through JetStream (``Nats-Msg-Id`` = alert id, so a retry is stored once) when a stream captures
        the subject (sync's alert buffer rejects new data when full instead of discarding). A rejection or an
        unreachable JetStream is retried with capped backoff, keeping this (rule, device)'s order; live
        subscribers may then see an attempt more than once (same alert id). With no stream capturing the subject
        (sync not deployed) the Alert goes to live subscribers only.
        """
        delay = max(self.cfg.backoff_initial, 0.1)
        while True:
            try:
                if not await self._stream_captures(subject):
                    await self.bus.publish(subject, data, kind="alert")
                    return False
                await self.bus.js.publish(
                    subject, data, headers={"Nats-Msg-Id": alert_id}, timeout=self.cfg.command_timeout
                )
                self.bus.metrics.out_counter("alert")(1)
                return True
            except Exception as e:  # stream full, JetStream unavailable, timeout: keep the alert and retry
                self._captured.pop(subject, None)  # look the stream up again (it may be gone, or back)
                self.alert_retries.inc()
                log.warning("alert not stored yet; retrying", extra={"subject": subject, "error": repr(e)[:300]})
                await asyncio.sleep(delay)
                delay = min(delay * 2, max(self.cfg.backoff_max, 0.1))

    async def _stream_captures(self, subject: str) -> bool:
        """Whether a JetStream stream captures ``subject``. A yes is remembered for STREAM_CHECK_S (an API round
        trip in front of every alert also delays, through the per-device order, the next command); a no is not,
        so an alert stream created later (sync started) stores the very next alert."""
        now = time.monotonic()
        known = self._captured.get(subject)
        if known is not None and now - known < STREAM_CHECK_S:
            return True
        try:
            await self.bus.js.find_stream_name_by_subject(subject)
        except JsNotFoundError:
            self._captured.pop(subject, None)
            return False
        self._captured[subject] = now
        return True

    async def command(
        self,
        spec: Action,
        device: str,
        key: str,
        correlation_id: str = "",
        sent: Callable[[], None] | None = None,
        first: _First | None = None,
    ) -> AlertAction:
        """SET ``spec`` on ``device`` (the route: module docstring), retrying with backoff; the result is never lost.

        The envelope's correlationID is ``correlation_id`` (the incident's), else the idempotency ``key``.
        ``sent`` is called once the first attempt is on its way (or failed to go). ``first``: the first attempt,
        already sent (:meth:`submit_now`).
        """
        body = first.body if first is not None else self._body(spec)
        error, attempt, ok = "", 0, False
        for attempt in range(1, self.cfg.attempts + 1):
            if attempt > 1:
                self.retries.inc()
                delay = min(self.cfg.backoff_initial * 2 ** (attempt - 2), self.cfg.backoff_max)
                await asyncio.sleep(delay)
            cid = correlation_id or key
            try:
                if first is not None and attempt == 1:
                    if sent is not None:
                        sent()
                    error = await self._finish_direct(first.sent, spec.command)
                elif self._direct():
                    error = await self._send_direct(spec.command, device, body, cid, sent)
                else:
                    error = await self._send_core_command(spec.command, device, body, cid, sent)
            finally:
                sent = None  # called by the first attempt only
            if not error:
                ok = True
                break
        result = "ok" if ok else "failed"
        self.commands.labels(result).inc()
        if not ok:
            log.error(
                "command failed after retries",
                extra={
                    "device": device,
                    "command": spec.command,
                    "attempts": attempt,
                    "error": error,
                    "correlationId": correlation_id or key,
                },
            )
        return AlertAction(
            command=spec.command,
            device=device,
            settings=dict(spec.settings),
            result=result,
            error=error,
            attempts=attempt,
            idempotency_key=key,
        )

    def _body(self, spec: Action) -> bytes:
        """A SET's body: the action's settings as compact JSON (built once per action)."""
        known = self._bodies.get(id(spec))
        if known is not None and known[0] is spec:
            return known[1]
        body = json.dumps(spec.settings, separators=(",", ":")).encode()
        if len(self._bodies) >= 1024:  # rules replaced many times: start afresh
            self._bodies.clear()
        self._bodies[id(spec)] = (spec, body)
        return body

    def _direct(self) -> bool:
        """Whether a SET goes straight to the device service now: the route says so, the replica is loaded, and no
        SET sent through core-command (while the replica loaded) still waits for its answer: a direct SET could
        overtake it on its way through core-command."""
        return self.cfg.route == "direct" and self.replica is not None and self.replica.ready and not self._via_core

    async def _send_core_command(
        self, command: str, device: str, body: bytes, cid: str, sent: Callable[[], None] | None
    ) -> str:
        """One SET through core-command; the error text ("" when it succeeded)."""
        self.sent_via_core.inc()
        self._via_core += 1
        try:
            try:
                pending = await edgex_send_new(
                    self.bus,
                    topics.command_request(device, command, "set"),
                    body,
                    correlation_id=cid,
                    responder=self.cfg.responder,
                    fmt=self.bus.settings.format,
                )
            finally:
                if sent is not None:
                    sent()
            resp = await pending.answer(self.cfg.command_timeout)
        except EdgeXError as e:
            return e.message
        finally:
            self._via_core -= 1
        if resp.error_code == 0:
            return ""
        return resp.payload.decode("utf-8", "replace")[:500] or "errorCode 1"

    async def _send_direct(
        self, command: str, device: str, body: bytes, cid: str, sent: Callable[[], None] | None
    ) -> str:
        """One SET straight to the device service, checked and built as core-command forwards it
        (:func:`prepare_device_command` on the replica); the error text as core-command would have answered it
        (``"423 device 'x' is LOCKED"``), "" when it succeeded."""
        try:
            started = await self._start_direct(command, device, body, cid)
        finally:
            if sent is not None:
                sent()
        return await self._finish_direct(started, command)

    async def _start_direct(self, command: str, device: str, body: bytes, cid: str) -> _Sent | str:
        """The first half of :meth:`_send_direct`: check, build and send; the refusal's text where it may not go."""
        assert self.replica is not None
        self.sent_direct.inc()
        try:
            target = self.replica.check_set(device, command, body, self.max_depth())
            at = time.perf_counter()
            pending = await edgex_send_new(
                self.bus,
                target.subject,
                body,
                correlation_id=cid,
                responder=target.device.service_name,
                fmt=self.bus.settings.format,
            )
        except EdgeXError as e:
            return error_text(e)[:500]
        return _Sent(target.device, pending, at)

    async def _finish_direct(self, sent: _Sent | str, command: str) -> str:
        """The second half of :meth:`_send_direct`: the device service's answer ("" when it succeeded)."""
        if isinstance(sent, str):
            return sent
        try:
            resp = await sent.pending.answer(self.cfg.command_timeout)
            self.command_answer(time.perf_counter() - sent.at)
            if resp.error_code:
                raise answer_error(sent.device, command, "set", resp)
        except EdgeXError as e:
            return error_text(e)[:500]
        return ""


def _keep_tail(tails: dict[tuple[str, str], Any], key: tuple[str, str], task: asyncio.Task[Any]) -> None:
    """Remember ``task`` as the last of ``key`` until it is done (unless a later one took its place)."""
    tails[key] = task
    task.add_done_callback(lambda t: tails.pop(key, None) if tails.get(key) is t else None)


def _not_run(spec: Action, device: str, key: str, why: str) -> AlertAction:
    return AlertAction(
        command=spec.command,
        device=device,
        settings=dict(spec.settings),
        result="failed",
        error=why,
        attempts=0,
        idempotency_key=key,
    )
