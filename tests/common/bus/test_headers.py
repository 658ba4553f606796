"""Headers: a dict of first values that keeps repeated keys for the wire (EdgeX QueryParams), and the header parser."""

from __future__ import annotations

import pytest
from nats.aio.client import Client

from edgewatch.common.bus.headers import Headers, parse_header_block


def test_headers_keep_repeated_values_in_order_and_expose_the_first_as_the_dict_value() -> None:
    h = Headers.from_pairs([("QueryParams", "a:1"), ("X", "y"), ("QueryParams", "b:2")])
    assert h["QueryParams"] == "a:1" and h.getall("QueryParams") == ["a:1", "b:2"] and h.getall("missing") == []
    assert h.items() == [("QueryParams", "a:1"), ("QueryParams", "b:2"), ("X", "y")]
    assert dict(h) == {"QueryParams": "a:1", "X": "y"}


def test_setting_or_deleting_a_key_drops_its_repeated_values() -> None:
    h = Headers.from_pairs([("K", "1"), ("K", "2")])
    c = h.copy()
    h["K"] = "3"
    assert h.getall("K") == ["3"] and h.items() == [("K", "3")]
    del c["K"]
    assert c.getall("K") == [] and "K" not in c


def test_parse_header_block_keeps_repeats_and_skips_malformed_lines() -> None:
    h = parse_header_block(
        b"QueryParams: a:1\r\nQueryParams:b:2\r\nbad line\r\nSp ace: x\r\n\xff: y\r\nOk:  v  \r\n\r\n"
    )
    assert isinstance(h, Headers) and h.getall("QueryParams") == ["a:1", "b:2"]
    assert dict(h) == {"QueryParams": "a:1", "Ok": "v"}
    assert h.items() == [("QueryParams", "a:1"), ("QueryParams", "b:2"), ("Ok", "v")]


BLOCKS = [
    b"Content-Type: application/json\r\nEdgewatch-Seq: 17\r\n\r\n",
    b"A:b\r\nC:\tspaced value \r\n\r\n",
    b"Bad Name: x\r\nGood: y\r\n\r\n",
    b"Utf8: caf\xc3\xa9\r\nNoColon\r\n\r\n",
    b"\xff\xfe: skipped\r\nOk: 1\r\n\r\n",
    b"\xc2\xa0Nbsp: 1\r\nV: \xc2\xa0kept\xc2\xa0 \r\n\r\n",
    b"Empty:\r\n: novalue\r\n\r\n",
    b"Bad\xe2: x\r\nTrunc: \xe2\x82\r\nNext: ok\r\n\r\n",
]


@pytest.mark.parametrize("block", BLOCKS)
def test_parse_header_block_agrees_with_nats_py_when_no_name_repeats(block: bytes) -> None:
    # One deliberate difference: a line with an empty name is dropped (nats-py keeps it under "").
    expected = {k: v for k, v in Client._parse_header_lines(block).items() if k}
    got = parse_header_block(block)
    assert got == expected and type(got) is dict


def test_parse_header_block_keeps_the_first_value_where_nats_py_keeps_the_last() -> None:
    block = b"Repeated: 1\r\nOther: x\r\nRepeated: 2\r\nRepeated: 3\r\n\r\n"
    assert Client._parse_header_lines(block) == {"Repeated": "3", "Other": "x"}
    h = parse_header_block(block)
    assert isinstance(h, Headers) and h == {"Repeated": "1", "Other": "x"}
    assert h.getall("Repeated") == ["1", "2", "3"]
