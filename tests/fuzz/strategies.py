"""Hypothesis strategies for hostile input: mutations of valid documents, random structures, parser traps."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from tests.support.hostile import alias_bomb, merge_bomb

__all__ = ["json_bodies", "json_values", "mutated", "yaml_documents"]

_TOKENS = [b"[", b"]", b"{", b"}", b'"', b"\\", b":", b",", b"&a ", b"*a", b"<<: ", b"- ", b"\n", b"\t", b"!!", b"\x00"]
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(["", "Float32", "Int16", "RW", "R", "0x10", "1e400", "-0", "NaN", "\u202e", "a" * 300]),
)


def json_values(max_leaves: int = 40) -> st.SearchStrategy[Any]:
    """Arbitrary JSON data, some of it nested deeper than any limit."""
    nested = st.recursive(
        _SCALARS,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
        max_leaves=max_leaves,
    )
    deep = st.integers(min_value=1, max_value=3000).map(lambda n: json.loads("[" * min(n, 900) + "]" * min(n, 900)))
    return st.one_of(nested, nested, deep)


@st.composite
def mutated(draw: st.DrawFn, valid: bytes) -> bytes:
    """``valid`` with a few random edits: inserted tokens, cut or repeated slices, flipped bytes, truncation."""
    data = bytearray(valid)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        op = draw(st.sampled_from(["insert", "delete", "repeat", "flip", "truncate"]))
        i = draw(st.integers(min_value=0, max_value=len(data)))
        if op == "insert":
            data[i:i] = draw(st.sampled_from(_TOKENS)) * draw(st.integers(min_value=1, max_value=200))
        elif op == "delete":
            del data[i : i + draw(st.integers(min_value=1, max_value=64))]
        elif op == "repeat":
            piece = bytes(data[i : i + draw(st.integers(min_value=1, max_value=64))])
            data[i:i] = piece * draw(st.integers(min_value=1, max_value=2000))
        elif op == "flip" and data:
            j = min(i, len(data) - 1)
            data[j] = draw(st.integers(min_value=0, max_value=255))
        elif op == "truncate":
            del data[i:]
    return bytes(data)


def json_bodies(valid: Any) -> st.SearchStrategy[bytes]:
    """Bodies for a JSON route: mutations of a valid one, arbitrary JSON, and junk bytes."""
    raw = json.dumps(valid).encode()
    return st.one_of(
        st.just(raw),
        mutated(raw),
        mutated(raw),
        json_values().map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=512),
    )


def yaml_documents(valid: str) -> st.SearchStrategy[bytes]:
    """YAML for an upload or a file: mutations of a valid one, alias and merge bombs, anchors, deep flows."""
    bombs = st.builds(
        lambda levels, width, pad: alias_bomb(levels, width, pad=pad).encode(),
        st.integers(min_value=1, max_value=12),
        st.integers(min_value=1, max_value=12),
        st.integers(min_value=1, max_value=4),
    )
    merges = st.builds(
        lambda levels, width: merge_bomb(levels, width).encode(),
        st.integers(min_value=1, max_value=10),
        st.integers(min_value=1, max_value=10),
    )
    flows = st.integers(min_value=1, max_value=5000).map(lambda n: b"name: f\nlabels: " + b"[" * n + b"]" * n)
    traps = st.sampled_from(
        [
            b"a: &a [*a]",
            b"a: &a {<<: *a}",
            b"!!python/object/apply:os.system ['true']",
            b"name: x\n" + b"- " * 3000 + b"x",
            b"\xff\xfe\x00",
            b"%YAML 9.9\n---\nname: v",
            b"name: [1, 2\n",
        ]
    )
    raw = valid.encode()
    as_json = json_values().map(lambda v: json.dumps(v).encode())  # JSON is YAML too
    return st.one_of(st.just(raw), mutated(raw), mutated(raw), bombs, merges, flows, traps, as_json)
