"""A minimal ONNX (protobuf) writer for the graphs the service builds itself, without the ``onnx`` package.

Importing ``onnx`` costs an inference process about 20 MB of RSS for the rest of its life, only to serialise the
few-node standardised-distance graph of an auto-fit or a REST fit. These helpers write the same messages field by
field (proto2, fields in number order, as protobuf serialises them); the tests check the bytes against ``onnx``'s
own ``SerializeToString`` and its checker.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = [
    "FLOAT",
    "INT64",
    "attribute_int",
    "graph",
    "model",
    "node",
    "tensor",
    "value_info",
]

FLOAT = 1  # TensorProto.DataType
INT64 = 7
_ATTRIBUTE_INT = 2  # AttributeProto.AttributeType.INT


def _varint(n: int) -> bytes:
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        low = n & 0x7F
        n >>= 7
        if n:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _int(field: int, value: int) -> bytes:
    return _varint(field << 3) + _varint(value)


def _bytes(field: int, value: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(value)) + value


def _str(field: int, value: str) -> bytes:
    return _bytes(field, value.encode("utf-8"))


def _all(field: int, messages: Iterable[bytes]) -> bytes:
    return b"".join(_bytes(field, m) for m in messages)


def attribute_int(name: str, value: int) -> bytes:
    """AttributeProto of an INT attribute (name 1, i 3, type 20)."""
    return _str(1, name) + _int(3, value) + _int(20, _ATTRIBUTE_INT)


def node(op_type: str, inputs: Sequence[str], outputs: Sequence[str], attributes: Sequence[bytes] = ()) -> bytes:
    """NodeProto (input 1, output 2, op_type 4, attribute 5)."""
    return (
        b"".join(_str(1, i) for i in inputs)
        + b"".join(_str(2, o) for o in outputs)
        + _str(4, op_type)
        + _all(5, attributes)
    )


def tensor(name: str, data_type: int, dims: Sequence[int], raw: bytes) -> bytes:
    """TensorProto with raw little-endian data (dims 1, data_type 2, name 8, raw_data 9)."""
    return b"".join(_int(1, d) for d in dims) + _int(2, data_type) + _str(8, name) + _bytes(9, raw)


def value_info(name: str, elem_type: int, shape: Sequence[int | str]) -> bytes:
    """ValueInfoProto of a tensor: each dimension a size (dim_value 1) or a symbolic name (dim_param 2)."""
    dims = [_int(1, d) if isinstance(d, int) else _str(2, d) for d in shape]
    tensor_type = _int(1, elem_type) + _bytes(2, _all(1, dims))
    return _str(1, name) + _bytes(2, _bytes(1, tensor_type))


def graph(
    nodes: Sequence[bytes], name: str, inputs: Sequence[bytes], outputs: Sequence[bytes], initializers: Sequence[bytes]
) -> bytes:
    """GraphProto (node 1, name 2, initializer 5, input 11, output 12)."""
    return _all(1, nodes) + _str(2, name) + _all(5, initializers) + _all(11, inputs) + _all(12, outputs)


def model(
    graph_proto: bytes,
    *,
    ir_version: int,
    opset: int,
    producer_name: str,
    doc_string: str,
    metadata: dict[str, str],
) -> bytes:
    """ModelProto (ir_version 1, producer_name 2, doc_string 6, graph 7, opset_import 8, metadata_props 14)."""
    opset_id = _str(1, "") + _int(2, opset)
    props = [_str(1, k) + _str(2, v) for k, v in metadata.items()]
    return (
        _int(1, ir_version)
        + _str(2, producer_name)
        + _str(6, doc_string)
        + _bytes(7, graph_proto)
        + _bytes(8, opset_id)
        + _all(14, props)
    )
