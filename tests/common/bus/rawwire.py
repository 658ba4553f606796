"""Publish raw NATS protocol frames (HPUB with repeated header names, as Go's nats.Header.Add writes them)."""

from __future__ import annotations

import asyncio
from urllib.parse import urlparse

__all__ = ["raw_hpub"]


async def raw_hpub(url: str, subject: str, headers: list[tuple[str, str]], payload: bytes) -> None:
    """Send one HPUB over a fresh TCP connection and wait for the server's PONG (so it has been routed)."""
    u = urlparse(url)
    reader, writer = await asyncio.open_connection(u.hostname, u.port)
    try:
        await reader.readline()  # INFO
        hdr = b"NATS/1.0\r\n" + b"".join(f"{k}: {v}\r\n".encode() for k, v in headers) + b"\r\n"
        writer.write(b'CONNECT {"verbose":false,"pedantic":false,"headers":true,"protocol":1}\r\n')
        writer.write(f"HPUB {subject} {len(hdr)} {len(hdr) + len(payload)}\r\n".encode() + hdr + payload + b"\r\n")
        writer.write(b"PING\r\n")
        await writer.drain()
        while True:
            line = await asyncio.wait_for(reader.readline(), 5)
            if line.startswith(b"PONG"):
                return
            if line.startswith(b"-ERR"):
                raise RuntimeError(line.decode())
    finally:
        writer.close()
        await writer.wait_closed()


async def raw_next_hmsg(url: str, subject: str, publish: object) -> tuple[list[tuple[str, str]], bytes]:
    """Subscribe on a raw connection, await ``publish()`` (a coroutine function), return the next message's
    header lines (repeated names kept, wire order) and payload."""
    u = urlparse(url)
    reader, writer = await asyncio.open_connection(u.hostname, u.port)
    try:
        await reader.readline()  # INFO
        writer.write(b'CONNECT {"verbose":false,"pedantic":false,"headers":true,"protocol":1}\r\n')
        writer.write(f"SUB {subject} 1\r\nPING\r\n".encode())
        await writer.drain()
        while not (await asyncio.wait_for(reader.readline(), 5)).startswith(b"PONG"):
            pass
        await publish()  # type: ignore[operator]
        while True:
            line = await asyncio.wait_for(reader.readline(), 5)
            if line.startswith(b"PING"):
                writer.write(b"PONG\r\n")
                continue
            if line.startswith(b"HMSG") or line.startswith(b"MSG"):
                break
        parts = line.split()
        hdr_len, total = (int(parts[-2]), int(parts[-1])) if line.startswith(b"HMSG") else (0, int(parts[-1]))
        frame = await reader.readexactly(total + 2)
        hdr, payload = frame[:hdr_len], frame[hdr_len:total]
        pairs = []
        for raw in hdr.split(b"\r\n")[1:]:
            if raw:
                k, _, v = raw.decode().partition(":")
                pairs.append((k.strip(), v.strip()))
        return pairs, payload
    finally:
        writer.close()
        await writer.wait_closed()
