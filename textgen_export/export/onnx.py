"""Keras → ONNX with tf2onnx: native ONNX LSTM ops, opset 17, dynamic batch axis, checked by onnx.checker.

Graph contract (bundle.py): input `windows` int32 [batch, max_length]; outputs `probs` float32
[batch, num_classes] and `attention` float32 [batch, max_length]. The context head's graph (model.context.onnx)
also takes `context` float32 [batch, labels].
"""

from __future__ import annotations

from pathlib import Path

from ..contract.bundle import ATTENTION, CONTEXT, INPUT, PROBS
from ..files.atomic import write_bytes
from ..keras.backend import keras, tf

OPSET = 17
BATCH = "batch"


def to_onnx(export_keras_model: keras.Model, path: str | Path) -> None:
    """Convert the [probs, attention] export model (graph.py: the text path, or the context head) to `path`."""
    import tf2onnx

    max_length = export_keras_model.inputs[0].shape[1]
    signature = [tf.TensorSpec([None, max_length], tf.int32, name=INPUT)]
    if len(export_keras_model.inputs) > 1:
        labels = export_keras_model.inputs[1].shape[1]
        signature.append(tf.TensorSpec([None, labels], tf.float32, name=CONTEXT))
    proto, _ = tf2onnx.convert.from_keras(export_keras_model, input_signature=signature, opset=OPSET)
    name_contract(proto, export_keras_model)
    write_checked(proto, path)


def name_contract(proto, export_keras_model: keras.Model) -> None:
    """Give the graph outputs the contract's names and shapes (tf2onnx names them after Keras layers)."""
    graph = proto.graph
    renames = dict(zip([o.name for o in graph.output], (PROBS, ATTENTION), strict=True))
    for node in graph.node:
        node.output[:] = [renames.get(name, name) for name in node.output]
        node.input[:] = [renames.get(name, name) for name in node.input]
    max_length = export_keras_model.inputs[0].shape[1]
    num_classes = export_keras_model.outputs[0].shape[-1]
    shapes = {INPUT: (BATCH, max_length), PROBS: (BATCH, num_classes), ATTENTION: (BATCH, max_length)}
    if len(export_keras_model.inputs) > 1:
        shapes[CONTEXT] = (BATCH, export_keras_model.inputs[1].shape[1])
    for value in [*graph.input, *graph.output]:
        value.name = renames.get(value.name, value.name)
        dims = value.type.tensor_type.shape.dim
        for dim, size in zip(dims, shapes[value.name], strict=True):
            if isinstance(size, str):
                dim.dim_param = size
            else:
                dim.dim_value = size


def write_checked(proto, path: str | Path) -> None:
    import onnx

    onnx.checker.check_model(proto, full_check=True)
    write_bytes(path, proto.SerializeToString())
