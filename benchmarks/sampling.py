"""The sampling scenario: the machine's roofs, models and bundles, every runtime × batch on every model."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from textgen_export.errors import UserError
from textgen_export.keras import pretrained
from textgen_export.keras.oracle import OracleAdapter
from textgen_export.sampling.generator import Generator

from . import fast_path, method
from .browser import RUNTIMES as BROWSER
from .browser import run_browser
from .gpu import GPU_BATCHES
from .models import BenchModel, export_bundles, load_model_dir, pretrained_model, tiny_model, word_model
from .nodejs import RUNTIMES as NODE
from .nodejs import run_node
from .roofline import model_figures
from .roofs import machine_roofs
from .runtimes import Plan, Result, check_windows, python_runtimes, run_python

BATCHES = (1, 8, 64, 256)
QUICK_BATCHES = (1, 4)
GROUPS = ("python", "node", "chromium", "gpu")


@dataclass
class Options:
    quick: bool = False
    runtimes: Sequence[str] | None = None  # substrings of runtime names or group names; None = all
    batches: Sequence[int] | None = None
    model: Path | None = None  # a model directory to measure instead of the default models
    cache: Path | None = None  # where the word-level bench model is kept between runs


def plan_for(options: Options) -> Plan:
    if options.quick:
        return Plan(
            tuple(options.batches or QUICK_BATCHES), method.QUICK, 12, 24, e2e_max_s=3.0, slow_call_s=3.0
        )
    gpu_batches = None if options.batches else GPU_BATCHES
    return Plan(
        tuple(options.batches or BATCHES),
        method.FULL,
        gen_length=32,
        greedy_length=60,
        gpu_batches=gpu_batches,
    )


def runtime_names() -> list[tuple[str, str]]:
    """(name, group) of every runtime the suite knows, available here or not."""

    names = [(s.name, s.group) for s in python_runtimes()]
    names += [(name, "node") for name, _, _ in NODE] + [(name, "chromium") for name, _, _ in BROWSER]
    names += fast_path.names()
    return list(dict.fromkeys(names))


def check_runtimes(patterns: Sequence[str] | None) -> None:
    """Every --runtimes pattern must select something, so a typo is an error rather than an empty run."""

    known = runtime_names()
    for pattern in patterns or []:
        if not any(wanted(name, group, [pattern]) for name, group in known):
            names = ", ".join(sorted({n for n, _ in known}))
            raise UserError(
                f"--runtimes {pattern!r} matches no runtime; use a group ({', '.join(GROUPS)}) or part of: {names}"
            )


def wanted(name: str, group: str, patterns: Sequence[str] | None) -> bool:
    if not patterns:
        return True
    return any(p == group or p in name for p in patterns)


def oracle_for(bench: BenchModel) -> OracleAdapter:
    """The float64 numpy forward pass on the bench model's weights: the reference every runtime is checked against."""
    from textgen_export.keras.h5_weights import read_weights

    path = bench.model_dir / "weights.hdf5" if bench.model_dir else pretrained.paths()["weights"]
    return OracleAdapter(read_weights(path), bench.config)


def reference_for(bench: BenchModel, plan: Plan) -> dict:
    oracle = oracle_for(bench)
    windows = check_windows(bench)
    generator = Generator(oracle, bench.vocab, bench.config)
    greedy = generator.generate(temperature=0.0, prefix=bench.prefix, max_gen_length=plan.greedy_length)[0]
    return {"windows": windows, "probs": oracle.probs(windows), "greedy_text": greedy}


def bench_models(options: Options, work: Path, log: Callable[[str], None]) -> list[BenchModel]:
    if options.model:
        return [load_model_dir(Path(options.model).name or "model", Path(options.model), prefix="")]
    if options.quick:
        return [tiny_model(work / "tiny-model")]
    cache = options.cache or Path(tempfile.gettempdir()) / "textgen_export_bench"
    return [pretrained_model(), word_model(cache, log=log)]


def measure_roofs(info: dict, options: Options, log: Callable[[str], None]) -> dict:
    log(
        "machine: measuring the roofs (GEMM of numpy, ONNX Runtime, TensorFlow per thread count; cache bandwidth)"
    )
    found = machine_roofs(info["cpu_flags"], quick=options.quick, gpu=bool(info["gpus"]))
    for t in map(str, found["threads"]):
        best = found["compute_fp32"][t]
        log(
            f"  {t} thread(s): fp32 roof {best['gflops'] or 0:.0f} GFLOP/s ({best['library']}), "
            f"int8 roof {found['compute_int8'][t]['gflops'] or 0:.0f} GOP/s"
        )
    log(f"  cache bandwidth {found['cache_bandwidth_gbs']:.0f} GB/s (one core)")
    return found


