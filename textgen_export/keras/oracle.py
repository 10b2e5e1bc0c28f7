"""An independent float64 numpy forward pass of the textgenrnn network.

Used by the tests to check the Keras model (and through it every exported runtime).  It shares no code with
the Keras model: only the weights and the written semantics of docs/design.md §3.
"""

from __future__ import annotations

import numpy as np

from ..contract.config import ModelConfig

EPSILON = 1e-7


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def lstm(x: np.ndarray, kernel: np.ndarray, recurrent: np.ndarray, bias: np.ndarray, cells: bool = False):
    """x [B, T, D] → h [B, T, U], zero initial state, gates i, f, c, o; with `cells`, (h, c) [B, T, U]."""
    batch, steps, _ = x.shape
    units = recurrent.shape[0]
    h = np.zeros((batch, units))
    c = np.zeros((batch, units))
    projected = x @ kernel + bias
    out = np.empty((batch, steps, units))
    cell_out = np.empty((batch, steps, units))
    for t in range(steps):
        z = projected[:, t] + h @ recurrent
        i, f, g, o = (z[:, k * units : (k + 1) * units] for k in range(4))
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        out[:, t], cell_out[:, t] = h, c
    return (out, cell_out) if cells else out


def softmax_dense(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    z = x @ kernel + bias
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def forward(
    weights: dict[str, list[np.ndarray]],
    config: ModelConfig,
    windows: np.ndarray,
    context: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Next-token probabilities [B, V] and attention weights [B, T] for int windows [B, T], in float64.

    With `context` (label vectors [B, labels]) the probabilities are the context head's: a softmax layer
    (`context_output`) over the attention output concatenated with the label vector (docs/design.md §3)."""
    w = {name: [np.asarray(a, dtype=np.float64) for a in arrays] for name, arrays in weights.items()}
    embedded = w["embedding"][0][np.asarray(windows)]
    sequences = [embedded]
    x = embedded
    for number in range(1, config.rnn_layers + 1):
        arrays = w[f"rnn_{number}"]
        if config.rnn_bidirectional:
            forward_h = lstm(x, *arrays[:3])
            backward_h = lstm(x[:, ::-1], *arrays[3:])[:, ::-1]
            x = np.concatenate([forward_h, backward_h], axis=-1)
        else:
            x = lstm(x, *arrays)
        sequences.append(x)
    concat = np.concatenate(sequences, axis=-1)
    logits = (concat @ w["attention"][0])[..., 0]
    a = np.exp(logits - logits.max(axis=1, keepdims=True))
    a = a / (a.sum(axis=1, keepdims=True) + EPSILON)
    pooled = (concat * a[..., None]).sum(axis=1)
    if context is not None:
        merged = np.concatenate([pooled, np.asarray(context, dtype=np.float64)], axis=-1)
        return softmax_dense(merged, *w["context_output"]), a
    return softmax_dense(pooled, *w["output"]), a


def model_weights(model) -> dict[str, list[np.ndarray]]:
    """{layer name: [arrays]} of a Keras model's weighted layers: what `forward` takes (no TF import needed)."""
    return {layer.name: layer.get_weights() for layer in model.layers if layer.weights}


class OracleAdapter:
    """The float64 forward pass as a runtime adapter (probs(windows)), so the one generation loop can drive it."""

    name = "float64 oracle"

    def __init__(self, weights: dict[str, list[np.ndarray]], config: ModelConfig):
        self.weights = {n: [np.asarray(a, dtype=np.float64) for a in arrays] for n, arrays in weights.items()}
        self.config = config

    def outputs(
        self, windows: np.ndarray, context: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        return forward(self.weights, self.config, windows, context)

    def probs(self, windows: np.ndarray, context: np.ndarray | None = None) -> np.ndarray:
        return self.outputs(windows, context)[0]
