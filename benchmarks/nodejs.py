"""Node runtimes (TF.js cpu and wasm, tfjs-node, onnxruntime-node), one Node process per runtime.

benchmarks/node_bench.mjs opens the runtime through the web demo's JS adapters, checks it and times it with
the same method as Python (benchmarks/bench_core.mjs); a fresh process per runtime keeps load time and peak
memory (the Node process's RSS, sampled from here every 20 ms) its own.
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
from .runtimes import Plan, Result, TreeRss

SCRIPT = JS_TOOLS / "node_bench.mjs"
CORES = str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
# (runtime name as node_bench.mjs knows it, threads, format)
RUNTIMES = [
    ("tfjs-node-cpu", "1", "tfjs-float32"),
    ("tfjs-node-wasm", "1", "tfjs-float32"),
    ("tfjs-node-native", CORES, "tfjs-float32"),
    ("onnxruntime-node", "1", "onnx-fp32"),
    ("onnxruntime-node", CORES, "onnx-fp32"),
    ("ort-web-wasm-in-node", "1", "onnx-fp32"),
]
TIMEOUT = 900


def node_missing() -> str | None:
    if not shutil.which("node"):
        return "node is not installed (install Node.js 18+)"
    if not (WEB_DEMO / "node_modules").is_dir():
        return "web_demo/node_modules is missing (run `make node-deps`)"
    if not SCRIPT.is_file():
        return f"{SCRIPT.name} is missing"
    if not (WEB_DEMO / "src" / "runtime" / "node.js").is_file():
        return "the web demo's Node runtimes (web_demo/src/runtime/node.js) are not in this checkout"
    return None


def package_missing(runtime: str) -> str | None:
    need = {
        "tfjs-node-cpu": "@tensorflow/tfjs",
        "tfjs-node-wasm": "@tensorflow/tfjs-backend-wasm",
        "tfjs-node-native": "@tensorflow/tfjs-node",
        "onnxruntime-node": "onnxruntime-node",
        "ort-web-wasm-in-node": "onnxruntime-web",
    }[runtime]
    if not (WEB_DEMO / "node_modules" / need / "package.json").is_file():
        why = (
            " (not a web_demo dependency: its install script downloads a native libtensorflow binary)"
            if runtime == "tfjs-node-native"
            else ""
        )
        return f"npm package {need} is not installed in web_demo/{why}"
    return None


def run_node(bench: BenchModel, plan: Plan, reference: dict, log, chosen=lambda name: True) -> list[Result]:
    runtimes = [r for r in RUNTIMES if chosen(r[0])]
    missing = node_missing()
    if missing:
        return unavailable(bench, "node", runtimes, missing)
    results = []
    for name, threads, fmt in runtimes:
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
        spec["bundle"] = str(bench.bundles["main"])
        spec["model_file"] = bench.files[fmt].relative_to(bench.bundles["main"]).as_posix()
        results.append(run_one(bench, spec, reference, (name, threads, fmt), log))
    return results


def run_one(bench: BenchModel, spec: dict, reference: dict, row: tuple, log) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(spec, f)
        path = Path(f.name)
    reply_path = path.with_suffix(".reply.json")
    process = subprocess.Popen(
        ["node", str(SCRIPT), str(path), str(reply_path)],
        cwd=WEB_DEMO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with TreeRss(process.pid) as rss:
            stdout, stderr = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return unavailable(bench, "node", [row], f"timed out after {TIMEOUT} s", status="failed")[0]
    finally:
        path.unlink(missing_ok=True)
    try:
        reply = json.loads(reply_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        tail = (stderr.strip().splitlines() or ["no output"])[-1][:200]
        return unavailable(
            bench, "node", [row], f"node exited {process.returncode}: {tail}", status="failed"
        )[0]
    finally:
        reply_path.unlink(missing_ok=True)
    reply["peak_rss_mb"] = rss.peak  # the whole Node process: node itself is ≈ 40 MB
    result = to_result(bench, "node", reply, reference)
    for cell in result.cells:
        if cell.timing and cell.mode == "call":
            log(f"      B={cell.batch:<4} call {cell.batch / cell.timing.median:>10,.0f} tok/s")
    return result


run_node.names = [name for name, _, _ in RUNTIMES]
