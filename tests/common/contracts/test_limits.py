"""Document depth checks: the vectorised JSON depth equals the parsed depth (strings and escapes ignored);
decoded documents are measured the same way; size checks name the setting."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgewatch.common.contracts import limits
from edgewatch.common.contracts.limits import (
    SizeLimitError,
    StructureLimitError,
    check_json_depth,
    check_object_depth,
    check_size,
    json_depth,
)


def _depth(o: Any) -> int:
    if isinstance(o, dict):
        return 1 + max((_depth(v) for v in o.values()), default=0)
    if isinstance(o, list):
        return 1 + max((_depth(v) for v in o), default=0)
    return 0


_tricky = st.sampled_from(['"', "\\", "[", "]", "{", "}", '\\"', "\\\\", "x"])
_text = st.lists(_tricky, max_size=8).map("".join)
_json = st.recursive(
    st.none() | st.integers() | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=30,
)


@settings(max_examples=300)
@given(_json)
def test_json_depth_equals_the_parsed_depth_whatever_the_strings_hold(doc: Any) -> None:
    assert json_depth(json.dumps(doc).encode()) == _depth(doc)


@settings(max_examples=100)
@given(_json)
def test_the_plain_and_the_vectorised_scan_agree(doc: Any) -> None:
    text = json.dumps(doc).encode()
    assert limits.json_depth(text) == _depth(doc)
    structure = text.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, limits._NOT_STRUCTURE)
    assert (limits._json_depth_vectorised(structure) if structure else 0) == _depth(doc)


def test_a_large_bracket_stream_is_scanned_vectorised_with_the_same_result() -> None:
    text = b'{"a": "[[", "b": ' + b"[" * 40_000 + b'"]]"' + b"]" * 40_000 + b"}"
    assert len(text) > limits._VECTOR_MIN and json_depth(text) == 40_001


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        (b"", 0),
        (b"1", 0),
        (b'"[[[["', 0),
        (b'["\\\\", [["]"]]]', 3),
        (b'{"a\\"[": [{"b": []}]}', 4),
        (b"[[[[[", 5),  # unclosed: a parser recurses into them before it fails
        (b"]]]][", 0),  # a parser fails at the first closing bracket
    ],
)
def test_json_depth_table(text: bytes, depth: int) -> None:
    assert json_depth(text) == depth


def test_check_json_depth_refuses_with_400_naming_the_setting() -> None:
    check_json_depth(b"[[1]]", 2)
    with pytest.raises(StructureLimitError) as err:
        check_json_depth(b"[[[1]]]", 2, "event")
    assert err.value.status == 400 and err.value.limit == "MaxDocumentDepth" and "event" in err.value.message


def test_check_object_depth_counts_maps_lists_and_keys() -> None:
    check_object_depth({"a": [1, {"b": 2}]}, 3)
    with pytest.raises(StructureLimitError):
        check_object_depth({"a": [1, {"b": [2]}]}, 3)
    with pytest.raises(StructureLimitError):
        check_object_depth({(1, (2, (3,))): 0}, 3)


def test_check_size_refuses_with_413_and_zero_means_no_limit() -> None:
    check_size(10, 0, "body", "MaxRequestSize")
    check_size(10, 10, "body", "MaxRequestSize")
    with pytest.raises(SizeLimitError) as err:
        check_size(11, 10, "model", "Inference.MaxModelSize")
    assert err.value.status == 413 and "Inference.MaxModelSize" in err.value.message
