"""Idempotent JetStream provisioning: streams, durable pull consumers and KV buckets, safe to repeat any time.

``ensure_*`` create what is missing and update what differs, comparing only the fields the caller set (a field
left at its nats-py default is not enforced, so server-side defaults never cause an update). Nothing is ever
deleted: a change the server refuses to apply in place (storage type, retention, a consumer's deliver policy)
raises :class:`ProvisioningError` with the differing fields. Every call is safe after a nats-server restart,
since the file store keeps streams, consumers and buckets.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from enum import Enum
from typing import Any

from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, ConsumerInfo, KeyValueConfig, StorageType, StreamConfig, StreamInfo
from nats.js.errors import APIError, BadRequestError, BucketNotFoundError, NotFoundError
from nats.js.kv import KeyValue

from edgewatch.common.bus.errors import ProvisioningError

__all__ = ["config_diff", "ensure_consumer", "ensure_kv", "ensure_stream"]

log = logging.getLogger(__name__)

# JetStream API error codes (nats-server errors.json)
ERR_STREAM_NAME_IN_USE = 10058  # "stream name already in use with a different configuration"
ERR_STREAM_NOT_FOUND = 10059
ERR_CONSUMER_NOT_FOUND = 10014
ERR_CONSUMER_EXISTS = 10148  # "consumer already exists" (create with a different config)
ERR_CONSUMER_NAME_EXISTS = 10013

# fields the caller never "sets" in a way that should be compared
_IGNORED = frozenset({"name", "description", "metadata"})


def _explicit(cfg: Any) -> dict[str, Any]:
    """Fields of a nats-py config dataclass that differ from the dataclass default (the caller set them)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if value is None:
            continue
        if f.default is not dataclasses.MISSING:
            default: Any = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = dataclasses.MISSING
        if _same(value, default):
            continue
        out[f.name] = value
    return out


def _norm(v: Any) -> Any:
    if isinstance(v, Enum):
        return v.value
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {k: _norm(x) for k, x in dataclasses.asdict(v).items() if x is not None}
    return v


def _same(want: Any, have: Any) -> bool:
    """``want`` (what the caller asked for) is already what the server has."""
    want, have = _norm(want), _norm(have)
    if want is dataclasses.MISSING or have is dataclasses.MISSING:
        return want is have
    if isinstance(want, bool) or isinstance(have, bool):
        return bool(want) == bool(have) and type(want) is type(have)
    if isinstance(want, (int, float)) and isinstance(have, (int, float)):
        return math.isclose(float(want), float(have), rel_tol=1e-9, abs_tol=1e-6)
    if isinstance(want, list):
        if not isinstance(have, list) or len(want) != len(have):
            return False
        if all(isinstance(x, str) for x in want):
            return sorted(want) == sorted(have)
        return all(_same(a, b) for a, b in zip(want, have, strict=True))
    if isinstance(want, dict):
        return isinstance(have, dict) and all(_same(v, have.get(k)) for k, v in want.items())
    return bool(want == have)


def config_diff(want: Any, have: Any) -> dict[str, tuple[Any, Any]]:
    """``field -> (wanted, found)`` for every field the caller set that the server's config does not match."""
    return {
        k: (v, getattr(have, k, None))
        for k, v in _explicit(want).items()
        if k not in _IGNORED and not _same(v, getattr(have, k, None))
    }


async def ensure_stream(js: JetStreamContext, config: StreamConfig) -> StreamInfo:
    """Create the stream, or update it when a field the caller set differs; never deletes.

    Raises:
        ProvisioningError: the stream exists and the server refuses the update (e.g. a storage change).
    """
    if not config.name:
        raise ValueError("config.name: a stream needs a name")
    try:
        info = await js.stream_info(config.name)
    except NotFoundError:
        try:
            return await js.add_stream(config)
        except BadRequestError as e:
            if e.err_code != ERR_STREAM_NAME_IN_USE:
                raise
            # created meanwhile by another process, with another configuration: converge by updating
            info = await js.stream_info(config.name)
    diff = config_diff(config, info.config)
    if not diff:
        return info
    merged = info.config.evolve(**{k: v for k, (v, _) in diff.items()})
    log.info("updating stream", extra={"stream": config.name, "fields": ",".join(sorted(diff))})
    try:
        return await js.update_stream(merged)
    except APIError as e:
        raise ProvisioningError(config.name, f"cannot update in place: {e.description}", diff) from e


