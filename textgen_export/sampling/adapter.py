"""The adapter protocol the generation loop needs: anything that turns windows into next-token probabilities.

Everything else (windowing, temperatures, prefix, stop rules, seeding, detokenising) is the one generation loop
in sampling/generator.py; the JS twin is the `probs(windows, B)` adapter of web_demo/src/runtime/.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np


class ProbsAdapter(Protocol):
    def probs(self, windows: np.ndarray) -> np.ndarray:
        """int32 windows [B, max_length] → float32 probabilities [B, num_classes] (rows sum to 1)."""
        ...


class ForLabels:
    """An adapter that asks `adapter` for its context head's probabilities, fed one label vector for every
    window: `adapter.probs(windows, context=[B, labels])` seen through the one-argument protocol."""

    def __init__(self, adapter, vector: np.ndarray):
        self.adapter, self.vector = adapter, np.asarray(vector, dtype=np.float32)

    def rows(self, windows: np.ndarray) -> np.ndarray:
        return np.repeat(self.vector[None, :], len(windows), axis=0)

    def probs(self, windows: np.ndarray) -> np.ndarray:
        return self.adapter.probs(windows, context=self.rows(windows))

    def outputs(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.adapter.outputs(windows, context=self.rows(windows))
