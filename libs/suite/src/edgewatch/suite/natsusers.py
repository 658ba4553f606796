"""The one NATS permission table of the suite: each service connects as its own user, allowed to publish and
subscribe exactly its subjects.

``edgewatch up``, ``edgewatch secrets init`` (``nats-auth.conf`` for compose and Helm) and the tests all render
:func:`authorization_block` from :data:`USERS`; nothing else spells a permission. Subjects come from
:mod:`edgewatch.common.contracts.topics` (the wildcards the services subscribe to and publish under). Beyond the
service's own subjects every user gets:

- its dead-letter subject ``edgewatch.<client name>.deadletter``;
- ``_INBOX.>`` to subscribe (nats-py request inboxes, JetStream acks and pull/ordered consumer deliveries) and
  ``allow_responses`` (it may answer a request it received, once, on that request's reply subject);
- for JetStream users, the API subjects of *their own* streams only (:func:`jetstream_stream`,
  :func:`jetstream_kv`), never ``$JS.API.>``.

Stream and bucket names are the services' defaults (``Core.Retention.Stream``, ``Core.BucketPrefix``,
``Sync.StreamPrefix``); a deployment that renames them must extend the table (tests/suite checks the defaults).
Users ``edgex`` (stock EdgeX services over the MQTT listener or NATS: the EdgeX topics only) and ``admin``
(operators and test taps: no restriction) are not services; ``admin`` never appears in a service's settings.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from edgewatch.common.contracts import topics

__all__ = [
    "ADMIN_USER",
    "CORE_ALL_USER",
    "CORE_EVENT_STREAM",
    "CORE_KV_BUCKETS",
    "EDGEX_USER",
    "RULES_KV_BUCKETS",
    "SERVICE_USERS",
    "SYNC_STREAMS",
    "USERS",
    "NatsPermissions",
    "authorization_block",
    "jetstream_kv",
    "jetstream_kv_reader",
    "jetstream_stream",
    "password_file_name",
]

INBOX = "_INBOX.>"
CORE_EVENT_STREAM = "EDGEWATCH_CORE_EVENTS"
CORE_KV_BUCKETS = tuple(f"edgewatch-core-{k}" for k in ("profiles", "devices", "deviceservices", "provisionwatchers"))
RULES_KV_BUCKETS = tuple(b for b in CORE_KV_BUCKETS if not b.endswith("provisionwatchers"))
"""The metadata buckets rules follows (devices, profiles, device services), read-only."""
SYNC_STREAMS = tuple(f"EW_SYNC_{c}" for c in ("ALERT", "SCORE", "FEATURE", "EVENT"))
JS_COMMON = ("$JS.API.INFO", "$JS.API.STREAM.NAMES")
"""Account info and stream lookup by subject (nats-py ``find_stream_name_by_subject``): no stream's content."""

ADMIN_USER = "admin"
EDGEX_USER = "edgex"
CORE_ALL_USER = "core-all"
"""core serving core-metadata, core-data and core-command in one process (``Core.Apis`` all three, as ``edgewatch
up`` runs it); compose and Helm run core-command apart, as users ``core`` and ``core-command``."""


@dataclass(frozen=True)
class NatsPermissions:
    """One user's allow lists (nats-server denies everything else)."""

    publish: tuple[str, ...]
    subscribe: tuple[str, ...]
    unrestricted: bool = False
    """No permissions block at all (the ``admin`` user only)."""

    def render(self) -> str:
        """The user's ``permissions`` value in nats-server's configuration syntax (JSON is a subset of it)."""
        return json.dumps(
            {
                "publish": {"allow": list(self.publish)},
                "subscribe": {"allow": list(self.subscribe)},
                "allow_responses": True,
            }
        )


def jetstream_stream(name: str) -> tuple[str, ...]:
    """JetStream API subjects (publish side) that manage and read the stream ``name`` and its consumers."""
    return (
        f"$JS.API.STREAM.*.{name}",  # CREATE, UPDATE, INFO, DELETE, PURGE
        f"$JS.API.STREAM.MSG.*.{name}",  # MSG.GET, MSG.DELETE
        f"$JS.API.DIRECT.GET.{name}",
        f"$JS.API.DIRECT.GET.{name}.>",
        f"$JS.API.CONSUMER.*.{name}",  # ephemeral CREATE, NAMES, LIST
        f"$JS.API.CONSUMER.*.{name}.>",  # CREATE.<s>.<c>[.<filter>], INFO, DELETE, MSG.NEXT
        f"$JS.API.CONSUMER.DURABLE.CREATE.{name}.>",
        f"$JS.API.CONSUMER.MSG.NEXT.{name}.>",  # pull requests
        f"$JS.ACK.{name}.>",
        f"$JS.FC.{name}.>",
    )


def jetstream_kv(bucket: str) -> tuple[str, ...]:
    """A JetStream KV bucket: its stream ``KV_<bucket>`` plus its ``$KV.<bucket>.>`` subjects."""
    return (*jetstream_stream(f"KV_{bucket}"), f"$KV.{bucket}.>")


def jetstream_kv_reader(bucket: str) -> tuple[str, ...]:
    """Following a KV bucket without writing it (nats-py ``key_value`` + ``watchall``): its stream's info, an
    ordered consumer's create, info and delete, and the consumer's flow control; no ``$KV`` put, no stream change."""
    name = f"KV_{bucket}"
    return (
        f"$JS.API.STREAM.INFO.{name}",
        f"$JS.API.CONSUMER.CREATE.{name}",
        f"$JS.API.CONSUMER.CREATE.{name}.>",
        f"$JS.API.CONSUMER.INFO.{name}.>",
        f"$JS.API.CONSUMER.DELETE.{name}.>",
        f"$JS.FC.{name}.>",
    )


