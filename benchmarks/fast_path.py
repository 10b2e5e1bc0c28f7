"""The sampling scenario's padding fast path section: the same generations on the full and the fast path, one run.

Two tests, seeded (temperature 0.5, seed 2026), from the empty prefix, at each batch size (1, 8, 64, 256):
  gen32   generation of up to 32 tokens (the leading <s> included, as the scenario's gen test)
  to_end  generation to <s> of short texts (titles, tweets: each text stops at its own <s>, or at 100 tokens)
Runtimes, each through its own adapter and the shared generation loop of its language:
  python    ort-cpu-fp32, one thread (textgen_export/runtime/onnx.py; fast: with model_tail.onnx)
  node      onnxruntime-node (one thread) and TF.js wasm, the page's adapters (benchmarks/fast_path.mjs)
  chromium  ONNX Runtime Web wasm (one thread) and TF.js wasm, the page's adapters (browser_bench.mjs)
Repetitions come in pairs, full then fast or fast then full in turn, so load on a shared machine hits both paths
alike; a cell's time is the median of its path's repetitions, its speed-up the median of the pairs' ratios, with
their 10th–90th percentile as the spread.  One-stream cells (B = 1) get at least 15 pairs.  Every path must
write the same texts, and in Node and Chromium the same texts as Python (checked; a difference is invalid).

Roof (Python rows): the steps each path actually does.  A call over k positions makes layers·k sequential
recurrent steps, each reading its H×4H fp32 kernel at the cache bandwidth roofs.py measured in this run (one
core): the latency roof (roofline.latency_floor_s at max_length k).  The compute roof divides the FLOPs of
the positions actually run (roofline.flops_per_token at max_length k, per row) by the best one-thread fp32 GEMM
rate measured in this run.  A cell's roof is the larger of the two times; % of roof = roof time / measured time.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from textgen_export.contract.bundle import ONNX, ONNX_TAIL
from textgen_export.runtime.padding import tail_length
from textgen_export.sampling.generator import Generator

from .models import BenchModel
from .roofline import flops_per_token, latency_floor_s

TESTS = {"gen32": 32, "to_end": 100}
TEMPERATURE, SEED = 0.5, 2026
PATHS = ("full", "fast")
MIN_PAIRS, MIN_PAIRS_ONE_STREAM = 3, 15
NODE_RUNTIMES = ("onnxruntime-node", "tfjs-node-wasm")
BROWSER_RUNTIMES = ("chromium-ort-web-wasm", "chromium-tfjs-wasm")
MAX_GENERATION_S = 20.0  # JS: a batch size whose generation would take longer is skipped (bench_core.mjs)
PREFIX = "fast-path "  # the section's runtime names: `--runtimes fast-path` measures this section alone


def names() -> list[tuple[str, str]]:
    """(name, group) of the section's runtimes, as --runtimes selects them."""
    return [
        (PREFIX + "ort-cpu-fp32", "python"),
        *((PREFIX + r, "node") for r in NODE_RUNTIMES),
        *((PREFIX + r, "chromium") for r in BROWSER_RUNTIMES),
    ]


REPO = Path(__file__).resolve().parent.parent


class Counting:
    """An adapter wrapper that records, per call, the rows it got and the positions the path runs."""

    def __init__(self, adapter, fast: bool):
        self.adapter, self.fast = adapter, fast
        self.calls: list[tuple[int, int]] = []  # (rows, positions run)

    def probs(self, windows: np.ndarray) -> np.ndarray:
        length = windows.shape[1]
        self.calls.append((len(windows), (tail_length(windows) or length) if self.fast else length))
        return self.adapter.probs(windows)


def roof_seconds(calls, config, num_classes: int, roofs: dict) -> dict:
    """Latency and compute roofs of the calls a generation made (rows, positions run), one thread."""
    cache_gbs = roofs["cache_bandwidth_gbs"]
    gflops = roofs["compute_fp32"]["1"]["gflops"]
    latency = sum(latency_floor_s(replace(config, max_length=k), cache_gbs, 1) for _, k in calls)
    flops = sum(rows * flops_per_token(replace(config, max_length=k), num_classes) for rows, k in calls)
    return {"latency_s": latency, "compute_s": flops / (gflops * 1e9), "flops": flops}