def run(options: Options, info: dict, log: Callable[[str], None] = print) -> dict:
    """Measure every runtime on every model; returns the scenario's data (report.derive adds the rows)."""
    plan = plan_for(options)
    started = dt.datetime.now(dt.UTC)
    roofs = measure_roofs(info, options, log)
    results: list[Result] = []
    models = []
    with tempfile.TemporaryDirectory(prefix="textgen-bench-") as tmp:
        work = Path(tmp)
        fast = None
        for bench in bench_models(options, work, log):
            log(f"model {bench.name}: exporting bundles")
            export_bundles(bench, work / "bundles", log)
            reference = reference_for(bench, plan)
            models.append(describe(bench, reference))
            results += run_model(bench, plan, reference, options, log)
            if fast is None:  # the first model (the pretrained one by default): full vs padding fast path
                chosen = lambda name, group: wanted(name, group, options.runtimes)  # noqa: E731
                fast = fast_path.run(bench, plan.batches, roofs, options.quick, chosen, log)
    if not options.quick:  # a roof is an upper bound: keep the higher of the two measurements around the run
        roofs = higher_roofs(roofs, measure_roofs(info, options, log))
    return {
        "what": "next-token speed of every runtime × batch size, against the machine's roofs",
        "started": started.isoformat(timespec="seconds"),
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "quick": options.quick,
        "roofs": roofs,
        "plan": plan.to_dict(),
        "models": models,
        "results": [r.to_dict() for r in results],
        "fast_path": fast,
    }


def higher_roofs(first: dict, second: dict) -> dict:
    """Per thread count and format, the higher compute roof; the higher cache bandwidth."""
    merged = dict(first)
    for key in ("compute_fp32", "compute_int8"):
        merged[key] = {
            t: max(first[key][t], second[key][t], key=lambda r: r["gflops"] or 0) for t in first[key]
        }
    merged["cache_bandwidth_gbs"] = max(first["cache_bandwidth_gbs"], second["cache_bandwidth_gbs"])
    merged["measured_twice"] = {"start": first, "end": second}
    return merged


def describe(bench: BenchModel, reference: dict) -> dict:
    return {
        "name": bench.name,
        "config": bench.config.to_dict(),
        "num_classes": bench.num_classes,
        "prefix": bench.prefix,
        "origin": bench.origin,
        "reference_greedy_text": reference["greedy_text"],
        "sizes": bench.sizes,
        "unavailable_formats": bench.unavailable,
        **model_figures(bench.config, bench.num_classes),
    }


def run_model(bench: BenchModel, plan: Plan, reference: dict, options: Options, log) -> list[Result]:
    results = []
    for runtime in python_runtimes():
        if not wanted(runtime.name, runtime.group, options.runtimes):
            continue
        log(f"  {bench.name} · {runtime.name} (threads {runtime.threads})")
        result = run_python(runtime, bench, plan, reference, log)
        if result.status != "ok":
            log(f"    {result.status}: {result.reason}")
        results.append(result)

    for group, runner in (("node", run_node), ("chromium", run_browser)):
        if options.runtimes and not any(wanted(n, group, options.runtimes) for n in runner.names):
            continue
        log(f"  {bench.name} · {group} runtimes")
        chosen = lambda name, g=group: wanted(name, g, options.runtimes)  # noqa: E731
        for result in runner(bench, plan, reference, log, chosen):
            if result.status != "ok":
                log(f"    {result.runtime}: {result.status}: {result.reason}")
            results.append(result)
    return results


# float32 runtimes against the float64 reference on the 4 check windows: ≤ 1e-6 on the text windows, but the
# two uniform-random windows drive the pretrained model's LSTMs into float32-sensitive states: measured
# Keras 5.2e-5, ONNX Runtime 1.2e-4, TF.js WebGL (SwiftShader float math) 1.1e-4, all with the same greedy text.
PROBS_ATOL = 5e-4
SUM_ATOL = 1e-4
QUANTIZED = ("onnx-int8", "onnx-fp16", "tfjs-float16", "tfjs-uint8")


def problems(data: dict) -> list[str]:
    """Validity failures of runtimes that ran (or crashed), and figures above their roof (a roof that does not
    bound is wrong): what --quick and the tests must not see. Needs report.derive's rows."""
    found = [
        f"{r['model']} · {r['runtime']} (threads {r['threads']}) {r['test']}: {r['median']:,.0f} tok/s is "
        f"{r['pct_roof']:.0f} % of its {r['bound']} roof"
        for r in data.get("rows", [])
        if r.get("pct_roof") is not None and r["pct_roof"] > 100
    ]
    found += fast_path.problems(data.get("fast_path") or {})
    for r in data["results"]:
        where = f"{r['model']} · {r['runtime']} (threads {r['threads']})"
        if r["status"] == "failed":
            found.append(f"{where}: failed: {r['reason']}")
            continue
        if r["status"] != "ok":
            continue
        c = r["checks"]
        if not (c.get("shape_ok") and c.get("finite") and c.get("nonnegative")):
            found.append(f"{where}: probabilities have shape {c.get('shape')}, finite {c.get('finite')}")
        elif c["max_sum_error"] > SUM_ATOL:
            found.append(f"{where}: probabilities sum to 1 ± {c['max_sum_error']:.1e}")
        quantized = r["format"] in QUANTIZED
        diff = c.get("max_abs_diff_vs_float64")
        if not quantized and diff is not None and diff > PROBS_ATOL:
            found.append(f"{where}: probabilities differ from the float64 reference by {diff:.1e}")
        if not quantized and not c.get("greedy_matches"):
            found.append(f"{where}: greedy text {c.get('greedy_text')!r} differs from the reference")
    return found
