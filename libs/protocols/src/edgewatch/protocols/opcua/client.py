"""Open one asyncua client session with a given security and identity: shared by the ingest driver (which wraps
it in its reconnect loop) and by ``edgewatch opcua browse``.

Secure connections first ask the server for its endpoints over an unsecured channel, pick the endpoint of the
requested policy and mode (an error lists what the server offers instead), check the server's certificate against
the PKI trust list, and only then open the secure channel with the client's own certificate (generated on first
use). Failures come back as :class:`OpcUaConnectError` / :class:`UntrustedCertificateError` with a message that
says what went wrong (refused, timed out, user rejected, certificate not trusted).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from asyncua import Client, ua

from edgewatch.protocols.opcua.errors import OpcUaConnectError
from edgewatch.protocols.opcua.security import Pki, Security
from edgewatch.protocols.opcua.status import status_text

__all__ = ["ClientOptions", "Identity", "close_client", "open_client", "server_certificate"]

log = logging.getLogger(__name__)

_AUTH_ERRORS = frozenset(
    {
        ua.StatusCodes.BadUserAccessDenied,
        ua.StatusCodes.BadIdentityTokenInvalid,
        ua.StatusCodes.BadIdentityTokenRejected,
        ua.StatusCodes.BadUserSignatureInvalid,
    }
)


@dataclass(frozen=True, slots=True)
class Identity:
    """A UserName identity; the password comes from a secret, never from a device definition."""

    user: str
    password: str

    def __repr__(self) -> str:  # never print the password
        return f"Identity(user={self.user!r})"


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """Client-wide settings."""

    application_uri: str = "urn:edgewatch:ingest"
    timeout: float = 5.0  # per request, seconds
    session_timeout: float = 120.0  # seconds the server keeps a session of a vanished client
    watchdog: float = 5.0  # seconds between liveness probes of the server (also the probe's timeout)


async def server_certificate(endpoint: str, security: Security, timeout: float = 5.0) -> bytes:
    """The certificate the server presents on its ``security`` endpoint (asked over an unsecured channel).

    Raises:
        OpcUaConnectError: unreachable, or no endpoint with that policy and mode (the message lists the offered ones).
    """
    probe = Client(endpoint, timeout=timeout)
    try:
        async with asyncio.timeout(timeout * 2):
            endpoints = await probe.connect_and_get_server_endpoints()
    except (OSError, TimeoutError, ua.UaError) as e:
        raise OpcUaConnectError(f"cannot read the server's endpoints: {_why(e)}", endpoint=endpoint) from e
    for ep in endpoints:
        if ep.SecurityPolicyUri == security.policy_class.URI and ep.SecurityMode == security.message_mode:
            if not ep.ServerCertificate:
                raise OpcUaConnectError(f"the {security} endpoint has no server certificate", endpoint=endpoint)
            der = bytes(ep.ServerCertificate)
            length = int.from_bytes(der[2:4], "big") + 4  # a chain is sent concatenated: keep the leaf
            return der[:length]
    offered = sorted({f"{e.SecurityPolicyUri.rsplit('#', 1)[-1]}/{e.SecurityMode.name.rstrip('_')}" for e in endpoints})
    raise OpcUaConnectError(
        f"the server offers no {security} endpoint (it offers {', '.join(offered) or 'none'})", endpoint=endpoint
    )


async def open_client(
    endpoint: str,
    security: Security,
    pki: Pki | None,
    *,
    identity: Identity | None = None,
    options: ClientOptions | None = None,
    certificate: tuple[str, str] | None = None,
) -> Client:
    """A connected, activated client.

    ``certificate``: (cert, key) files to present instead of the PKI folder's own (generated) certificate.

    Raises:
        OpcUaConnectError: unreachable, timed out, security refused or identity rejected.
        UntrustedCertificateError: the server's certificate is not in ``pki``'s trust list.
    """
    opts = options or ClientOptions()
    client = Client(endpoint, timeout=opts.timeout, watchdog_intervall=opts.watchdog)
    client.application_uri = opts.application_uri
    client.name = client.description = "edgewatch"
    client.product_uri = "urn:edgewatch"
    client.session_timeout = int(opts.session_timeout * 1000)
    if identity is not None:
        client.set_user(identity.user)
        client.set_password(identity.password)
    if security.secure:
        if pki is None:
            raise OpcUaConnectError(f"security {security} needs a PKI folder", endpoint=endpoint)
        der = await server_certificate(endpoint, security, opts.timeout)
        pki.check_trusted(der, endpoint)
        if certificate is None:
            own = await asyncio.to_thread(pki.own_certificate, opts.application_uri)
            certificate = (str(own[0]), str(own[1]))
        try:
            await client.set_security(
                security.policy_class,
                certificate[0],
                certificate[1],
                server_certificate=der,
                mode=security.message_mode,
            )
        except (OSError, ValueError) as e:
            raise OpcUaConnectError(
                f"cannot load the client certificate {certificate[0]}: {e}", endpoint=endpoint
            ) from e
    try:
        async with asyncio.timeout(opts.timeout * 3):
            await client.connect()
    except ua.UaStatusCodeError as e:
        await close_client(client)
        code = int(e.code)
        if code in _AUTH_ERRORS:
            who = f"user {identity.user!r}" if identity else "the anonymous identity"
            raise OpcUaConnectError(f"the server refused {who}: {status_text(code)}", endpoint=endpoint) from e
        raise OpcUaConnectError(f"the server refused the session: {status_text(code)}", endpoint=endpoint) from e
    except (OSError, TimeoutError, ua.UaError) as e:
        await close_client(client)
        if str(e).startswith("No matching endpoints"):
            raise OpcUaConnectError(
                f"the server offers no {security} endpoint; set SecurityPolicy and SecurityMode", endpoint=endpoint
            ) from e
        raise OpcUaConnectError(f"cannot connect: {_why(e)}", endpoint=endpoint) from e
    return client


async def close_client(client: Client, timeout: float = 2.0) -> None:
    """Disconnect, quietly and within ``timeout`` (the transport may already be gone)."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(timeout):
            await client.disconnect()
    with contextlib.suppress(Exception):
        client.disconnect_socket()


def _why(e: BaseException) -> str:
    if isinstance(e, TimeoutError):
        return "no answer in time"
    if isinstance(e, ua.UaStatusCodeError):
        return status_text(int(e.code))
    return str(e) or type(e).__name__