def paired(run: Callable[[str], float], min_time: float, min_pairs: int) -> dict[str, list[float]]:
    """Alternate the paths' repetitions in pairs (which goes first alternates too) until both minimums."""
    times: dict[str, list[float]] = {p: [] for p in PATHS}
    spent = 0.0
    while spent < min_time or len(times["full"]) < min_pairs:
        order = PATHS if len(times["full"]) % 2 == 0 else PATHS[::-1]
        for path in order:
            seconds = run(path)
            times[path].append(seconds)
            spent += seconds
    return times


def timing(times: dict[str, list[float]], tokens: int) -> dict:
    """Per path: median, p10/p90 and tok/s; the speed-up as the median pair ratio with its p10–p90."""
    out = {"tokens": tokens, "pairs": len(times["full"]), "paths": {}}
    for path in PATHS:
        t = np.asarray(times[path])
        median = float(np.median(t))
        out["paths"][path] = {
            "seconds": median,
            "p10": float(np.percentile(t, 10)),
            "p90": float(np.percentile(t, 90)),
            "tok_s": tokens / median,
        }
    ratios = np.asarray(times["full"]) / np.asarray(times["fast"])
    out["speedup"] = float(np.median(ratios))
    out["speedup_p10"], out["speedup_p90"] = (float(np.percentile(ratios, q)) for q in (10, 90))
    return out


def python_cells(bench: BenchModel, batches, roofs: dict, min_time: float, log) -> tuple[list[dict], dict]:
    """ort-cpu-fp32 (one thread), full vs fast; returns the cells and the texts per (test, batch)."""
    from textgen_export.runtime.onnx import OnnxRuntime

    bundle = bench.bundles["main"]
    adapters = {
        "full": OnnxRuntime(bundle / ONNX, threads=1),
        "fast": OnnxRuntime(bundle / ONNX, threads=1, tail=bundle / ONNX_TAIL),
    }

    def generate(adapter, batch: int, max_gen_length: int) -> tuple[list[str], float]:
        generator = Generator(adapter, bench.vocab, bench.config)
        start = time.perf_counter()
        texts = generator.generate(n=batch, temperature=TEMPERATURE, max_gen_length=max_gen_length, seed=SEED)
        return texts, time.perf_counter() - start

    cells, texts_seen = [], {}
    for test, max_gen_length in TESTS.items():
        for batch in batches:
            counted = {p: Counting(adapters[p], fast=p == "fast") for p in PATHS}
            texts = {p: generate(counted[p], batch, max_gen_length)[0] for p in PATHS}  # also the warm-up
            times = paired(
                lambda p, b=batch, m=max_gen_length: generate(adapters[p], b, m)[1],
                min_time,
                MIN_PAIRS_ONE_STREAM if batch == 1 else MIN_PAIRS,
            )
            tokens = sum(rows for rows, _ in counted["full"].calls)
            cell = {"runtime": "ort-cpu-fp32", "threads": "1", "test": test, "batch": batch}
            cell.update(timing(times, tokens))
            cell["texts_identical"] = texts["full"] == texts["fast"]
            for path in PATHS:
                calls = counted[path].calls
                roofs_s = roof_seconds(calls, bench.config, bench.num_classes, roofs)
                roof = max(roofs_s["latency_s"], roofs_s["compute_s"])
                cell["paths"][path].update(
                    calls=len(calls),
                    mean_positions=float(np.mean([k for _, k in calls])),
                    **roofs_s,
                    roof_s=roof,
                    bound="latency" if roofs_s["latency_s"] >= roofs_s["compute_s"] else "compute",
                    pct_of_roof=100 * roof / cell["paths"][path]["seconds"],
                )
            texts_seen[(test, batch)] = texts["fast"]
            cells.append(cell)
            log(line(cell))
    return cells, texts_seen


def line(cell: dict) -> str:
    p = cell["paths"]
    return (
        f"    {cell['runtime']:<22} {cell['test']:7} B={cell['batch']:<4} full {p['full']['tok_s']:>7,.0f} tok/s  "
        f"fast {p['fast']['tok_s']:>7,.0f}  ×{cell['speedup']:.2f} ({cell['speedup_p10']:.2f}–{cell['speedup_p90']:.2f}, "
        f"{cell['pairs']} pairs)  same text: {cell['texts_identical']}"
    )


