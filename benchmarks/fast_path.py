"""The padding fast path against the full path, in one run: ONNX Runtime (Python), the pretrained model.

    python -m benchmarks.fast_path [--bundle BUNDLE] [--batches 1 8 64 256] [--threads 1] [--out DIR]

Two scenarios, both seeded (temperature 0.5, seed 2026, from the empty prefix), each at B = 1, 8, 64, 256:
  gen32  generation of up to 32 tokens (the leading <s> included, as the sampling scenario's end-to-end test)
  to_end generation to <s> of short texts (titles, tweets: each text stops at its own <s>, or at 100 tokens)
Paths: "full" (model.onnx on the whole windows), "fast" (model_tail.onnx on the unpadded tail), and "fast+dedup"
(the fast path, identical windows of a call computed once).  Repetitions alternate between the paths, so load on
the machine hits them alike; each cell is the median.  Every path must write the same texts (checked).

The latency roof counts the steps each path actually does: a call over k positions makes layers·k sequential
recurrent steps, each reading its H×4H fp32 kernel at the cache bandwidth measured in this run (numpy GEMV on an
L2-sized matrix, one core); the compute roof divides the FLOPs actually done (LSTMs over the positions run,
attention, output layer) by the best one-thread GEMM rate of ONNX Runtime and numpy measured in this run.  A cell's
roof is the larger of the two times; "% of roof" is roof time / measured time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from textgen_export.contract.bundle import ONNX_TAIL
from textgen_export.runtime import load_bundle
from textgen_export.runtime.padding import tail_length

from .machine import cpu_model

BATCHES = (1, 8, 64, 256)
SCENARIOS = {"gen32": 32, "to_end": 100}
TEMPERATURE, SEED = 0.5, 2026
PATHS = ("full", "fast", "fast+dedup")
OUT = Path(__file__).resolve().parent / "results" / "fast-path"


class Counting:
    """An adapter wrapper that records, per call, the windows it got and the positions the path runs."""

    def __init__(self, adapter, fast: bool, dedup: bool = False):
        self.adapter, self.fast, self.dedup = adapter, fast, dedup
        self.calls: list[tuple[int, int]] = []  # (windows computed, positions run)

    def probs(self, windows: np.ndarray) -> np.ndarray:
        inverse = None
        if self.dedup and len(windows) > 1:
            unique, inverse = np.unique(windows, axis=0, return_inverse=True)
            if len(unique) < len(windows):
                windows = unique
            else:
                inverse = None
        length = windows.shape[1]
        positions = (tail_length(windows) or length) if self.fast else length
        self.calls.append((len(windows), positions))
        probs = self.adapter.probs(windows)
        return probs[inverse.reshape(-1)] if inverse is not None else probs


def cache_bandwidth_gbs() -> float:
    """One core's best GEMV read rate on matrices that stay in L2 (as the benchmark lab measures it)."""
    best = 0.0
    for kib in (256, 512):
        matrix = np.ones((kib * 256 // 512, 512), dtype=np.float32)
        vector, out = np.ones((1, matrix.shape[0]), np.float32), np.empty((1, 512), np.float32)
        times = []
        for _ in range(300):
            start = time.perf_counter()
            np.dot(vector, matrix, out=out)
            times.append(time.perf_counter() - start)
        best = max(best, matrix.nbytes / min(times) / 1e9)
    return best


def gemm_gflops(size: int = 512) -> float:
    """Best one-thread fp32 GEMM rate of ONNX Runtime's MatMul and numpy here, now."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    b = np.random.default_rng(0).standard_normal((size, size)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["a", "b"], ["c"])],
        "gemm",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, [size, size])],
        [helper.make_tensor_value_info("c", TensorProto.FLOAT, [size, size])],
        [numpy_helper.from_array(b, "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    a = b.copy()
    rates = []
    for call in (lambda: session.run(None, {"a": a}), lambda: a @ b):
        call()
        times = []
        for _ in range(20):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        rates.append(2 * size**3 / min(times) / 1e9)
    return max(rates)


def roof_seconds(calls, config, num_classes: int, cache_gbs: float, gflops: float) -> dict:
    """Latency and compute roofs of the calls a generation made (windows, positions run)."""
    units, layers = config.rnn_size, config.rnn_layers
    kernel_bytes = units * 4 * units * 4
    latency = sum(layers * positions * kernel_bytes for _, positions in calls) / (cache_gbs * 1e9)
    widths = [config.dim_embeddings] + [units] * (layers - 1)
    per_position = sum(2 * (w * 4 * units + units * 4 * units) for w in widths)
    channels = config.dim_embeddings + layers * units
    flops = sum(
        rows * (positions * (per_position + 4 * channels) + 2 * channels * num_classes)
        for rows, positions in calls
    )
    return {"latency_s": latency, "compute_s": flops / (gflops * 1e9), "flops": flops}


def generate(adapter, runtime, batch: int, max_gen_length: int) -> tuple[list[str], float]:
    generator = type(runtime.generator)(adapter, runtime.vocab, runtime.config)
    start = time.perf_counter()
    texts = generator.generate(n=batch, temperature=TEMPERATURE, max_gen_length=max_gen_length, seed=SEED)
    return texts, time.perf_counter() - start


def measure(bundle: Path, batches, threads: int | None, min_time: float, log) -> dict:
    runtimes = {
        "full": load_bundle(bundle, threads=threads, fast=False),
        "fast": load_bundle(bundle, threads=threads),
    }
    if runtimes["fast"].adapter.tail_path is None:
        raise SystemExit(f"{bundle} has no {ONNX_TAIL}: re-export it with this version")
    config, num_classes = runtimes["full"].config, runtimes["full"].vocab.num_classes
    cache_gbs, gflops = cache_bandwidth_gbs(), gemm_gflops()
    log(f"cache bandwidth {cache_gbs:.1f} GB/s, GEMM {gflops:.1f} GFLOP/s (one thread)")
    adapters = {
        "full": lambda: Counting(runtimes["full"].adapter, fast=False),
        "fast": lambda: Counting(runtimes["fast"].adapter, fast=True),
        "fast+dedup": lambda: Counting(runtimes["fast"].adapter, fast=True, dedup=True),
    }
    cells, texts_seen = [], {}
    for scenario, max_gen_length in SCENARIOS.items():
        for batch in batches:
            times: dict[str, list[float]] = {p: [] for p in PATHS}
            seen: dict[str, Counting] = {}
            texts: dict[str, list[str]] = {}
            for path in PATHS:  # warm-up: one generation each, which also records the calls
                seen[path] = adapters[path]()
                texts[path], _ = generate(seen[path], runtimes["full"], batch, max_gen_length)
            same = texts["full"] == texts["fast"] == texts["fast+dedup"]
            spent = 0.0
            while spent < min_time or len(times["full"]) < 3:
                for path in PATHS:
                    _, seconds = generate(adapters[path](), runtimes["full"], batch, max_gen_length)
                    times[path].append(seconds)
                    spent += seconds
            tokens = sum(rows for rows, _ in seen["full"].calls)
            texts_seen[(scenario, batch)] = texts["fast"]
            row = {
                "scenario": scenario,
                "batch": batch,
                "tokens": tokens,
                "texts_identical": same,
                "paths": {},
            }
            for path in PATHS:
                median = float(np.median(times[path]))
                roofs = roof_seconds(seen[path].calls, config, num_classes, cache_gbs, gflops)
                roof = max(roofs["latency_s"], roofs["compute_s"])
                row["paths"][path] = {
                    "seconds": median,
                    "p10": float(np.percentile(times[path], 10)),
                    "p90": float(np.percentile(times[path], 90)),
                    "reps": len(times[path]),
                    "tok_s": tokens / median,
                    "calls": len(seen[path].calls),
                    "mean_positions": float(np.mean([p for _, p in seen[path].calls])),
                    "windows_computed": int(sum(r for r, _ in seen[path].calls)),
                    **roofs,
                    "roof_s": roof,
                    "bound": "latency" if roofs["latency_s"] >= roofs["compute_s"] else "compute",
                    "pct_of_roof": 100 * roof / median,
                }
            full = row["paths"]["full"]["seconds"]
            for path in PATHS:
                row["paths"][path]["speedup"] = full / row["paths"][path]["seconds"]
            cells.append(row)
            p = row["paths"]
            log(
                f"{scenario:7} B={batch:<4} full {p['full']['tok_s']:>8,.0f} tok/s  fast {p['fast']['tok_s']:>8,.0f} "
                f"({p['fast']['speedup']:.2f}x)  fast+dedup {p['fast+dedup']['speedup']:.2f}x  same text: {same}"
            )
    results = {"cache_bandwidth_gbs": cache_gbs, "gemm_gflops_1_thread": gflops, "cells": cells}
    results["node"] = node_cells(bundle, batches, min_time, cells, texts_seen, log)
    return results


def node_cells(bundle: Path, batches, min_time: float, python_cells: list, texts_seen: dict, log) -> dict:
    """onnxruntime-node (one thread), full vs fast path, by benchmarks/fast_path.mjs; texts checked against Python's."""
    import shutil
    import subprocess

    repo = Path(__file__).resolve().parent.parent
    node = shutil.which("node")
    if node is None or not (repo / "web_demo" / "node_modules" / "onnxruntime-node").is_dir():
        return {
            "status": "unavailable",
            "reason": "node or web_demo/node_modules/onnxruntime-node is missing",
        }
    spec = {"bundle": str(bundle), "batches": list(batches), "scenarios": SCENARIOS, "temperature": TEMPERATURE,
            "seed": SEED, "minTime": min_time}  # fmt: skip
    with tempfile.NamedTemporaryFile("w", suffix=".json") as file:
        json.dump(spec, file)
        file.flush()
        done = subprocess.run(
            [node, str(repo / "benchmarks" / "fast_path.mjs"), file.name],
            capture_output=True,
            text=True,
            cwd=repo,
        )
    if done.returncode != 0:
        return {"status": "failed", "reason": done.stderr.strip().splitlines()[-1:] or ["node failed"]}
    out = json.loads(done.stdout)
    tokens = {(c["scenario"], c["batch"]): c["tokens"] for c in python_cells}
    cells = []
    for cell in out["cells"]:
        key = (cell["scenario"], cell["batch"])
        full, fast = (float(np.median(cell["times"][p])) for p in ("full", "fast"))
        row = {
            "scenario": cell["scenario"],
            "batch": cell["batch"],
            "tokens": tokens[key],
            "full_s": full,
            "fast_s": fast,
            "reps": len(cell["times"]["full"]),
            "full_tok_s": tokens[key] / full,
            "fast_tok_s": tokens[key] / fast,
            "speedup": full / fast,
            "texts_identical_both_paths": cell["same"],
            "texts_identical_to_python": cell["texts"] == texts_seen[key],
        }
        cells.append(row)
        log(
            f"node {row['scenario']:7} B={row['batch']:<4} full {row['full_tok_s']:>8,.0f} tok/s  fast "
            f"{row['fast_tok_s']:>8,.0f} ({row['speedup']:.2f}x)  same text: {cell['same']}, as Python: "
            f"{row['texts_identical_to_python']}"
        )
    return {"status": "ok", "runtime": out["runtime"], "threads": out["threads"], "cells": cells}


def markdown(results: dict, command: str) -> str:
    lines = [
        "# Padding fast path vs full path (ONNX Runtime, Python)",
        "",
        f"Command: `{command}`  ",
        f"Machine: {results['machine']}; {results['when']}; threads: {results['threads']}; "
        f"load average at start {results['load_average']}.  ",
        f"Roofs measured in this run: cache bandwidth {results['cache_bandwidth_gbs']:.1f} GB/s (one core), "
        f"GEMM {results['gemm_gflops_1_thread']:.1f} GFLOP/s (one thread).  ",
        "Model: the pretrained textgenrnn (2 × 128 LSTM, max_length 40, 465 classes), seeded, temperature 0.5, "
        "empty prefix.  Roof: the steps each path actually does (see benchmarks/fast_path.py); % of roof = roof "
        "time / measured time.",
        "",
        "| scenario | B | tokens | path | time (s) | tok/s | speed-up | mean positions/call | roof (s) | bound | % of roof | same text |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---|---:|---|",
    ]
    for row in results["cells"]:
        for path, cell in row["paths"].items():
            lines.append(
                f"| {row['scenario']} | {row['batch']} | {row['tokens']} | {path} | {cell['seconds']:.4f} | "
                f"{cell['tok_s']:,.0f} | {cell['speedup']:.2f}× | {cell['mean_positions']:.1f} | {cell['roof_s']:.4f} | "
                f"{cell['bound']} | {cell['pct_of_roof']:.1f} % | {'yes' if row['texts_identical'] else 'NO'} |"
            )
    node = results.get("node", {})
    lines += [
        "",
        "onnxruntime-node (one intra-op thread), the page's adapter and generation loop, same run:",
        "",
    ]
    if node.get("status") != "ok":
        lines.append(f"not measured: {node.get('reason')}")
    else:
        lines += [
            "| scenario | B | tokens | full (s) | fast (s) | full tok/s | fast tok/s | speed-up | same text both paths | same as Python |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
        ]
        for row in node["cells"]:
            lines.append(
                f"| {row['scenario']} | {row['batch']} | {row['tokens']} | {row['full_s']:.4f} | {row['fast_s']:.4f} | "
                f"{row['full_tok_s']:,.0f} | {row['fast_tok_s']:,.0f} | {row['speedup']:.2f}× | "
                f"{'yes' if row['texts_identical_both_paths'] else 'NO'} | {'yes' if row['texts_identical_to_python'] else 'NO'} |"
            )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.fast_path", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--bundle", type=Path, help="a bundle with model_tail.onnx (default: export the pretrained model)"
    )
    parser.add_argument("--batches", type=int, nargs="+", default=list(BATCHES))
    parser.add_argument(
        "--threads", default="1", help="ONNX Runtime threads: a number, or 'auto' (the adapter's rule)"
    )
    parser.add_argument(
        "--min-time", type=float, default=2.0, help="seconds of repetitions per cell (default 2)"
    )
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    threads = None if args.threads == "auto" else int(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        bundle = args.bundle
        if bundle is None:
            from textgen_export.api.textgen import TextGen
            from textgen_export.export.writer import export_bundle

            tg = TextGen.pretrained()
            bundle = Path(tmp) / "bundle"
            export_bundle(tg.model, tg.vocab, tg.config, bundle, log=lambda _: None)
        load = os.getloadavg()
        results = measure(bundle, args.batches, threads, args.min_time, lambda line: print(line, flush=True))
    results.update(
        {
            "machine": f"{cpu_model()}, {os.cpu_count()} cores",
            "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "threads": args.threads,
            "load_average": " ".join(f"{x:.1f}" for x in load),
            "command": " ".join(
                ["python -m benchmarks.fast_path", *(sys.argv[1:] if argv is None else argv)]
            ),
        }
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (args.out / "results.md").write_text(markdown(results, results["command"]), encoding="utf-8")
    print(f"wrote {args.out / 'results.md'} and results.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
