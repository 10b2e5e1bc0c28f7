"""Does an ONNX model keep tensor data in other files?  (TF-free, no `onnx` package: a bounded protobuf walk.)

ONNX Runtime opens the files that "external data" tensors name by itself, so a bundle could make it read files
the manifest does not list.  Our exporter never writes external data, so a bundle model that uses it is refused.
The walk follows only the message fields that can hold tensors (ModelProto → graphs, nodes, attributes,
functions, training info → TensorProto.data_location / external_data), per onnx.proto's field numbers.

A model the walk cannot follow is refused too, never read as "no external data": ONNX Runtime's parser skips
what it does not know (a group field, wire types 3/4, which ONNX never writes) and loads what comes after it.
A data_location other than DEFAULT counts as external whatever its value or wire type (the parser keeps the
low 32 bits of the varint).
"""

from __future__ import annotations

from ..errors import UserError

# message -> {field number: message kind of that (length-delimited) field}
_SCHEMA = {
    "model": {7: "graph", 20: "training", 25: "function"},
    "training": {1: "graph", 2: "graph"},
    "graph": {1: "node", 5: "tensor", 15: "sparse"},
    "function": {7: "node", 11: "attribute"},
    "node": {5: "attribute"},
    "attribute": {5: "tensor", 6: "graph", 10: "tensor", 11: "graph", 22: "sparse", 23: "sparse"},
    "sparse": {1: "tensor", 2: "tensor"},
}
_EXTERNAL_DATA, _DATA_LOCATION = 13, 14
MAX_DEPTH = 64


def _varint(buf: memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ValueError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(buf: memoryview):
    """(field number, wire type, value) of one message: ints for varints, memoryviews for byte strings."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire in (1, 5):
            value, pos = None, pos + (8 if wire == 1 else 4)
        elif wire == 2:
            size, pos = _varint(buf, pos)
            value, pos = buf[pos : pos + size], pos + size
        else:
            raise ValueError(f"protobuf field {field} has wire type {wire}, which ONNX never writes")
        if pos > len(buf):
            raise ValueError(f"protobuf field {field} is truncated")
        yield field, wire, value


def _external(buf: memoryview, kind: str, depth: int) -> bool:
    if depth > MAX_DEPTH:
        raise ValueError("protobuf messages nested too deeply")
    for field, wire, value in _fields(buf):
        if kind == "tensor":
            if field == _EXTERNAL_DATA or (
                field == _DATA_LOCATION and (not isinstance(value, int) or value & 0xFFFFFFFF)
            ):
                return True
        elif wire == 2 and field in _SCHEMA[kind] and _external(value, _SCHEMA[kind][field], depth + 1):
            return True
    return False


def uses_external_data(model: bytes) -> bool:
    """True if any tensor of the serialised ModelProto `model` keeps its data in another file; ValueError (with
    the reason) if `model` cannot be walked, which a caller must treat as a refusal."""
    return _external(memoryview(model), "model", 0)


def check_no_external_data(model: bytes, name: str) -> None:
    """Raise a UserError unless `model` is an ONNX model provably without external data."""
    try:
        external = uses_external_data(model)
    except ValueError as exc:
        raise UserError(
            f"bundle {name} is not a loadable ONNX model ({exc}: it cannot be checked for external data); "
            "re-export the bundle"
        ) from None
    if external:
        raise UserError(
            f"bundle {name} keeps tensor data in other files (ONNX external data), which a bundle may not do; "
            "re-export the bundle"
        )
