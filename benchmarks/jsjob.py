"""The job a JS benchmark script receives and the result rows it returns (shared by Node and Chromium).

Job (JSON): the bundle's model files, the plan (batches, budget, generation lengths, seed), the fixed check
windows and the timing windows, so JS runtimes are checked and timed on exactly what Python used.
Reply (JSON): {"results": [{runtime, threads, format, status, reason, load_s, first_token_s, peak_rss_mb,
"probs": [[...]] (for the check windows), "greedy_text", "cells": [{batch, mode, tokens, chars, timing}]}]}.
Validity is judged here, in Python, by the same code as for the Python runtimes.
"""

from __future__ import annotations

import numpy as np

from textgen_export.sampling.generator import Generator
from textgen_export.web.page import web_demo_dir

from . import LAB
from .method import Timing
from .models import BenchModel
from .runtimes import Cell, Plan, Result, bench_windows, validity

JS_TOOLS = LAB
WEB_DEMO = web_demo_dir()


def job(bench: BenchModel, plan: Plan, reference: dict, runtime: str, files: dict[str, str]) -> dict:
    return {
        "runtime": runtime,
        "files": files,
        "config": bench.config.to_dict(),
        "vocab": {bench.vocab.token(i): i for i in range(1, bench.num_classes)},
        "num_classes": bench.num_classes,
        "prefix": bench.prefix,
        "start_tokens": Generator(None, bench.vocab, bench.config).start_tokens(bench.prefix),
        "greedy_max_tokens": plan.greedy_length
        + (bench.config.max_length if bench.config.single_text else 0),
        **plan.to_dict(),
        "e2e_budget": plan.e2e_budget.to_dict(),
        "check_windows": reference["windows"].tolist(),
        "windows": {str(b): bench_windows(bench, b).tolist() for b in plan.batches},
    }


def to_result(bench: BenchModel, group: str, row: dict, reference: dict) -> Result:
    result = Result(
        bench.name,
        row.get("runtime", "?"),
        group,
        str(row.get("threads", "1")),
        status=row.get("status", "failed"),
        reason=row.get("reason", ""),
        format=row.get("format", ""),
        load_s=row.get("load_s"),
        first_token_s=row.get("first_token_s"),
        peak_rss_mb=row.get("peak_rss_mb"),
    )
    if result.status != "ok":
        return result
    probs = np.asarray(row.get("probs") or [[]], dtype=np.float64)
    result.checks = validity(probs, reference["probs"], bench.num_classes)
    if row.get("device"):
        result.checks["device"] = row["device"]
    tokens = row.get("greedy_tokens")
    finish = Generator(None, bench.vocab, bench.config).finish_text
    greedy = (
        row["greedy_text"] if "greedy_text" in row else finish(tokens) if isinstance(tokens, list) else None
    )
    result.checks["greedy_text"] = greedy
    result.checks["greedy_matches"] = greedy == reference["greedy_text"]
    for cell in row.get("cells", []):
        timing = cell.get("timing")
        result.cells.append(
            Cell(
                int(cell["batch"]),
                cell["mode"],
                int(cell["tokens"]),
                int(cell.get("chars", 0)),
                Timing(**timing) if timing else None,
                cell.get("note", ""),
            )
        )
    return result


def unavailable(
    bench: BenchModel, group: str, runtimes, reason: str, status: str = "unavailable"
) -> list[Result]:
    return [
        Result(bench.name, name, group, threads, status=status, reason=reason, format=fmt)
        for name, threads, fmt in runtimes
    ]
