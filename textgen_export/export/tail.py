"""model_tail.onnx: the padding fast path as an ONNX graph, built directly from the weights and padding tables.

Input `tail` int32 [batch, k] (1 ≤ k ≤ max_length): the last k positions of windows whose first p = max_length − k
positions are padding.  The graph reads p off the input's shape, takes the LSTM initial states and the padding
prefix's attention summary from the tables (keras/padding.py, initialisers of the graph), runs the native ONNX
LSTMs over the k real positions only, and combines the attention over all max_length positions exactly (the
log-sum-exp rule in keras/padding.py).  Outputs `probs` [batch, num_classes] and `attention` [batch, max_length],
as model.onnx gives for the whole windows.
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


def tail_graph(weights: dict[str, list[np.ndarray]], config: ModelConfig, tables: PaddingTables):
    """The ModelProto of the fast path (float32 weights {layer name: arrays}, as keras/oracle.py takes)."""
    from onnx import TensorProto, helper, numpy_helper

    length = config.max_length
    inits, nodes = [], []

    def const(name: str, value) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(op: str, inputs: list[str], name: str, **attrs) -> str:
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    embedding = np.asarray(weights["embedding"][0], np.float32)
    const("length", np.array(length, np.int64))
    const("zero", np.array(0, np.int64))
    const("one", np.array(1, np.int64))
    const("axes0", np.array([0], np.int64))
    const("axes1", np.array([1], np.int64))
    const("axes2", np.array([2], np.int64))
    shape = node("Shape", [TAIL], "tail_shape")
    batch = node("Gather", [shape, "zero"], "batch")
    p = node("Sub", ["length", node("Gather", [shape, "one"], "k")], "p")
    p1 = node("Unsqueeze", [p, "axes0"], "p1")
    batch1 = node("Unsqueeze", [batch, "axes0"], "batch1")
    ids = node("Transpose", [TAIL], "ids", perm=[1, 0])  # [k, B]: the ONNX LSTM reads time first
    x = node("Gather", [const("embedding", embedding), ids], "embedded")  # [k, B, E]
    features = [x]
    for number in range(1, config.rnn_layers + 1):
        kernel, recurrent, bias = (np.asarray(a, np.float32) for a in weights[f"rnn_{number}"])
        units = recurrent.shape[0]
        state_shape = node(
            "Concat",
            [
                const(f"one1_{number}", np.array([1], np.int64)),
                batch1,
                const(f"units_{number}", np.array([units], np.int64)),
            ],
            f"state_shape_{number}",
            axis=0,
        )
        initial = []
        for which, table in zip("hc", tables.states[number - 1], strict=True):
            row = node("Gather", [const(f"{which}_table_{number}", table), p], f"{which}_row_{number}")
            initial.append(node("Expand", [row, state_shape], f"initial_{which}_{number}"))  # [1, B, U]
        W = const(f"W_{number}", onnx_gates(kernel).T[None])
        R = const(f"R_{number}", onnx_gates(recurrent).T[None])
        B = const(f"B_{number}", np.concatenate([onnx_gates(bias), np.zeros_like(bias)])[None])
        y = node("LSTM", [x, W, R, B, "", *initial], f"lstm_{number}", hidden_size=units)  # [k, 1, B, U]
        x = node("Squeeze", [y, "axes1"], f"rnn_{number}")  # [k, B, U]
        features.append(x)
    concat = node("Concat", features, "concat", axis=-1)  # [k, B, C]
    logits = node(
        "MatMul", [concat, const("attention_W", weights["attention"][0].astype(np.float32))], "logits"
    )
    m_p = node("Gather", [const("prefix_max", tables.prefix_max), p], "m_p")
    top = node(
        "Max", [node("ReduceMax", [logits], "tail_max", axes=[0], keepdims=1), m_p], "top"
    )  # [1, B, 1]
    e = node("Exp", [node("Sub", [logits, top], "shifted")], "e")  # [k, B, 1]
    scale = node("Exp", [node("Sub", [m_p, top], "prefix_shift")], "scale")  # [1, B, 1]
    s_p = node("Gather", [const("prefix_sum", tables.prefix_sum), p], "s_p")
    total = node(
        "Add",
        [node("Mul", [s_p, scale], "prefix_part"), node("ReduceSum", [e, "axes0"], "tail_sum", keepdims=1)],
        "total",
    )
    denominator = node("Add", [total, const("epsilon", np.array(EPSILON, np.float32))], "denominator")
    v_p = node("Gather", [const("prefix_weighted", tables.prefix_weighted), p], "v_p")  # [C]
    weighted = node(
        "Add",
        [
            node("Mul", [v_p, scale], "prefix_weighted_part"),
            node("ReduceSum", [node("Mul", [e, concat], "e_x"), "axes0"], "tail_weighted", keepdims=1),
        ],
        "weighted",
    )
    pooled = node("Squeeze", [node("Div", [weighted, denominator], "pooled_1"), "axes0"], "pooled")  # [B, C]
    kernel, bias = (np.asarray(a, np.float32) for a in weights["output"])
    z = node(
        "Add",
        [node("MatMul", [pooled, const("output_kernel", kernel)], "z_0"), const("output_bias", bias)],
        "z",
    )
    nodes.append(helper.make_node("Softmax", [z], [PROBS], name=PROBS, axis=-1))
    # attention [B, L]: padding positions e^(logits[t] − top) / denominator, then the tail's e / denominator
    top_b = node("Squeeze", [top, "axes0"], "top_b")  # [B, 1]
    denominator_b = node("Squeeze", [denominator, "axes0"], "denominator_b")  # [B, 1]
    pad_logits = node(
        "Slice",
        [const("pad_logits", tables.logits), node("Unsqueeze", ["zero", "axes0"], "zero1"), p1],
        "pad_logits_p",
    )
    pad = node(
        "Div",
        [node("Exp", [node("Sub", [pad_logits, top_b], "pad_shifted")], "pad_e"), denominator_b],
        "pad_attention",
    )
    tail_attention = node(
        "Transpose",
        [node("Squeeze", [node("Div", [e, denominator], "tail_a"), "axes2"], "tail_a_kb")],
        "tail_attention",
        perm=[1, 0],
    )
    nodes.append(helper.make_node("Concat", [pad, tail_attention], [ATTENTION], name=ATTENTION, axis=1))
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
