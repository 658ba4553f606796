"""BatchAck parsing keeps nothing: sync parses one ack per batch, each with a new batch id, for as long as it runs."""

from __future__ import annotations

import tracemalloc

from edgewatch.syncwire.batch import BatchAck


def _ack(i: int) -> bytes:
    return (
        b'{"apiVersion":"v3","statusCode":200,"batchId":"gw-1/EW_EVENTS@1796617769982508/%d-%d","accepted":5,"duplicates":0}'
        % (
            i,
            i + 99,
        )
    )


def test_parsing_acks_with_new_batch_ids_does_not_grow_memory() -> None:
    assert BatchAck.model_validate_json(_ack(1)).batch_id == "gw-1/EW_EVENTS@1796617769982508/1-100"
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(5000):
            BatchAck.model_validate_json(_ack(1000 + i))
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 50_000  # pydantic's string cache kept ~100 bytes per ack id: ~500 kB here