async def ensure_consumer(js: JetStreamContext, stream: str, config: ConsumerConfig) -> ConsumerInfo:
    """Create the durable consumer if missing (e.g. deleted, or lost), or update the fields the caller set.

    Raises:
        ValueError: ``config`` has no ``durable_name``.
        ProvisioningError: the consumer exists and the server refuses the change (e.g. its deliver policy).
    """
    durable = config.durable_name
    if not durable:
        raise ValueError("config.durable_name: only durable consumers are provisioned")
    if config.name is None:
        config = config.evolve(name=durable)
    try:
        info: ConsumerInfo = await js.consumer_info(stream, durable)
    except NotFoundError as e:
        if e.err_code == ERR_STREAM_NOT_FOUND:
            raise
        try:
            return await js.add_consumer(stream, config)
        except BadRequestError as e2:
            if e2.err_code not in (ERR_CONSUMER_EXISTS, ERR_CONSUMER_NAME_EXISTS):
                raise
            info = await js.consumer_info(stream, durable)  # created meanwhile by another process
    diff = config_diff(config, info.config)
    diff.pop("durable_name", None)
    if not diff:
        return info
    log.info("updating consumer", extra={"stream": stream, "consumer": durable, "fields": ",".join(sorted(diff))})
    try:
        # CONSUMER.CREATE with an existing name updates the editable fields (nats-server >= 2.10)
        return await js.add_consumer(stream, info.config.evolve(**{k: v for k, (v, _) in diff.items()}))
    except APIError as e:
        raise ProvisioningError(f"{stream}/{durable}", f"cannot update in place: {e.description}", diff) from e


async def ensure_kv(
    js: JetStreamContext,
    bucket: str,
    *,
    history: int = 1,
    max_bytes: int = -1,
    ttl: float | None = None,
    max_value_size: int = -1,
    storage: StorageType = StorageType.FILE,
    description: str | None = None,
) -> KeyValue:
    """Open the KV bucket, creating it if missing and updating history / size / TTL limits that differ.

    Raises:
        ProvisioningError: the bucket exists and the change cannot be applied in place (e.g. storage type).
    """
    try:
        kv = await js.key_value(bucket)
    except BucketNotFoundError:
        cfg = KeyValueConfig(
            bucket=bucket,
            description=description,
            history=history,
            max_bytes=max_bytes,
            ttl=ttl,
            max_value_size=max_value_size,
            storage=storage,
        )
        try:
            return await js.create_key_value(cfg)
        except BadRequestError as e:
            if e.err_code != ERR_STREAM_NAME_IN_USE:
                raise
            kv = await js.key_value(bucket)  # created meanwhile by another process
    want = StreamConfig(
        name=f"KV_{bucket}",
        max_msgs_per_subject=history,
        max_bytes=max_bytes,
        max_age=ttl or 0.0,
        max_msg_size=max_value_size,
        storage=storage,
    )
    info = await js.stream_info(want.name or "")
    diff = {k: v for k, v in config_diff(want, info.config).items() if k != "max_age" or ttl is not None}
    if _norm(info.config.storage) != _norm(storage):
        diff["storage"] = (storage, info.config.storage)
    if diff:
        if "storage" in diff:
            raise ProvisioningError(f"KV_{bucket}", "storage type cannot change in place", diff)
        log.info("updating KV bucket", extra={"bucket": bucket, "fields": ",".join(sorted(diff))})
        try:
            await js.update_stream(info.config.evolve(**{k: v for k, (v, _) in diff.items()}))
        except APIError as e:
            raise ProvisioningError(f"KV_{bucket}", f"cannot update in place: {e.description}", diff) from e
    return kv
