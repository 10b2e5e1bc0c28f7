"""One results format: every figure a scenario measures is a row of the same shape.

    model, runtime, format, threads, test       what was measured (test: "call B=1", "gen 32 B=64", "train B=128")
    unit, median, p10, p90, reps, sd            the figure and its spread over repetitions (sd when samples exist)
    higher_is_better                            tok/s yes; MB of peak memory no
    x_baseline, baseline                        ratio to the scenario's baseline row, measured in the same run
    pct_roof, roof, bound                       share of the row's roof (sampling: compute or latency, roofline.py)
    status, note                                ok | unavailable | failed, and why

The report (report.py) renders any scenario's rows as llama-bench-style tables, one per model.
"""

from __future__ import annotations

import numpy as np


def spread(values: list[float]) -> dict:
    """Median, 10th/90th percentile, sd and count of repeated measurements of one figure."""
    data = np.asarray(values, dtype=np.float64)
    if not data.size:
        return {"median": None, "p10": None, "p90": None, "sd": None, "reps": 0}
    p10, median, p90 = np.percentile(data, [10, 50, 90])
    sd = float(np.std(data, ddof=1)) if data.size > 1 else None
    return {"median": float(median), "p10": float(p10), "p90": float(p90), "sd": sd, "reps": int(data.size)}


def row(
    model: str,
    runtime: str,
    test: str,
    unit: str,
    values: list[float] | None = None,
    *,
    format: str = "",
    threads: str = "",
    higher_is_better: bool = True,
    status: str = "ok",
    note: str = "",
    **figures,
) -> dict:
    """A row from repeated values (or from figures given directly: median=…, p10=…, p90=…, reps=…)."""
    measured = spread(values) if values is not None else {}
    base = {"median": None, "p10": None, "p90": None, "sd": None, "reps": 0}
    return {
        "model": model,
        "runtime": runtime,
        "format": format,
        "threads": threads,
        "test": test,
        "unit": unit,
        **base,
        **measured,
        **figures,
        "higher_is_better": higher_is_better,
        "status": status,
        "note": note,
    }


def missing(model: str, runtime: str, test: str, unit: str, status: str, why: str, **labels) -> dict:
    """A row for a figure that could not be measured here, with the reason."""
    return row(model, runtime, test, unit, status=status, note=why, **labels)


def add_baseline(rows: list[dict], baseline: str) -> None:
    """x_baseline = median / the baseline row's median for the same model and test (same run)."""
    base = {
        (r["model"], r["test"]): r["median"]
        for r in rows
        if r["runtime"] == baseline and r["status"] == "ok" and r["median"]
    }
    for r in rows:
        reference = base.get((r["model"], r["test"]))
        if r["median"] and reference:
            ratio = r["median"] / reference
            r["x_baseline"] = ratio if r["higher_is_better"] else 1 / ratio
            r["baseline"] = baseline