def js_spec(bench: BenchModel, batches, runtimes, min_time: float, bundle: str) -> dict:
    return {
        "bundle": bundle,
        "runtimes": list(runtimes),
        "batches": list(batches),
        "tests": TESTS,
        "temperature": TEMPERATURE,
        "seed": SEED,
        "minTime": min_time,
        "minPairs": MIN_PAIRS,
        "minPairsOneStream": MIN_PAIRS_ONE_STREAM,
        "maxGenerationS": MAX_GENERATION_S,
    }


def js_cells(reply: dict, group: str, texts_seen: dict, log) -> list[dict]:
    """The JS script's cells (pairs of times, texts) as the Python cells' shape, texts checked against Python's."""
    cells = []
    for raw in reply["cells"]:
        cell = {key: raw[key] for key in ("runtime", "threads", "test", "batch")}
        cell["group"] = group
        if raw.get("note"):
            cells.append({**cell, "note": raw["note"]})
            continue
        cell.update(timing(raw["times"], raw["tokens"]))
        cell["texts_identical"] = raw["same"]
        want = texts_seen.get((raw["test"], raw["batch"]))
        cell["texts_identical_to_python"] = None if want is None else raw["texts"] == want
        cells.append(cell)
        log(line(cell) + f", as Python: {cell['texts_identical_to_python']}")
    return cells


def node_cells(bench: BenchModel, batches, min_time: float, texts_seen: dict, chosen, log) -> dict:
    runtimes = [r for r in NODE_RUNTIMES if chosen(PREFIX + r, "node")]
    node = shutil.which("node")
    if not runtimes:
        return {"status": "unavailable", "reason": "not chosen", "cells": []}
    if node is None or not (REPO / "web_demo" / "node_modules" / "onnxruntime-node").is_dir():
        return {"status": "unavailable", "reason": "node or web_demo/node_modules is missing", "cells": []}
    spec = js_spec(bench, batches, runtimes, min_time, str(bench.bundles["main"]))
    with tempfile.NamedTemporaryFile("w", suffix=".json") as file:
        json.dump(spec, file)
        file.flush()
        done = subprocess.run(
            [node, str(REPO / "benchmarks" / "fast_path.mjs"), file.name],
            capture_output=True,
            text=True,
            cwd=REPO,
        )
    if done.returncode != 0:
        return {
            "status": "failed",
            "reason": (done.stderr.strip().splitlines() or ["node failed"])[-1],
            "cells": [],
        }
    return {"status": "ok", "cells": js_cells(json.loads(done.stdout), "node", texts_seen, log)}


def browser_cells(bench: BenchModel, batches, min_time: float, texts_seen: dict, chosen, log) -> dict:
    from .browser import browser_missing, run_page

    runtimes = [r for r in BROWSER_RUNTIMES if chosen(PREFIX + r, "chromium")]
    missing = browser_missing() if runtimes else "not chosen"
    if missing:
        return {"status": "unavailable", "reason": missing, "cells": []}
    spec = js_spec(bench, batches, runtimes, min_time, "/bundle/")
    try:
        reply = run_page(bench.bundles["main"], "runFastPath", spec)
    except Exception as exc:  # a browser that fails is a section that says why
        return {"status": "failed", "reason": f"{type(exc).__name__}: {str(exc)[:200]}", "cells": []}
    return {"status": "ok", "cells": js_cells(reply, "chromium", texts_seen, log)}


def run(bench: BenchModel, batches, roofs: dict, quick: bool, chosen, log) -> dict:
    """Full vs fast path on `bench` (its main bundle has model_tail.onnx) in Python, Node and Chromium."""
    if not (bench.bundles.get("main") and (bench.bundles["main"] / ONNX_TAIL).is_file()):
        return {"status": "unavailable", "reason": f"the bundle has no {ONNX_TAIL}"}
    min_time = 0.05 if quick else 2.0
    log(f"  {bench.name} · padding fast path vs full path")
    python, texts_seen = (
        python_cells(bench, batches, roofs, min_time, log)
        if chosen(PREFIX + "ort-cpu-fp32", "python")
        else ([], {})
    )
    return {
        "status": "ok",
        "model": bench.name,
        "tests": TESTS,
        "temperature": TEMPERATURE,
        "seed": SEED,
        "batches": list(batches),
        "python": python,
        "node": node_cells(bench, batches, min_time, texts_seen, chosen, log),
        "chromium": browser_cells(bench, batches, min_time, texts_seen, chosen, log),
    }


