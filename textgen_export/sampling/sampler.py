"""Choosing the next token from a batch of next-token distributions (docs/design.md §3, Sampling).

The contract, shared with web_demo/src/sampling/sampler.js so seeded output is identical in both languages:
- T == 0: argmax (first index on ties).
- T > 0: q = log(p + 1e-7) / T, q -= max(q), e = exp(q), normalise by the sequential sum, then draw one uniform
  u from the row's splitmix64 stream and take the first index whose sequential running sum exceeds u (the last
  non-zero index if rounding leaves none).
- A draw of index 0 (padding) becomes the second most likely index by the model's probabilities (ties: lower
  index first).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence

import numpy as np

from ..errors import UserError
from .rng import SplitMix64

EPSILON = 1e-7
MAX_TEMPERATURE = 100.0


def check_temperatures(temperature: float | Sequence[float]) -> list[float]:
    """Normalise a temperature or a cycling list of them, rejecting NaN, negative and absurd values."""
    temps = list(temperature) if isinstance(temperature, list | tuple) else [temperature]
    if not temps:
        raise UserError("temperature list is empty; give at least one temperature such as 0.5")
    out = []
    for t in temps:
        try:
            value = float(t)
        except (TypeError, ValueError):
            raise UserError(f"temperature must be a number, got {t!r}") from None
        if not math.isfinite(value) or value < 0 or value > MAX_TEMPERATURE:
            raise UserError(
                f"temperature must be between 0 and {MAX_TEMPERATURE:g} (0 = greedy), got {t!r}; try 0.2 to 1.0"
            )
        out.append(value)
    return out


def tempered(
    probs: np.ndarray, temperature: float, out: np.ndarray | None = None, scratch: np.ndarray | None = None
) -> np.ndarray:
    """Tempered, normalised float64 distributions for a [B, V] batch (temperature > 0), written into `out` when
    given (a float64 array of probs' shape), else into a new array; `scratch`, a float64 array of the same shape,
    takes the running sums when given; `probs` is never changed.  Ufuncs are called directly: at one row their
    per-call cost, not the arithmetic, is most of the time."""
    q = out if out is not None else np.empty(probs.shape, dtype=np.float64)
    np.add(probs, EPSILON, out=q, dtype=np.float64)  # probs widened to float64 before the addition
    np.log(q, out=q)
    np.divide(q, temperature, out=q)
    np.subtract(q, np.maximum.reduce(q, axis=1, keepdims=True), out=q)
    np.exp(q, out=q)
    # add.accumulate is a sequential sum, the same order of additions the JS sampler uses.
    np.divide(q, np.add.accumulate(q, axis=1, out=scratch)[:, -1:], out=q)
    return q


def check_finite(probs: np.ndarray) -> np.ndarray:
    """Refuse probabilities a damaged model gives (NaN or infinity) instead of sampling padding from them."""
    if not math.isfinite(probs.sum()):
        raise UserError(
            "the model's next-token probabilities are not finite numbers: its weights hold NaN or infinity "
            "(a diverged or damaged model); retrain it or use another model"
        )
    return probs


def second_best(probs_row: np.ndarray) -> int:
    order = np.lexsort((np.arange(probs_row.shape[0]), -probs_row.astype(np.float64)))
    return int(order[1])


_scratch = threading.local()  # per thread: reused float64 buffers (a fresh multi-MB array costs page faults)


def pick(probs: np.ndarray, temperature: float, rngs: Sequence[SplitMix64]) -> np.ndarray:
    """One token index per row of `probs` [B, V]; row b draws from `rngs[b]`.  Callers check the probabilities
    first (check_finite)."""
    if temperature == 0:
        return np.argmax(probs, axis=1)
    u = np.array([rng.uniform() for rng in rngs])
    return _pick_rows(probs, temperature, u)


def _buffer(name: str, shape: tuple[int, int]) -> np.ndarray:
    """A [B, V] float64 work array, a view of this thread's buffer when that is wide and tall enough (batches
    shrink as texts finish, so the first, largest batch's buffer serves the rest)."""
    rows, width = shape
    found = getattr(_scratch, name, None)
    if found is None or found.shape[1] != width or found.shape[0] < rows:
        found = np.empty(shape, dtype=np.float64)
        setattr(_scratch, name, found)
    return found[:rows]


def _pick_rows(probs: np.ndarray, temperature: float, u: np.ndarray) -> np.ndarray:
    running = _buffer("running", probs.shape)
    dist = tempered(probs, temperature, out=_buffer("dist", probs.shape), scratch=running)
    np.add.accumulate(dist, axis=1, out=running)
    # Running sums never decrease (the terms are ≥ 0), so the first index whose sum exceeds u is the count of
    # sums that do not; a count of V means rounding left none above u.
    width = probs.shape[1]
    if len(u) == 1:  # one stream: a binary search, and the checks below on a Python int
        first = int(running[0].searchsorted(u[0], side="right"))
        if 0 < first < width:
            return np.array([first])
        chosen = np.array([first])
    else:
        chosen = np.add.reduce(running <= u[:, None], axis=1, dtype=np.int64)
    second_look = (chosen == 0) | (chosen == width)
    for b in np.flatnonzero(second_look):  # the few rows drawn as padding or left with no sum above u
        if chosen[b] == width:
            chosen[b] = np.flatnonzero(dist[b])[-1]
        if chosen[b] == 0:
            chosen[b] = second_best(probs[b])
    return chosen


def top_options(probs_row: np.ndarray, top_n: int) -> list[int]:
    """The `top_n` most likely indices, most likely first, padding excluded (for interactive mode)."""
    order = np.lexsort((np.arange(probs_row.shape[0]), -probs_row.astype(np.float64)))
    return [int(i) for i in order if i != 0][:top_n]
