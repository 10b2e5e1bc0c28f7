"""model_tail.onnx: the padding fast path as an ONNX graph, built directly from the weights and padding tables.

Input `tail` int32 [batch, k] (1 ≤ k ≤ max_length): the last k positions of windows whose first p = max_length − k
positions are padding.  The graph reads k off the input's shape and gathers, per window, one packed row of the
tables (keras/padding.py, an initialiser of the graph): each LSTM's state after p padding steps, the padding
logits, and the padding prefix's max m_p and weighted feature sum v_p.  It runs the native ONNX LSTMs over the k
real positions only; the attention weights are the softmax of the window's L logits (padding's from the table,
the tail's computed) with keras/attention.py's 1e-7, and the pooled features are v_p·e^(m_p − M) plus the tail's
weighted features, over the same denominator (the log-sum-exp rule in keras/padding.py).  Outputs `probs`
[batch, num_classes] and `attention` [batch, max_length], as model.onnx gives for the whole windows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..contract.bundle import ATTENTION, PROBS, TAIL
from ..contract.config import ModelConfig
from ..keras.oracle import EPSILON
from ..keras.padding import PaddingTables
from .onnx import BATCH, OPSET, write_checked

# Keras keeps an LSTM's gate blocks in the order i, f, c, o; ONNX in the order i, o, f, c.
KERAS_TO_ONNX_GATES = (0, 3, 1, 2)
IR_VERSION = 8


def onnx_gates(array: np.ndarray) -> np.ndarray:
    """Reorder the 4 gate blocks of the last axis from Keras's order to ONNX's."""
    blocks = np.split(np.asarray(array, np.float32), 4, axis=-1)
    return np.concatenate([blocks[k] for k in KERAS_TO_ONNX_GATES], axis=-1)


def packed_rows(config: ModelConfig, tables: PaddingTables) -> tuple[np.ndarray, list[int]]:
    """Everything the graph reads per padding count, one row per tail length k = max_length − p (k = 0..L), as
    float32 [1, L + 1, X], and the widths of its parts: per LSTM layer h then c (units each), m_p (1), v_p
    (channels), and the padding logits of all L positions (only the first p are read)."""
    length = config.max_length
    p = length - np.arange(length + 1)  # row k holds the tables at p = L − k
    parts = [table[p] for states in tables.states for table in states]
    parts += [
        tables.prefix_max[p][:, None],
        tables.prefix_weighted[p],
        np.repeat(tables.logits[None], length + 1, 0),
    ]
    return np.concatenate(parts, axis=1).astype(np.float32)[None], [part.shape[1] for part in parts]


def tail_graph(weights: dict[str, list[np.ndarray]], config: ModelConfig, tables: PaddingTables):
    """The ModelProto of the fast path (float32 weights {layer name: arrays}, as keras/oracle.py takes).

    Few nodes on purpose: at one window per call ONNX Runtime's fixed cost per node is a large part of a call, so
    the tables a call needs come from one Gather of a packed row per window (indexed by k, which the input's
    shape gives) and one Split."""
    from onnx import TensorProto, helper, numpy_helper

    length = config.max_length
    inits, nodes = [], []

    def const(name: str, value) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(op: str, inputs: list[str], name: str, **attrs) -> str:
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    zero, one, two, length1 = (
        const(n, np.array([v], np.int64))
        for n, v in (("zero", 0), ("one", 1), ("two", 2), ("length", length))
    )
    shape = node("Shape", [TAIL], "tail_shape")
    k = node("Slice", [shape, one, two], "k")  # [1]
    p = node("Sub", [length1, k], "p")  # [1]
    batch_k = node("Expand", [k, node("Slice", [shape, zero, one], "batch")], "batch_k")  # [B]: k per window
    rows, widths = packed_rows(config, tables)
    row = node("Gather", [const("padding_rows", rows), batch_k], "row", axis=1)  # [1, B, X]
    parts = [f"row_{i}" for i in range(len(widths))]
    nodes.append(helper.make_node("Split", [row, const("widths", np.array(widths, np.int64))], parts, axis=2))
    *states, prefix_max, prefix_weighted, pad_logits = parts  # [1, B, ·] each
    ids = node("Transpose", [TAIL], "ids", perm=[1, 0])  # [k, B]: the ONNX LSTM reads time first
    x = node("Gather", [const("embedding", np.asarray(weights["embedding"][0], np.float32)), ids], "embedded")
    features = [x]
    for number in range(1, config.rnn_layers + 1):
        kernel, recurrent, bias = (np.asarray(a, np.float32) for a in weights[f"rnn_{number}"])
        W = const(f"W_{number}", onnx_gates(kernel).T[None])
        R = const(f"R_{number}", onnx_gates(recurrent).T[None])
        B = const(f"B_{number}", np.concatenate([onnx_gates(bias), np.zeros_like(bias)])[None])
        h, c = states[2 * number - 2 : 2 * number]  # [1, B, U]: the state after p padding steps
        y = node("LSTM", [x, W, R, B, "", h, c], f"lstm_{number}", hidden_size=recurrent.shape[0])
        x = node("Squeeze", [y, one], f"rnn_{number}")  # [k, B, U]
        features.append(x)
    concat = node("Concat", features, "concat", axis=-1)  # [k, B, C]
    logits = node(
        "MatMul", [concat, const("attention_W", weights["attention"][0].astype(np.float32))], "logits"
    )  # [k, B, 1]
    # Every position's logit in one row per window (padding's from the table), the rule of keras/attention.py
    window_logits = node(
        "Concat",
        [
            node("Slice", [pad_logits, zero, p, two], "padding_logits"),  # [1, B, p]
            node("Transpose", [logits], "tail_logits", perm=[2, 1, 0]),  # [1, B, k]
        ],
        "window_logits",
        axis=2,
    )
    top = node("ReduceMax", [window_logits], "top", axes=[2], keepdims=1)  # [1, B, 1]
    e = node("Exp", [node("Sub", [window_logits, top], "shifted")], "e")  # [1, B, L]
    denominator = node(
        "Add",
        [node("ReduceSum", [e, two], "total", keepdims=1), const("epsilon", np.array(EPSILON, np.float32))],
        "denominator",
    )
    attention_weights = node("Div", [e, denominator], "attention_weights")  # [1, B, L]
    nodes.append(helper.make_node("Squeeze", [attention_weights, zero], [ATTENTION], name=ATTENTION))
    # Pooled features: the padding prefix's (v_p, relative to its own max m_p) plus the tail's, over (S + 1e-7)
    tail_e = node("Transpose", [node("Slice", [e, p, length1, two], "tail_e_row")], "tail_e", perm=[2, 1, 0])
    tail_part = node(
        "ReduceSum", [node("Mul", [tail_e, concat], "e_x"), zero], "tail_weighted", keepdims=1
    )  # [1, B, C]
    scale = node("Exp", [node("Sub", [prefix_max, top], "prefix_shift")], "scale")  # [1, B, 1]
    weighted = node("Add", [node("Mul", [prefix_weighted, scale], "prefix_part"), tail_part], "weighted")
    pooled = node("Squeeze", [node("Div", [weighted, denominator], "pooled_1"), zero], "pooled")  # [B, C]
    kernel, bias = (np.asarray(a, np.float32) for a in weights["output"])
    z = node(
        "Add",
        [node("MatMul", [pooled, const("output_kernel", kernel)], "z_0"), const("output_bias", bias)],
        "z",
    )
    nodes.append(helper.make_node("Softmax", [z], [PROBS], name=PROBS, axis=-1))
    num_classes = kernel.shape[1]
    graph = helper.make_graph(
        nodes,
        "textgen_tail",
        [helper.make_tensor_value_info(TAIL, TensorProto.INT32, [BATCH, "k"])],
        [
            helper.make_tensor_value_info(PROBS, TensorProto.FLOAT, [BATCH, num_classes]),
            helper.make_tensor_value_info(ATTENTION, TensorProto.FLOAT, [BATCH, length]),
        ],
        inits,
    )
    # IR version 8 (what opset 17 needs), as model.onnx has: ONNX Runtime Node/Web releases read no newer one.
    return helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="textgen_export",
        ir_version=IR_VERSION,
    )


def write_tail(
    weights: dict[str, list[np.ndarray]], config: ModelConfig, tables: PaddingTables, path: str | Path
) -> None:
    write_checked(tail_graph(weights, config, tables), path)
