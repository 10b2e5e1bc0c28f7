"""splitmix64: the seeded random stream shared by the Python and JavaScript samplers.

Library RNGs differ between languages; this one is a few lines of integer arithmetic, so both sides draw the
same numbers for the same seed (JS twin: web_demo/src/sampling/rng.js).
"""

from __future__ import annotations

_MASK = (1 << 64) - 1


def fold_seed(seed: int) -> int:
    """Any integer seed as the 64-bit state it starts from (modulo 2**64: -1 is 2**64 - 1). Every seed the
    commands accept goes through here, so one integer means one stream wherever it is given."""
    return int(seed) & _MASK


class SplitMix64:
    def __init__(self, seed: int):
        self.state = fold_seed(seed)

    def next_u64(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & _MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return z ^ (z >> 31)

    def uniform(self) -> float:
        """A float in [0, 1) with 53 random bits."""
        return (self.next_u64() >> 11) * (2.0**-53)
