"""The ort-options scenario: what each ONNX Runtime setting buys the adapter, measured side by side.

Variants of one session over the same model.onnx, timed in alternating rounds (so load changes on a shared
machine hit every variant alike), per thread count and batch size; each row is the median call time's ratio
to the adapter's settings (`runtime.onnx.session_options`). Every variant must keep the semantics: the same
argmax on the check windows, and probabilities within the validation tolerance of the default's.
Thread spinning is measured apart (`spinning`): generation with sampling between calls, each variant in its
own process, since a spinning session's threads go on spinning after its call and slow whatever runs next.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from . import REPO, rows

BASELINE = "adapter settings"
ATOL = 1e-5  # the export validation's tolerance (export/validate.py) between two float32 runs


def variants(threads: int) -> dict[str, Callable]:
    """name -> factory(path) returning a `probs(windows)` callable."""
    import onnxruntime as ort

    from textgen_export.contract.bundle import INPUT, PROBS
    from textgen_export.runtime.onnx import session_options

    ort.set_default_logger_severity(3)  # a variant overriding an adapter setting is intended, not a warning

    def plain(**changes):
        def factory(path):
            options = session_options(threads)
            for key, value in changes.items():
                if key == "config":
                    for entry, setting in value.items():
                        options.add_session_config_entry(entry, setting)
                else:
                    setattr(options, key, value)
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            return lambda w: session.run([PROBS], {INPUT: w})[0]

        return factory

    def io_binding(path):
        session = ort.InferenceSession(
            str(path), session_options(threads), providers=["CPUExecutionProvider"]
        )
        buffers: dict[int, tuple] = {}

        def probs(windows):
            if len(windows) not in buffers:  # pre-allocated per batch size: no output allocation per call
                binding = session.io_binding()
                width = session.get_outputs()[0].shape[1]
                out = np.empty((len(windows), width), dtype=np.float32)
                binding.bind_output(PROBS, "cpu", 0, np.float32, list(out.shape), out.ctypes.data)
                buffers[len(windows)] = (binding, out)
            binding, out = buffers[len(windows)]
            binding.bind_cpu_input(INPUT, windows)
            session.run_with_iobinding(binding)
            return out.copy()

        return probs

    found = {
        BASELINE: plain(),
        "graph optimisation: extended": plain(
            graph_optimization_level=ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        ),
        "graph optimisation: basic": plain(
            graph_optimization_level=ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        ),
        "I/O binding, pre-allocated output": io_binding,
    }
    if threads > 1:  # spinning variants are measured apart, each in its own process (see `spinning`)
        found[f"{threads} one-thread sessions, batch split across them"] = split_batch(threads)
        # No variant's threads may spin after its calls: that slows whichever variant is timed next
        # (benchmarks/README.md, "Closing the gap": the baseline artefact this rule fixed).
        found["parallel executor, 2 inter-op threads"] = plain(
            execution_mode=ort.ExecutionMode.ORT_PARALLEL,
            inter_op_num_threads=2,
            config={"session.inter_op.allow_spinning": "0"},
        )
    return found


SPINNING = {  # name -> (threads: 1 or every core, extra session config entries)
    "one thread": (1, {}),
    "all cores, threads sleep between calls (adapter)": (0, {}),
    "all cores, threads spin (ORT's default)": (0, {"session.intra_op.allow_spinning": "1"}),
    "all cores, spin during a call, stop after it": (
        0,
        {"session.intra_op.allow_spinning": "1", "session.force_spinning_stop": "1"},
    ),
}
SPINNING_BASELINE = "all cores, threads sleep between calls (adapter)"
SPIN_GEN_LENGTH = 32


def spinning_child() -> None:
    """Entry point of one measuring process: `python -c ... spinning_child() JSON`, prints tok/s.

    Generates seeded texts with the shared Generator over one session built with the variant's settings, for
    `seconds`, after one warm-up generation."""
    import json
    import sys

    import onnxruntime as ort

    from textgen_export.contract.bundle import INPUT, PROBS
    from textgen_export.runtime.bundle import load_bundle
    from textgen_export.runtime.onnx import session_options
    from textgen_export.sampling.generator import Generator

    folder, name, cores, batch, seconds = json.loads(sys.argv[1])
    threads, config = SPINNING[name]
    options = session_options(threads or cores)
    for key, value in config.items():
        options.add_session_config_entry(key, value)
    bundle = load_bundle(folder, threads=1)
    session = ort.InferenceSession(str(bundle.adapter.path), options, providers=["CPUExecutionProvider"])

    class Adapter:
        def probs(self, windows):
            return session.run([PROBS], {INPUT: windows})[0]

    generator = Generator(Adapter(), bundle.vocab, bundle.config)

    def generate() -> int:
        batch_state = generator.start(n=batch, temperature=0.5, max_gen_length=SPIN_GEN_LENGTH, seed=1)
        tokens = 0
        while batch_state.active.size:
            tokens += len(generator.advance(batch_state))
        return tokens

    generate()
    start, tokens = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        tokens += generate()
    print(tokens / (time.perf_counter() - start))


def spinning(
    bench, folder: Path, cores: int, rounds: int, seconds: float, log, batches: tuple[int, ...] = (1, 8, 64)
) -> list[dict]:
    """Thread spinning, measured the way users generate (gen 32: model calls with sampling between them), each
    variant in its own process, variants alternating round by round: a spinning session's threads keep spinning
    after its call and would slow whatever ran next in the same process."""
    import json
    import subprocess
    import sys

    code = "from benchmarks.ort_options import spinning_child; spinning_child()"
    found = []
    for batch in (1, 8, 64):
        log(
            f"  spinning: {len(SPINNING)} variants × {rounds} rounds, one process each, gen {SPIN_GEN_LENGTH} B={batch}"
        )
        rates: dict[str, list[float]] = {name: [] for name in SPINNING}
        failures: dict[str, str] = {}
        for _ in range(rounds):
            for name in SPINNING:
                job = json.dumps([str(folder), name, cores, batch, seconds])
                done = subprocess.run(
                    [sys.executable, "-c", code, job], capture_output=True, text=True, cwd=REPO
                )
                if done.returncode == 0:
                    rates[name].append(float(done.stdout.split()[-1]))
                else:
                    failures[name] = (done.stderr.strip().splitlines() or ["no output"])[-1][:200]
        for name, values in rates.items():
            threads = "1" if SPINNING[name][0] == 1 else str(cores)
            test = f"gen {SPIN_GEN_LENGTH} B={batch}"
            if name in failures:
                found.append(rows.missing(bench.name, name, test, "tok/s", "failed", failures[name]))
                continue
            found.append(
                rows.row(bench.name, name, test, "tok/s", values, format="onnx-fp32", threads=threads)
            )
    rows.add_baseline(found, SPINNING_BASELINE)
    return found


def split_batch(threads: int) -> Callable:
    """A factory of `threads` one-thread sessions that run slices of the batch at once (ORT releases the GIL
    while it runs): no intra-op hand-off at every LSTM step, nothing left spinning between calls."""
    from concurrent.futures import ThreadPoolExecutor

    import onnxruntime as ort

    from textgen_export.contract.bundle import INPUT, PROBS
    from textgen_export.runtime.onnx import session_options

    def factory(path):
        sessions = [
            ort.InferenceSession(str(path), session_options(1), providers=["CPUExecutionProvider"])
            for _ in range(threads)
        ]
        pool = ThreadPoolExecutor(threads)

        def probs(windows):
            parts = [p for p in np.array_split(windows, threads) if len(p)]
            runs = [pool.submit(s.run, [PROBS], {INPUT: p}) for s, p in zip(sessions, parts, strict=False)]
            return np.concatenate([r.result()[0] for r in runs])

        return probs

    return factory


def alternate(
    calls: dict[str, Callable], windows: np.ndarray, rounds: int, budget: float
) -> dict[str, list[float]]:
    """Seconds per call of each variant over `rounds` rounds, variants interleaved; each variant makes about
    `budget` seconds of calls per round (so a much slower variant does not stretch the run)."""
    per_round = {name: max(1, int(budget / max(min(_once(call, windows) for _ in range(3)), 1e-6)))
                 for name, call in calls.items()}  # fmt: skip
    seconds = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            start = time.perf_counter()
            for _ in range(per_round[name]):
                call(windows)
            seconds[name].append((time.perf_counter() - start) / per_round[name])
    return seconds


def run(quick: bool, log: Callable[[str], None] = print, model_path: Path | None = None) -> dict:
    import tempfile

    from .models import pretrained_model, tiny_model
    from .roofs import usable_cores

    with tempfile.TemporaryDirectory(prefix="textgen-ort-options-") as tmp:
        from .models import export_bundles

        bench = tiny_model(Path(tmp) / "tiny-model") if quick else pretrained_model()
        export_bundles(bench, Path(tmp) / "bundles", log)
        path = model_path or bench.files["onnx-fp32"]
        rng = np.random.default_rng(0)
        check = rng.integers(1, bench.num_classes, (8, bench.config.max_length), dtype=np.int32)
        rounds, budget = (3, 0.02) if quick else (9, 0.3)
        all_rows, checks = [], {}
        for threads in sorted({1, usable_cores()}):
            calls = {name: factory(path) for name, factory in variants(threads).items()}
            reference = calls[BASELINE](check)
            for name, call in calls.items():
                probs = call(check)
                diff = float(np.max(np.abs(probs - reference)))
                same = bool(np.array_equal(probs.argmax(1), reference.argmax(1)))
                checks[f"{name} · {threads}"] = {"max_abs_diff": diff, "same_argmax": same}
            for batch in (1, 8, 64):
                windows = rng.integers(1, bench.num_classes, (batch, bench.config.max_length), dtype=np.int32)
                log(f"  threads {threads}, B={batch}: {len(calls)} variants × {rounds} rounds × {budget} s")
                seconds = alternate(calls, windows, rounds, budget)
                for name, values in seconds.items():
                    check_ok = checks[f"{name} · {threads}"]
                    valid = check_ok["same_argmax"] and check_ok["max_abs_diff"] <= ATOL
                    all_rows.append(
                        rows.row(bench.name, name, f"call B={batch}", "tok/s", [batch / s for s in values],
                                 format="onnx-fp32", threads=str(threads),
                                 status="ok" if valid else "failed",
                                 note="" if valid else f"changes results: {check_ok}")
                    )  # fmt: skip
        precision_rows, precision = weights_precision(bench, Path(tmp), rounds, budget, log)
        cores = usable_cores()
        spin_rows = []
        if cores > 1:
            settings = dict(rounds=1, seconds=0.3, batches=(8,)) if quick else dict(rounds=5, seconds=1.5)
            spin_rows = spinning(bench, Path(path).parent, cores, log=log, **settings)
    for r in all_rows:  # ratio to the adapter's settings at the same threads and batch
        base = next(
            b
            for b in all_rows
            if b["runtime"] == BASELINE and (b["threads"], b["test"]) == (r["threads"], r["test"])
        )
        r["x_baseline"], r["baseline"] = r["median"] / base["median"], BASELINE
    rows.add_baseline(precision_rows, FP32)
    all_rows += precision_rows + spin_rows
    return {
        "what": "ONNX Runtime session settings, thread spinning and weight precisions: tok/s against the adapter's, alternating rounds",
        "precision": precision,
        "model": bench.name,
        "checks": checks,
        "rows": all_rows,
    }


FP32 = "weights fp32"
PRECISION_TEXT_TOKENS = 2000  # tokens of our own text scored for bits per token


def bits_per_token(probs_of: Callable, bench, tokens: int) -> float:
    """Mean −log2 p(next token) over our own text (models.own_text): the quality cost of a weight format."""
    from textgen_export.contract.tokens import META_TOKEN

    from .models import own_text

    text = bench.vocab.tokenize(" ".join(own_text(400, seed=7)))[:tokens]
    known = [t for t in text if t in bench.vocab.token_to_index]
    history = [META_TOKEN, *known]
    windows = bench.vocab.windows([history[: j + 1] for j in range(len(known))], bench.config.max_length)
    targets = np.asarray(bench.vocab.encode(known))
    probs = np.concatenate([probs_of(windows[i : i + 256]) for i in range(0, len(windows), 256)])
    return float(-np.mean(np.log2(probs[np.arange(len(targets)), targets].astype(np.float64) + 1e-12)))


def weights_precision(bench, tmp: Path, rounds: int, budget: float, log) -> tuple[list[dict], dict]:
    """fp32, fp16 (onnxruntime's float16 tool, fp32 inputs/outputs) and dynamic int8 weights on one thread:
    tok/s side by side, and bits per token on the same text."""
    import onnxruntime as ort

    from textgen_export.contract.bundle import INPUT, PROBS
    from textgen_export.runtime.onnx import session_options

    from .gpu import fp16_model

    paths = {
        FP32: bench.files["onnx-fp32"],
        "weights fp16": None,
        "weights int8 (dynamic)": bench.files.get("onnx-int8"),
    }
    found, why = [], {}
    try:
        paths["weights fp16"] = fp16_model(paths[FP32], tmp)
    except Exception as exc:  # the converter is part of onnxruntime; a failure is a row, not a crash
        why["weights fp16"] = f"{type(exc).__name__}: {exc}"[:200]
    calls = {}
    for name, path in paths.items():
        if path is None:
            found.append(
                rows.missing(bench.name, name, "–", "tok/s", "unavailable", why.get(name, "not exported"))
            )
            continue
        session = ort.InferenceSession(str(path), session_options(1), providers=["CPUExecutionProvider"])
        calls[name] = lambda w, s=session: s.run([PROBS], {INPUT: w})[0]
    details = {name: {"bits_per_token": bits_per_token(call, bench, PRECISION_TEXT_TOKENS),
                      "bytes": Path(paths[name]).stat().st_size} for name, call in calls.items()}  # fmt: skip
    for name, info in details.items():
        found.append(
            rows.row(bench.name, name, "bits per token (own text)", "bits/token", median=info["bits_per_token"],
                     reps=1, higher_is_better=False, threads="1", format=name.split()[1])
        )  # fmt: skip
    rng = np.random.default_rng(5)
    for batch in (1, 64):
        windows = rng.integers(1, bench.num_classes, (batch, bench.config.max_length), dtype=np.int32)
        log(f"  weights fp32/fp16/int8, 1 thread, B={batch}")
        for name, values in alternate(calls, windows, rounds, budget).items():
            found.append(rows.row(bench.name, name, f"call B={batch}", "tok/s", [batch / s for s in values],
                                  threads="1", format=name.split()[1]))  # fmt: skip
    return found, details


def _once(call, windows) -> float:
    start = time.perf_counter()
    call(windows)
    return time.perf_counter() - start
