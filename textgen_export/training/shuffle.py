"""The seeded data order of training: splitmix64 draws driving a Fisher–Yates shuffle, the same in Python and
JavaScript (twin: web_demo/src/training/shuffle.js), so a run in either language sees the same batches.

One index in [0, n): `r = (2**64 - n) % n`; draw `x = next_u64()` until `x >= r`; the index is `x % n` (the
accepted values are a whole number of runs of n, so every index is equally likely; for n < 2**32 a redraw
happens with probability below 2**-32). A shuffle of n items: for i = n-1 down to 1, swap items i and
index(i + 1), in place, from one stream that goes on from shuffle to shuffle.

The draws are computed with numpy (splitmix64's k-th output depends only on seed + k·golden), the swaps in one
loop over memoryviews: a 10-million-position shuffle takes a few seconds.
"""

from __future__ import annotations

import numpy as np

from ..sampling.rng import SplitMix64

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_CHUNK = 1 << 20


def _outputs(rng: SplitMix64, count: int) -> np.ndarray:
    """The next `count` outputs of `rng` (which advances past them), as uint64."""
    with np.errstate(over="ignore"):
        z = np.uint64(rng.state) + _GOLDEN * np.arange(1, count + 1, dtype=np.uint64)
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        z ^= z >> np.uint64(31)
    rng.state = (rng.state + count * 0x9E3779B97F4A7C15) & ((1 << 64) - 1)
    return z


def below(rng: SplitMix64, n: int) -> int:
    """One index in [0, n) (the rule of the module docstring)."""
    reject = ((1 << 64) - n) % n
    while True:
        x = rng.next_u64()
        if x >= reject:
            return x % n


def draws(rng: SplitMix64, n: int) -> np.ndarray:
    """The swap partners of a shuffle of n items: entry i (1 <= i < n) is index(i + 1), drawn for i = n-1 first."""
    partner = np.zeros(max(n, 1), dtype=np.uint64)
    top = n - 1  # the next i to draw for
    while top >= 1:
        count = min(_CHUNK, top)
        bounds = np.arange(top + 1, top + 1 - count, -1, dtype=np.uint64)  # i + 1 for i = top, top-1, ...
        with np.errstate(over="ignore"):
            reject = (np.uint64(0) - bounds) % bounds
        state = rng.state
        x = _outputs(rng, count)
        bad = np.flatnonzero(x < reject)
        take = int(bad[0]) if len(bad) else count
        partner[top - take + 1 : top + 1] = (x[:take] % bounds[:take])[::-1]
        if take < count:  # a rare rejection: redraw this one exactly, then go on from the stream after it
            rng.state = (state + take * 0x9E3779B97F4A7C15) & ((1 << 64) - 1)
            partner[top - take] = below(rng, top - take + 1)
            take += 1
        top -= take
    return partner


def shuffle(items: np.ndarray, rng: SplitMix64) -> None:
    """Fisher–Yates shuffle of the 1-D array `items` in place, drawing from `rng`."""
    n = len(items)
    if n < 2:
        return
    if not items.flags.c_contiguous:
        raise ValueError("shuffle needs a contiguous array")
    partner, view = memoryview(draws(rng, n)), memoryview(items)
    for i in range(n - 1, 0, -1):
        j = partner[i]
        view[i], view[j] = view[j], view[i]


def permutation(n: int, seed: int) -> list[int]:
    """0..n-1 shuffled with a fresh stream from `seed` (the test vector of docs/design.md)."""
    order = np.arange(n, dtype=np.int64)
    shuffle(order, SplitMix64(seed))
    return order.tolist()
