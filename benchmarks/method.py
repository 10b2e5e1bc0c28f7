"""Timing method: the product's rule (textgen_export/runtime/speed.py: warm-up, repetitions until a minimum
time, median with p10/p90) and the lab's two budgets.

Every runtime is timed with the same rule (the Node and browser scripts use its JS twin, web_demo/src/timing.js),
in one run, so ratios between rows hold even on a noisy shared machine.
"""

from __future__ import annotations

from textgen_export.runtime.speed import Budget, Timing, measure, timed

__all__ = ["Budget", "Timing", "measure", "timed", "QUICK", "FULL"]

QUICK = Budget(min_time=0.05, min_reps=1, max_reps=20, warmup=1, max_time=2.0)
FULL = Budget(min_time=0.5, min_reps=3, max_reps=2000, warmup=2, max_time=4.0)
