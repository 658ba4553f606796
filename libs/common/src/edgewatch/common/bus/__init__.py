"""The NATS bus: connection, EdgeX envelope and formats, JetStream provisioning.

Modules: ``client`` (NatsBus), ``settings`` (the MessageBus section the service settings compose), ``metrics``
(the BusMetrics protocol the service layer implements), ``natsadapter`` (every nats-py internal, checked at
import), ``envelope`` (EdgeX MessageEnvelope, ``nats``/``json``/CBOR formats), ``requestreply`` (EdgeX
response-topic request/reply), ``jetstream`` (idempotent streams, consumers, KV), ``pullconsumer`` (durable pull
loop), ``headers``, ``errors``. The bus imports ``contracts`` and never ``service``.
"""

from __future__ import annotations

from edgewatch.common.bus.client import Handler, NatsBus
from edgewatch.common.bus.errors import BusDecodeError, ProvisioningError
from edgewatch.common.bus.headers import Headers
from edgewatch.common.bus.settings import MessageBusSection

__all__ = ["BusDecodeError", "Handler", "Headers", "MessageBusSection", "NatsBus", "ProvisioningError"]
