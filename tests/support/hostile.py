"""Hostile inputs shared by hardening tests, fuzz tests and the bench: YAML alias and merge bombs, a zstd bomb."""

from __future__ import annotations

import zstandard

__all__ = ["alias_bomb", "large_profile", "merge_bomb", "zstd_bomb"]


def alias_bomb(levels: int = 9, width: int = 9, key: str = "deviceResources", pad: int = 1) -> str:
    """Billion laughs: each level an array of ``width`` aliases of the level below (about 1 KB with ``pad`` 12).

    Fully expanded, nine levels of nine are 387 million nodes; PyYAML builds every one of them.
    """
    leaf = "lol" * pad
    lines = ["name: bomb", f"a0: &a0 [{', '.join([leaf] * width)}]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels + 1)]
    lines.append(f"{key}: *a{levels}")
    return "\n".join(lines) + "\n"


def merge_bomb(levels: int = 9, width: int = 9) -> str:
    """Merge keys (``<<``) copying a mapping ``width`` times per level."""
    lines = ["m0: &m0 {" + ", ".join(f"k{i}: {i}" for i in range(width)) + "}"]
    lines += [f"m{i}: &m{i} {{<<: [{', '.join([f'*m{i - 1}'] * width)}]}}" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def large_profile(size: int) -> bytes:
    """A syntactically fine profile document of ``size`` bytes (a huge description)."""
    head = b"name: huge\nmanufacturer: ACME\ndescription: "
    return head + b"x" * (size - len(head) - 1) + b"\n"


def zstd_bomb(decoded: int, chunk: int = 1 << 20) -> bytes:
    """A zstd frame of zeros that decodes to ``decoded`` bytes and does not declare its size (streamed)."""
    c = zstandard.ZstdCompressor(level=3, write_content_size=False).compressobj()
    zeros = bytes(chunk)
    out = [c.compress(zeros) for _ in range(decoded // chunk)]
    out.append(c.compress(bytes(decoded % chunk)))
    out.append(c.flush())
    return b"".join(out)
