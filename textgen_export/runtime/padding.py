"""How much padding a batch of windows shares: what a fast-path adapter skips (TF-free).

Leading zeros are padding to the model whatever their origin (a leading unknown token is index 0 too).  A batch
can skip the padding all its rows share: the fewest leading zeros of any row.  Rows with more keep the rest of
their zeros in the tail, where the LSTMs read them as ordinary inputs, which is what the full window does too.
"""

from __future__ import annotations

import numpy as np


def leading_zeros(windows: np.ndarray) -> np.ndarray:
    """The padding of each row of `windows` [B, L]: its count of leading zeros (L for a row of zeros)."""
    nonzero = np.asarray(windows) != 0
    return np.where(nonzero.any(axis=1), nonzero.argmax(axis=1), nonzero.shape[1])


def shared_padding(windows: np.ndarray) -> int:
    """The fewest leading zeros of any row of `windows` [B, L] (0 when B = 0): the first column that is not all 0."""
    windows = np.asarray(windows)
    if not windows.size:
        return 0
    if len(windows) == 1 and windows.dtype.kind in "iu":
        # One window (one stream, every step): its leading zero bytes, in whole elements.  Cheaper than the array
        # reductions below, whose fixed cost is most of the time at this size.
        raw = windows.tobytes()
        return (len(raw) - len(raw.lstrip(b"\0"))) // windows.itemsize
    used = windows.any(axis=0)
    return int(used.argmax()) if used[used.argmax()] else len(used)


def tail_length(windows: np.ndarray) -> int | None:
    """The k last positions a fast path must run (1 ≤ k < L), or None when there is no padding to skip
    (or nothing but padding, which the full path answers)."""
    length = np.shape(windows)[-1]
    padding = shared_padding(windows)
    return length - padding if 0 < padding < length else None
