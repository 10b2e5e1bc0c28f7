"""What one generated text looked like from inside: per token, the window the model read, where its attention
went, and the candidates the sampler chose among (Generator.trace records it; the page shows the same).

Attention is textgenrnn's AttentionWeightedAverage over the window's positions: one weight per position,
oldest first, summing to 1 (within float32).  Padding positions (the window before the text was long enough)
are None in `window`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..contract.display import token_label
from ..contract.vocabulary import Vocabulary
from ..errors import UserError
from .glyphs import PlotFonts
from .sampler import tempered

MAX_TOP_K = 100
MAX_LABELLED_STEPS = 150  # plots with more rows than this leave the cells unlabelled


def check_top_k(top_k: int) -> int:
    if isinstance(top_k, bool) or not isinstance(top_k, int | np.integer) or not 1 <= top_k <= MAX_TOP_K:
        raise UserError(f"top_k must be an integer from 1 to {MAX_TOP_K}, got {top_k!r}")
    return int(top_k)


@dataclass
class TraceStep:
    """One model call for one text."""

    window: list[str | None]  # the max_length tokens the model read, oldest first (None = padding)
    attention: np.ndarray  # float64 [max_length]: its attention over those positions
    temperature: float
    candidates: list[tuple[str, float]]  # the top-k next tokens and the probabilities the sampler drew from
    token: str  # the token the sampler chose


@dataclass
class Trace:
    """One generated text and every step that produced it (one step per generated token, `<s>` end included)."""

    text: str
    tokens: list[str]
    steps: list[TraceStep]

    def attention_matrix(self) -> np.ndarray:
        """float64 [steps, max_length]: row t is generated token t's attention over its window."""
        return np.array([s.attention for s in self.steps], dtype=np.float64)


def window_tokens(tokens: Sequence[str], max_length: int) -> list[str | None]:
    """The tokens of the window built from `tokens` (its last max_length), left-padded with None."""
    last = list(tokens[-max_length:])
    return [None] * (max_length - len(last)) + last


def drawn_from(probs_row: np.ndarray, temperature: float) -> np.ndarray:
    """The float64 distribution the sampler draws from: the tempered one, or the model's own probabilities at
    temperature 0 (greedy)."""
    row = np.asarray(probs_row, dtype=np.float64)
    return row if temperature == 0 else tempered(row[None, :], temperature)[0]


def top_candidates(probs_row: np.ndarray, temperature: float, top_k: int, vocab: Vocabulary):
    """The `top_k` most likely next tokens (padding excluded) with the probabilities the sampler drew from."""
    return ranked(drawn_from(probs_row, temperature), top_k, vocab)


def ranked(dist: np.ndarray, top_k: int, vocab: Vocabulary) -> list[tuple[str, float]]:
    """The `top_k` most likely tokens of `dist` (padding excluded, ties: lower index first)."""
    order = np.lexsort((np.arange(dist.shape[0]), -dist))
    return [(vocab.token(i), float(dist[i])) for i in order if i != 0][:top_k]


def visible(token: str | None) -> str:
    """How a token is drawn in a plot: padding as ·, invisible characters named (contract/display.py)."""
    if token is None:
        return "·"
    return token_label(token)


def save_attention_png(trace: Trace, path: str | Path, log_scale: bool = True) -> None:
    """A heat-map PNG of the trace: one row per generated token, one column per window position.

    Written atomically; matplotlib is imported here (a dev dependency), with a one-line error if it is missing.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.colors import LogNorm, Normalize
    except ImportError:
        raise UserError("--attention-png needs matplotlib: pip install matplotlib") from None
    from ..files.atomic import atomic_path

    matrix = trace.attention_matrix()
    if matrix.size == 0:
        raise UserError("nothing was generated, so there is no attention to plot; raise --max-length")
    steps, length = matrix.shape
    norm = LogNorm(vmin=1e-4, vmax=1.0, clip=True) if log_scale else Normalize(vmin=0.0, vmax=1.0)
    fig, ax = plt.subplots(figsize=(min(4 + 0.22 * length, 18), min(2 + 0.2 * steps, 60)))
    image = ax.imshow(
        np.maximum(matrix, 1e-12), cmap="magma_r", norm=norm, aspect="auto", interpolation="nearest"
    )
    labelled = (
        steps <= MAX_LABELLED_STEPS
    )  # each cell names the token read there (beyond this, too small to read)
    rows = [visible(s.token) for s in trace.steps]
    cells = {visible(token) for s in trace.steps for token in s.window} if labelled else set()
    fonts, mono = PlotFonts(cells), PlotFonts(rows, family="monospace")
    if labelled:
        shade = norm(np.maximum(matrix, 1e-12))
        for t, step in enumerate(trace.steps):
            for k, token in enumerate(step.window):
                if token is not None:
                    colour = "white" if shade[t, k] > 0.6 else "black"
                    ax.text(
                        k,
                        t,
                        fonts.label(visible(token)),
                        ha="center",
                        va="center",
                        fontsize=5,
                        color=colour,
                        family=fonts.families,
                    )
    ax.set_yticks(range(steps), [mono.label(r) for r in rows], fontsize=7, family=mono.families)
    ax.set_xticks(range(length), [str(k - length) for k in range(length)], fontsize=6)
    ax.set_xlabel("window position (−1 = the token just before; ␣ = space, <s> = start of text)")
    ax.set_ylabel("generated token")
    ax.set_title("attention of each generated token over its window")
    fig.colorbar(image, ax=ax, label="attention weight" + (" (log scale)" if log_scale else ""))
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
