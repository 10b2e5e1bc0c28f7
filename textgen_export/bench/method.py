"""Timing method: warm-up, then repetitions until a minimum time has passed; median with p10/p90.

Every runtime is timed with the same rules (the Node and browser scripts implement the same loop), in one
run, so ratios between rows hold even on a noisy shared machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Budget:
    """How long to measure one (runtime, batch) cell."""

    min_time: float = 1.0  # keep repeating until this many seconds of measured calls
    min_reps: int = 3
    max_reps: int = 1000
    warmup: int = 1
    max_time: float = 8.0  # a single call slower than this is measured once, not repeated

    def to_dict(self) -> dict:
        return asdict(self)


QUICK = Budget(min_time=0.05, min_reps=1, max_reps=20, warmup=1, max_time=2.0)
FULL = Budget(min_time=0.5, min_reps=3, max_reps=2000, warmup=2, max_time=4.0)


@dataclass(frozen=True)
class Timing:
    """Seconds per repetition: median, 10th and 90th percentile, over `reps` repetitions."""

    median: float
    p10: float
    p90: float
    reps: int

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def of(cls, samples: list[float]) -> Timing:
        values = np.asarray(samples, dtype=np.float64)
        p10, median, p90 = np.percentile(values, [10, 50, 90])
        return cls(float(median), float(p10), float(p90), len(values))


def measure(call: Callable[[], object], budget: Budget) -> Timing:
    """Time `call()` after `budget.warmup` untimed calls, repeating until min_time and min_reps are met."""
    for _ in range(budget.warmup):
        start = time.perf_counter()
        call()
        if time.perf_counter() - start > budget.max_time:
            break  # one more call would cost too much; the next one is the only sample
    samples: list[float] = []
    total = 0.0
    while len(samples) < budget.max_reps:
        start = time.perf_counter()
        call()
        elapsed = time.perf_counter() - start
        samples.append(elapsed)
        total += elapsed
        if total >= budget.min_time and len(samples) >= budget.min_reps:
            break
        if elapsed > budget.max_time:
            break
    return Timing.of(samples)


def timed(call: Callable[[], object]) -> tuple[float, object]:
    """(seconds, result) of one call."""
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result