_ANY = "__any__"


def _wild(subject: str) -> str:
    """A contracts subject built with ``_ANY`` placeholders, as a NATS wildcard (``*`` for each placeholder)."""
    return ".".join("*" if t == _ANY else t for t in subject.split("."))


def _dead(client: str) -> str:
    return topics.dead_letter(client)


def _perm(client: str, publish: Iterable[str], subscribe: Iterable[str]) -> NatsPermissions:
    return NatsPermissions(tuple(dict.fromkeys((*publish, _dead(client)))), tuple(dict.fromkeys((*subscribe, INBOX))))


_CORE_JS = (*JS_COMMON, *jetstream_stream(CORE_EVENT_STREAM), *(s for b in CORE_KV_BUCKETS for s in jetstream_kv(b)))
_CORE_EVENTS = topics.suite("core", "events") + ".>"
_RESPONSES = _wild(topics.response(_ANY, _ANY))  # edgex.response.<responder>.<requestId>

_CORE = _perm(
    "edgewatch-core",
    [
        _wild(topics.core_event(_ANY, _ANY, _ANY, _ANY)),
        _CORE_EVENTS,
        topics.system_events_all(),
        _wild(topics.device_validation(_ANY)),
        *_CORE_JS,
    ],
    [topics.device_events_all(), _RESPONSES],
)
_CORE_COMMAND = _perm(
    "edgewatch-core-command",
    [_wild(topics.device_command_request_all(_ANY)), _RESPONSES, *_CORE_JS],
    [topics.command_request_all(), _RESPONSES],
)


def _union(*perms: NatsPermissions) -> NatsPermissions:
    """One process doing the work of several users: every subject any of them may use, each once."""
    return NatsPermissions(
        tuple(dict.fromkeys(s for p in perms for s in p.publish)),
        tuple(dict.fromkeys(s for p in perms for s in p.subscribe)),
    )


SERVICE_USERS: Mapping[str, NatsPermissions] = {
    # core-metadata + core-data: stores events (JetStream) and metadata (KV), re-publishes REST events, announces
    # metadata changes, asks device services to validate devices
    "core": _CORE,
    # core-command: reads metadata (KV), forwards commands to device services, answers the requester
    "core-command": _CORE_COMMAND,
    # core with all three EdgeX APIs in one process (``edgewatch up``): core's and core-command's lists together
    CORE_ALL_USER: _union(_CORE, _CORE_COMMAND),
    # device services (Modbus, OPC UA, EtherCAT): events out, commands and validation in, answers out
    "ingest": _perm(
        "edgewatch-ingest",
        [topics.device_events_all(), _RESPONSES],
        [
            _wild(topics.device_command_request_all(_ANY)),
            _wild(topics.device_validation(_ANY)),
            topics.system_events_all(),
        ],
    ),
    "features": _perm("edgewatch-features", [topics.feature_vector_all()], [topics.device_events_all()]),
    # inference: scores, and the scores of a shadow model on their own subjects (issue 13)
    "inference": _perm(
        "edgewatch-inference", [topics.score_all(), topics.shadow_score_all()], [topics.feature_vector_all()]
    ),
    # rules: alerts (through JetStream when a stream captures them), commands to core-command (read-backs, and
    # SETs while its metadata replica loads) and straight to device services (Actuation.Route: direct), their
    # answers, and a read-only watch of the metadata buckets the direct route checks commands against
    "rules": _perm(
        "edgewatch-rules",
        [
            topics.alert_all(),
            topics.command_request_all(),
            _wild(topics.device_command_request_all(_ANY)),
            *JS_COMMON,
            *(s for b in RULES_KV_BUCKETS for s in jetstream_kv_reader(b)),
        ],
        [topics.device_events_all(), topics.feature_vector_all(), topics.score_all(), _RESPONSES],
    ),
    # sync: its class streams (they capture events, features, scores and alerts) and their pull consumers
    "sync": _perm(
        "edgewatch-sync",
        [*JS_COMMON, *(s for name in SYNC_STREAMS for s in jetstream_stream(name))],
        [],
    ),
    # the console: reads every suite stream of data and drives devices through core-command like an operator
    "console": _perm(
        "edgewatch-console",
        [topics.command_request_all()],
        [topics.events_all(), topics.system_events_all(), "edgewatch.>", _RESPONSES],
    ),
}
"""Service user -> its allow lists. Users are named like the compose services; ``edgewatch up`` runs core-command
inside core's process, which connects as :data:`CORE_ALL_USER`."""

USERS: Mapping[str, NatsPermissions] = {
    **SERVICE_USERS,
    # stock EdgeX services (MQTT or NATS): the EdgeX topics, and the MQTT session state nats-server keeps for them
    EDGEX_USER: NatsPermissions(("edgex.>", "$MQTT.>"), ("edgex.>", "$MQTT.>", INBOX)),
    ADMIN_USER: NatsPermissions((), (), unrestricted=True),
}
"""Every NATS user of a deployment, services first."""


def password_file_name(user: str) -> str:
    """``nats-<user>.password``: the secret file holding a user's password."""
    return f"nats-{user}.password"


def authorization_block(passwords: Mapping[str, str]) -> str:
    """nats-server's ``authorization { users: [...] }`` block for :data:`USERS` with the given passwords.

    Raises:
        KeyError: a user of the table has no password.
    """
    lines = ["authorization {", "  users: ["]
    for user, perm in USERS.items():
        entry = f"user: {json.dumps(user)}, password: {json.dumps(passwords[user])}"
        if not perm.unrestricted:
            entry += f", permissions: {perm.render()}"
        lines.append(f"    {{{entry}}}")
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"