def problems(section: dict) -> list[str]:
    """A path that writes other texts than the full path (or, in JS, than Python) makes the run invalid."""
    found = []
    cells = section.get("python", []) + [
        c for group in ("node", "chromium") for c in section.get(group, {}).get("cells", [])
    ]
    for c in cells:
        where = f"fast path · {c['runtime']} {c['test']} B={c['batch']}"
        if c.get("texts_identical") is False:
            found.append(f"{where}: the fast path writes other texts than the full path")
        if c.get("texts_identical_to_python") is False:
            found.append(f"{where}: texts differ from Python's")
    return found


def markdown(section: dict) -> str:
    """The section of results.md."""
    if section.get("status") != "ok":
        return f"Not measured: {section.get('reason')}"
    out = [
        f"Model {section['model']}, seeded (seed {section['seed']}), temperature {section['temperature']}, empty "
        "prefix; gen32: up to 32 tokens, to_end: to `<s>` (at most 100 tokens).  Repetitions in alternating pairs; "
        "time: median; speed-up: median of the pairs' full/fast ratios (10th–90th percentile).  Roof: the steps "
        "each path actually does (benchmarks/fast_path.py); % of roof = roof time / measured time.",
        "",
        "| runtime | test | B | tokens | path | time (s) | tok/s | mean positions/call | roof (s) | bound | % of roof |"
        " speed-up (p10–p90, pairs) | same text |",
        "|---|---|---:|---:|---|---:|---:|---:|---:|---|---:|---|---|",
    ]
    for c in section["python"]:
        for path in PATHS:
            p = c["paths"][path]
            speed = f"**{c['speedup']:.2f}×** ({c['speedup_p10']:.2f}–{c['speedup_p90']:.2f}, {c['pairs']})"
            out.append(
                f"| {c['runtime']} (1 thread) | {c['test']} | {c['batch']} | {c['tokens']} | {path} | {p['seconds']:.4f} | "
                f"{p['tok_s']:,.0f} | {p['mean_positions']:.1f} | {p['roof_s']:.4f} | {p['bound']} | "
                f"{p['pct_of_roof']:.1f} % | {speed if path == 'fast' else ''} | "
                f"{'yes' if c['texts_identical'] else 'NO'} |"
            )
    for group in ("node", "chromium"):
        data = section[group]
        out += ["", f"{group.capitalize()}, the page's adapters and generation loop, same run:", ""]
        if data["status"] != "ok":
            out.append(f"Not measured: {data['reason']}")
            continue
        out += [
            "| runtime | test | B | tokens | full (s) | fast (s) | full tok/s | fast tok/s | speed-up (p10–p90, pairs) | "
            "same text both paths | same as Python |",
            "|---|---|---:|---:|---:|---:|---:|---:|---|---|---|",
        ]
        for c in data["cells"]:
            if c.get("note"):
                out.append(f"| {c['runtime']} | {c['test']} | {c['batch']} | | | | | | {c['note']} | | |")
                continue
            full, fast = c["paths"]["full"], c["paths"]["fast"]
            out.append(
                f"| {c['runtime']} | {c['test']} | {c['batch']} | {c['tokens']} | {full['seconds']:.4f} | "
                f"{fast['seconds']:.4f} | {full['tok_s']:,.0f} | {fast['tok_s']:,.0f} | **{c['speedup']:.2f}×** "
                f"({c['speedup_p10']:.2f}–{c['speedup_p90']:.2f}, {c['pairs']}) | "
                f"{'yes' if c['texts_identical'] else 'NO'} | "
                f"{ {True: 'yes', False: 'NO', None: '—'}[c['texts_identical_to_python']] } |"
            )
    return "\n".join(out)
