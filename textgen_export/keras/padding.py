"""Padding tables: what a window's leading padding contributes, computed once from the weights (float64).

A window with p leading zeros (padding, or unknown tokens: index 0 either way) runs every LSTM over p identical
inputs from a zero state first.  Position t < p sees the same input and the same state in every such window, so
everything there depends on the weights alone, and on t, not on p.  From one float64 run over an all-padding
window of max_length (keras/oracle.py's `lstm`, stored as float32):

    states[l][0|1][p]   (h, c) of LSTM layer l after p padding steps, p = 0..max_length; [2, L + 1, units]
    logits[t]           the attention logit x_t·W of padding position t, t = 0..max_length−1
    prefix_max[p]       m_p = max over t < p of logits[t]  (−∞ for p = 0)
    prefix_sum[p]       s_p = Σ_{t<p} exp(logits[t] − m_p)
    prefix_weighted[p]  v_p = Σ_{t<p} exp(logits[t] − m_p) · x_t, x_t the concatenated features [channels]

where x_t = concat(embedding[0], h_1 at t, h_2 at t, ...).  The attention over a whole window then combines
exactly with the tail (positions p..L−1, logits l_t, features x_t), as log-sum-exp does:

    M = max(m_p, max_t l_t);  S = s_p·e^(m_p−M) + Σ_t e^(l_t−M);  V = v_p·e^(m_p−M) + Σ_t e^(l_t−M)·x_t
    output = V / (S + 1e-7);  attention = e^(logits[t]−M) / (S + 1e-7) at padding, e^(l_t−M) / (S + 1e-7) after

which is keras/attention.py's rule (max subtracted over all positions, 1e-7 in the denominator) in real
arithmetic.  Bidirectional models have no tables: the backward pass reads the padding last.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..contract.config import ModelConfig
from .oracle import lstm


@dataclass(frozen=True)
class PaddingTables:
    states: list[np.ndarray]  # per LSTM layer: float32 [2 (h, c), max_length + 1, units]
    logits: np.ndarray  # float32 [max_length]
    prefix_max: np.ndarray  # float32 [max_length + 1]
    prefix_sum: np.ndarray  # float32 [max_length + 1]
    prefix_weighted: np.ndarray  # float32 [max_length + 1, channels]


def padding_tables(weights: dict[str, list[np.ndarray]], config: ModelConfig) -> PaddingTables:
    """The tables of a (unidirectional) model from its weights ({layer name: arrays}, as oracle.forward takes)."""
    if config.rnn_bidirectional:
        raise ValueError("bidirectional models have no padding tables (the backward pass reads padding last)")
    w = {name: [np.asarray(a, dtype=np.float64) for a in arrays] for name, arrays in weights.items()}
    length = config.max_length
    x = np.repeat(w["embedding"][0][:1], length, axis=0)  # [L, E]: index 0 at every position
    features, states = [x], []
    for number in range(1, config.rnn_layers + 1):
        h, c = (seq[0] for seq in lstm(x[None], *w[f"rnn_{number}"], cells=True))  # [L, U] each
        start = np.zeros((1, h.shape[1]))  # the state after 0 steps
        states.append(np.stack([np.concatenate([start, h]), np.concatenate([start, c])]).astype(np.float32))
        x = h  # outputs at positions 0..L−1
        features.append(x)
    concat = np.concatenate(features, axis=-1)  # [L, channels]
    logits = (concat @ w["attention"][0])[:, 0]
    prefix_max = np.full(length + 1, -np.inf)
    prefix_sum = np.zeros(length + 1)
    prefix_weighted = np.zeros((length + 1, concat.shape[1]))
    for p in range(1, length + 1):
        m = logits[:p].max()
        e = np.exp(logits[:p] - m)
        prefix_max[p], prefix_sum[p], prefix_weighted[p] = m, e.sum(), e @ concat[:p]
    return PaddingTables(
        states=states,
        logits=logits.astype(np.float32),
        prefix_max=prefix_max.astype(np.float32),
        prefix_sum=prefix_sum.astype(np.float32),
        prefix_weighted=prefix_weighted.astype(np.float32),
    )
