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
