"""Node runtimes (TF.js cpu and wasm, tfjs-node, onnxruntime-node), one Node process per runtime.

benchmarks/node_bench.mjs opens the runtime through the web demo's JS adapters, checks it and times it with
the same method as Python (benchmarks/bench_core.mjs); a fresh process per runtime keeps load time and peak
memory (the process's max RSS) its own.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from .jsjob import JS_TOOLS, WEB_DEMO, job, to_result, unavailable
from .models import BenchModel
from .scenarios import Plan, Result

SCRIPT = JS_TOOLS / "node_bench.mjs"
CORES = str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
# (runtime name as node_bench.mjs knows it, threads, format)
RUNTIMES = [
    ("tfjs-node-cpu", "1", "tfjs-float32"),
    ("tfjs-node-wasm", "1", "tfjs-float32"),
    ("tfjs-node-native", CORES, "tfjs-float32"),
    ("onnxruntime-node", "1", "onnx-fp32"),
    ("onnxruntime-node", CORES, "onnx-fp32"),
]
TIMEOUT = 900


def node_missing() -> str | None:
    if not shutil.which("node"):
        return "node is not installed (install Node.js 18+)"
    if not (WEB_DEMO / "node_modules").is_dir():
        return "web_demo/node_modules is missing (run `make node-deps`)"
    if not SCRIPT.is_file():
        return f"{SCRIPT.name} is missing"
    return None


def package_missing(runtime: str) -> str | None:
    need = {
        "tfjs-node-cpu": "@tensorflow/tfjs",
        "tfjs-node-wasm": "@tensorflow/tfjs-backend-wasm",
        "tfjs-node-native": "@tensorflow/tfjs-node",
        "onnxruntime-node": "onnxruntime-node",
    }[runtime]
    if not (WEB_DEMO / "node_modules" / need / "package.json").is_file():
        why = (
            " (its native TensorFlow 2.9 binding does not build/download here)"
            if runtime == "tfjs-node-native"
            else ""
        )
        return f"npm package {need} is not installed in web_demo/{why}"
    return None


def run_node(bench: BenchModel, plan: Plan, reference: dict, log) -> list[Result]:
    missing = node_missing()
    if missing:
        return unavailable(bench, "node", RUNTIMES, missing)
    results = []
    for name, threads, fmt in RUNTIMES:
        reason = package_missing(name) or (
            None if fmt in bench.files else bench.unavailable.get(fmt, f"no {fmt}")
        )
        if reason:
            results += unavailable(bench, "node", [(name, threads, fmt)], reason)
            continue
        log(f"    node {name} (threads {threads})")
        spec = job(bench, plan, reference, name, {fmt: str(bench.files[fmt])})
        spec["threads"] = int(threads)
        spec["format"] = fmt
        results.append(run_one(bench, spec, reference, (name, threads, fmt), log))
    return results


def run_one(bench: BenchModel, spec: dict, reference: dict, row: tuple, log) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(spec, f)
        path = Path(f.name)
    try:
        done = subprocess.run(
            ["node", str(SCRIPT), str(path)],
            cwd=WEB_DEMO,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        return unavailable(bench, "node", [row], f"timed out after {TIMEOUT} s", status="failed")[0]
    finally:
        path.unlink(missing_ok=True)
    try:
        reply = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1][:200]
        return unavailable(bench, "node", [row], f"node exited {done.returncode}: {tail}", status="failed")[0]
    result = to_result(bench, "node", reply, reference)
    for cell in result.cells:
        if cell.timing and cell.mode == "call":
            log(f"      B={cell.batch:<4} call {cell.batch / cell.timing.median:>10,.0f} tok/s")
    return result


run_node.names = [name for name, _, _ in RUNTIMES]
