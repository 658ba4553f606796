"""The local JetStream buffer: one file-backed stream per data class, created or updated idempotently.

Each stream captures its class's bus subjects, so producers keep publishing as they do; a message leaves the
stream only when the cloud has acknowledged it or when the class's full-buffer policy evicts it (``discard old``,
counted as a drop by the uploader). ``discard new`` (alerts) makes the server refuse the message instead: a
JetStream publisher gets an error, never a silent loss.

Retention is *limits* with an *ack-all* uploader consumer rather than a work queue (which requires one explicit
ack per message): after the cloud acknowledges a batch, the uploader acks its last message (covering the whole
batch) and purges the stream up to it. One ack and one purge per batch instead of one ack per message halves the
server's and the uploader's per-message cost of a drain; and since a later ack covers every earlier one, an ack
lost in a reconnect can never strand a message. Everything still stored is therefore not yet acknowledged by
the cloud, except at most the last batch between its ack and its purge (re-sent after a crash, deduplicated by
the cloud).
"""

from __future__ import annotations

import logging

from nats.js import JetStreamContext, api
from nats.js.api import StreamInfo
from nats.js.errors import NotFoundError

from edgewatch.common.bus.errors import ProvisioningError
from edgewatch.common.bus.jetstream import ensure_stream
from edgewatch.common.contracts import topics
from edgewatch.sync.config import SyncSettings
from edgewatch.syncwire.batch import DataClass

__all__ = [
    "class_subjects",
    "consumer_name",
    "ensure_class_stream",
    "ensure_streams",
    "purge_through",
    "recreate_consumer",
    "stream_name",
]

log = logging.getLogger(__name__)


def class_subjects(cls: DataClass) -> list[str]:
    """Bus subjects buffered for ``cls``."""
    return {
        DataClass.ALERT: [topics.alert_all()],
        DataClass.SCORE: [topics.score_all()],
        DataClass.FEATURE: [topics.feature_vector_all()],
        DataClass.EVENT: [topics.events_all()],
    }[cls]


def stream_name(settings: SyncSettings, cls: DataClass) -> str:
    """``EW_SYNC_EVENT`` etc."""
    return f"{settings.sync.stream_prefix}_{cls.value.upper()}"


def consumer_name(settings: SyncSettings, cls: DataClass) -> str:
    """Durable name of the uploader consumer of ``cls``."""
    return f"{stream_name(settings, cls)}_UPLOADER"


def _stream_config(settings: SyncSettings, cls: DataClass) -> api.StreamConfig:
    buf = settings.buffer.of(cls)
    return api.StreamConfig(
        name=stream_name(settings, cls),
        subjects=class_subjects(cls),
        retention=api.RetentionPolicy.LIMITS,
        storage=api.StorageType.FILE,
        max_bytes=buf.max_bytes,
        max_age=buf.max_age or None,
        max_msg_size=settings.buffer.max_msg_size,
        discard=api.DiscardPolicy.NEW if buf.discard == "new" else api.DiscardPolicy.OLD,
        num_replicas=settings.buffer.replicas,
        duplicate_window=120.0,
        description=f"edgewatch-sync outbox: {cls.value}",
    )


async def ensure_streams(js: JetStreamContext, settings: SyncSettings) -> dict[DataClass, str]:
    """Create each class stream, or update its limits when they differ (idempotent); return the names.

    Raises:
        ProvisioningError: a stream exists with a configuration the server cannot change in place.
    """
    names: dict[DataClass, str] = {}
    for cls in DataClass:
        info = await ensure_class_stream(js, settings, cls)
        names[cls] = info.config.name or ""
    return names


async def ensure_class_stream(js: JetStreamContext, settings: SyncSettings, cls: DataClass) -> StreamInfo:
    """Create or update one class stream (also when an outbox reopens after its stream was deleted).

    Raises:
        ProvisioningError: the stream cannot be updated in place, e.g. a work queue left by an earlier
            edgewatch-sync that still holds unsent messages.
    """
    cfg = _stream_config(settings, cls)
    await _replace_empty_work_queue(js, cfg.name or "")
    return await ensure_stream(js, cfg)


async def _replace_empty_work_queue(js: JetStreamContext, name: str) -> None:
    """Streams from before the ack-all uploader were work queues, which cannot become limits streams in place.

    An empty one is deleted (it is recreated at once, nothing is lost); one holding messages is left alone and
    refused with the way out, since deleting it would lose data the cloud never received.
    """
    try:
        info = await js.stream_info(name)
    except NotFoundError:
        return
    if info.config.retention != api.RetentionPolicy.WORK_QUEUE:
        return
    if info.state.messages:
        raise ProvisioningError(
            name,
            f"a work-queue stream from an earlier edgewatch-sync still holds {info.state.messages} unsent messages;"
            " let that version drain it, or delete the stream (losing them): nats stream rm " + name,
        )
    log.warning("replacing an empty work-queue stream from an earlier edgewatch-sync", extra={"stream": name})
    await js.delete_stream(name)


async def recreate_consumer(js: JetStreamContext, settings: SyncSettings, cls: DataClass) -> int:
    """(Re)create the uploader consumer from the start of the stream; return the old ack floor.

    What a predecessor acknowledged but did not purge is purged first, so everything still stored is
    unacknowledged and a fresh consumer delivering all resumes exactly where the cloud's acknowledgements
    stopped, without waiting for AckWait to expire on messages a killed predecessor held. The old ack floor (0
    when there was none) seeds drop counting.
    """
    stream, durable = stream_name(settings, cls), consumer_name(settings, cls)
    floor = 0
    try:
        info = await js.consumer_info(stream, durable)
        floor = info.ack_floor.stream_seq if info.ack_floor and info.ack_floor.stream_seq else 0
        await js.delete_consumer(stream, durable)
    except NotFoundError:
        floor = 0
    if floor:
        await purge_through(js, stream, floor)
    await js.add_consumer(
        stream,
        api.ConsumerConfig(
            durable_name=durable,
            name=durable,
            deliver_policy=api.DeliverPolicy.ALL,
            ack_policy=api.AckPolicy.ALL,
            ack_wait=settings.sync.ack_wait,
            max_ack_pending=-1,
            max_deliver=-1,
            description=f"edgewatch-sync uploader: {cls.value}",
        ),
    )
    return floor


async def purge_through(js: JetStreamContext, stream: str, seq: int) -> None:
    """Remove every message of ``stream`` with a sequence up to and including ``seq`` (acknowledged by the cloud)."""
    await js.purge_stream(stream, seq=seq + 1)
