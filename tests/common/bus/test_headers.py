"""Headers: a dict of first values that keeps repeated keys for the wire (EdgeX QueryParams)."""

from __future__ import annotations

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
    assert h.getall("QueryParams") == ["a:1", "b:2"]
    assert dict(h) == {"QueryParams": "a:1", "Ok": "v"}
