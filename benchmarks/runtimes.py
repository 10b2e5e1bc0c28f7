"""Runtimes: each opens an adapter (`probs(windows) -> float32[B, V]`) for a model, or says why not.

The Python runtimes run in this process and are measured by `run_python`; the Node and Chromium runtimes are
measured by JS scripts that apply the same method (nodejs.py, browser.py) and return the same result shape.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from textgen_export.contract.tokens import META_TOKEN
from textgen_export.sampling.generator import Generator

from . import gpu
from .method import Budget, Timing, measure, timed
from .models import BenchModel

CALL, E2E = "call", "e2e"  # model call only; end-to-end generation with the shared sampler


@dataclass
class Cell:
    """One measurement: a batch size and a mode, tokens produced per repetition, and the timing."""

    batch: int
    mode: str
    tokens: int  # tokens produced per repetition (batch for CALL; all rows' new tokens for E2E)
    chars: int  # characters of text produced per repetition (E2E), else 0
    timing: Timing | None
    note: str = ""

    def to_dict(self) -> dict:
        data = asdict(self)
        data["timing"] = self.timing.to_dict() if self.timing else None
        return data


@dataclass
class Result:
    """One runtime on one model: availability, start-up figures, validity checks and the measured cells."""

    model: str
    runtime: str
    group: str  # python, node, chromium, gpu
    threads: str
    status: str = "ok"  # ok, unavailable, failed
    reason: str = ""
    format: str = ""
    load_s: float | None = None
    first_token_s: float | None = None
    peak_rss_mb: float | None = None
    checks: dict = field(default_factory=dict)
    cells: list[Cell] = field(default_factory=list)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["cells"] = [c.to_dict() for c in self.cells]
        return data


@dataclass(frozen=True)
class Plan:
    """What to measure for each runtime."""

    batches: tuple[int, ...]
    budget: Budget
    gen_length: int  # tokens per row in the end-to-end test (including the leading `<s>`)
    greedy_length: int  # tokens of greedy text compared across runtimes
    seed: int = 2026
    temperature: float = 0.5
    e2e_max_s: float = 10.0  # skip a generation test whose estimated time (call time × gen_length) is longer
    slow_call_s: float = 10.0  # skip a batch size whose call is estimated to take longer
    gpu_batches: tuple[int, ...] | None = None  # batch sizes of GPU rows (None: the same as the others)

    @property
    def e2e_budget(self) -> Budget:
        """Generation repetitions are long and the first run was the warm-up: no more warm-up, 2 repetitions."""
        return replace(self.budget, warmup=0, min_reps=min(2, self.budget.min_reps))

    def to_dict(self) -> dict:
        """The settings every runtime is measured with, as results.json and the JS jobs record them."""
        return {
            "batches": list(self.batches),
            "budget": self.budget.to_dict(),
            "gen_length": self.gen_length,
            "greedy_length": self.greedy_length,
            "temperature": self.temperature,
            "seed": self.seed,
            "e2e_max_s": self.e2e_max_s,
            "slow_call_s": self.slow_call_s,
        }


# -- the Python runtimes ------------------------------------------------------------------------------------


class PythonRuntime:
    """A runtime in this process: `open(bench)` returns an adapter; `unavailable(bench)` a reason or None."""

    format = "keras"

    def __init__(
        self,
        name: str,
        threads: str = "all",
        opener: Callable | None = None,
        why_not=None,
        format=None,
        group: str = "python",
        batches: tuple[int, ...] | None = None,  # this runtime's batch sizes in a full run (GPU: larger)
    ):
        self.name = name
        self.threads = threads
        self.group = group
        self.batches = batches
        self._opener = opener
        self._why_not = why_not
        if format:
            self.format = format

    def unavailable(self, bench: BenchModel) -> str | None:
        return self._why_not(bench) if self._why_not else None

    def open(self, bench: BenchModel):
        return self._opener(bench)


class PredictAdapter:
    """The textgenrnn way: `model.predict` once per token (its per-call overhead is the point)."""

    def __init__(self, model):
        self.model = model

    def probs(self, windows: np.ndarray) -> np.ndarray:
        return self.model.predict(windows, batch_size=len(windows), verbose=0)


class DirectCallAdapter:
    """Keras eager call `model(windows)`: no tracing, no predict loop."""

    def __init__(self, model):
        self.model = model

    def probs(self, windows: np.ndarray) -> np.ndarray:
        return np.asarray(self.model(windows, training=False))


def _keras(make):
    def opener(bench: BenchModel):
        from textgen_export.keras.network import text_model

        return make(text_model(bench.load_keras()))

    return opener


def _tf_function(jit: bool):
    def make(model):
        from textgen_export.runtime.keras import KerasRuntime

        return KerasRuntime(model, jit_compile=jit)

    return make


def _onnx(fmt: str, threads: int | None):
    def opener(bench: BenchModel):
        from textgen_export.runtime.onnx import OnnxRuntime

        return OnnxRuntime(bench.files[fmt], threads=threads)

    return opener


class ProviderAdapter:
    """An ORT session on an accelerator's execution provider (CUDA, TensorRT), CPU as ORT's own fallback."""

    def __init__(self, path, providers: list[str]):
        import onnxruntime as ort

        from textgen_export.runtime.onnx import session_options

        self.session = ort.InferenceSession(
            str(path), session_options(), providers=[*providers, "CPUExecutionProvider"]
        )
        if self.session.get_providers()[0] != providers[0]:
            raise RuntimeError(f"ONNX Runtime fell back to {self.session.get_providers()[0]}")

    def probs(self, windows: np.ndarray) -> np.ndarray:
        return self.session.run(["probs"], {"windows": np.ascontiguousarray(windows, dtype=np.int32)})[0]


def _needs_format(fmt: str):
    def why_not(bench: BenchModel) -> str | None:
        if fmt not in bench.files:
            return bench.unavailable.get(fmt, f"no {fmt} file")
        return None

    return why_not


class DeviceAdapter:
    """Runs another adapter's calls under `tf.device`, so its tf.function is traced onto that device."""

    def __init__(self, adapter, device: str):
        self.adapter = adapter
        self.device = device

    def probs(self, windows: np.ndarray) -> np.ndarray:
        from textgen_export.keras.backend import tf

        with tf.device(self.device):
            return self.adapter.probs(windows)


def python_runtimes() -> list[PythonRuntime]:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    found = [
        PythonRuntime("keras-predict (textgenrnn way)", opener=_keras(PredictAdapter)),
        PythonRuntime("keras-call", opener=_keras(DirectCallAdapter)),
        PythonRuntime("tf.function", opener=_keras(_tf_function(False))),
        PythonRuntime("tf.function-xla", opener=_keras(_tf_function(True))),
    ]
    for fmt in ("onnx-fp32", "onnx-int8"):
        for threads in sorted({1, cores}):
            found.append(
                PythonRuntime(
                    f"ort-cpu-{fmt.split('-')[1]}", str(threads), _onnx(fmt, threads), _needs_format(fmt), fmt
                )
            )
    # the product's default adapter: threads per batch size by its measured rule (runtime/onnx.py)
    found.append(
        PythonRuntime(
            "ort-cpu-fp32 (default adapter)",
            "auto",
            _onnx("onnx-fp32", None),
            _needs_format("onnx-fp32"),
            "onnx-fp32",
        )
    )
    for row in gpu.GPU_ROWS:
        found.append(
            PythonRuntime(
                row.name,
                opener=gpu.opener(row),
                why_not=lambda bench, row=row: row.reason(gpu.detect()) or _needs_format("onnx-fp32")(bench),
                format=row.format,
                group="gpu",
                batches=gpu.GPU_BATCHES,
            )
        )
    return found


# -- measuring one Python runtime ------------------------------------------------------------------------------


class _PeakSampler:
    """Samples `current()` every `period` seconds on a thread while in a `with` block; `peak` is the highest."""

    def __init__(self, period: float):
        self.period = period
        self.peak = self.current()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def current(self) -> float:
        raise NotImplementedError

    def _run(self):
        while not self._stop.wait(self.period):
            self.peak = max(self.peak, self.current())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.current())


class PeakRss(_PeakSampler):
    """This process's resident memory every 10 ms; `extra_mb` is the peak above the starting level."""

    def __init__(self):
        import psutil

        self._process = psutil.Process()
        super().__init__(0.01)
        self.start = self.peak

    def current(self) -> float:
        return self._process.memory_info().rss

    @property
    def extra_mb(self) -> float:
        return (self.peak - self.start) / 2**20


class TreeRss(_PeakSampler):
    """Peak summed RSS (MB) of a process and its descendants (optionally only those whose name contains
    `name`), sampled every 20 ms from outside: a child's own max-RSS counter would include the Python parent
    it was forked from."""

    def __init__(self, pid: int, name: str | None = None, include_root: bool = True):
        import psutil

        self.psutil = psutil
        self.root = psutil.Process(pid)
        self.name = name
        self.include_root = include_root
        super().__init__(0.02)
        self.peak = 0.0  # from the block's start: the processes measured are started inside it

    def current(self) -> float:
        total = 0
        try:
            processes = self.root.children(recursive=True) + ([self.root] if self.include_root else [])
        except self.psutil.Error:
            return 0.0
        for process in processes:
            try:
                if self.name is None or self.name in process.name().lower():
                    total += process.memory_info().rss
            except self.psutil.Error:
                pass
        return total / 2**20


def bench_windows(bench: BenchModel, batch: int, seed: int = 0) -> np.ndarray:
    """Windows of random in-vocabulary tokens (the cost of a call does not depend on the tokens)."""
    rng = np.random.default_rng(seed)
    return rng.integers(1, bench.num_classes, size=(batch, bench.config.max_length), dtype=np.int32)


def check_windows(bench: BenchModel) -> np.ndarray:
    """Fixed windows for the validity checks: empty, the prefix, and two random ones."""

    texts = [[META_TOKEN], [META_TOKEN, *bench.vocab.tokenize(bench.prefix)]]
    fixed = bench.vocab.windows(texts, bench.config.max_length)
    return np.concatenate([fixed, bench_windows(bench, 2, seed=1)]).astype(np.int32)


def validity(probs: np.ndarray, reference: np.ndarray, num_classes: int) -> dict:
    """Shape, finiteness, sum-to-one and the largest difference to the float64 reference."""
    probs = np.asarray(probs)
    ok_shape = probs.shape == reference.shape and probs.shape[1] == num_classes
    finite = bool(np.all(np.isfinite(probs))) if ok_shape else False
    sums = probs.astype(np.float64).sum(axis=1) if ok_shape else np.array([np.nan])
    return {
        "shape": list(probs.shape),
        "shape_ok": bool(ok_shape),
        "finite": finite,
        "nonnegative": bool(ok_shape and np.all(probs >= 0)),
        "max_sum_error": float(np.max(np.abs(sums - 1.0))),
        "max_abs_diff_vs_float64": float(np.max(np.abs(probs - reference))) if ok_shape else None,
    }


def e2e_once(generator: Generator, batch: int, plan: Plan) -> tuple[int, int]:
    """Generate `batch` seeded texts of up to plan.gen_length tokens; returns (new tokens, characters)."""
    state = generator.start(
        n=batch, temperature=plan.temperature, max_gen_length=plan.gen_length, seed=plan.seed
    )
    tokens = 0
    while state.active.size:
        tokens += len(generator.advance(state))
    chars = sum(len(generator.finish_text(row.tokens)) for row in state.rows)
    return tokens, chars


def slow_call(previous: tuple[int, float] | None, batch: int, plan: Plan) -> str | None:
    """A note if a call on `batch` windows would take longer than plan.slow_call_s, judging by the last batch
    size's call time when that was already compute-bound (≥ 1 s; scaled linearly with batch size). Calls that
    take less are dominated by per-call overhead and do not scale with the batch (Keras predict: 0.1 s at any B).
    """
    if previous is None or previous[1] < 1.0:
        return None
    last_batch, last_seconds = previous
    estimate = last_seconds * batch / last_batch
    if estimate > plan.slow_call_s:
        return f"skipped: ≈{estimate:.0f} s per call (from B={last_batch})"
    return None


def measure_cells(
    adapter, bench: BenchModel, plan: Plan, log: Callable[[str], None], batches: tuple[int, ...] | None = None
) -> list[Cell]:
    generator = Generator(adapter, bench.vocab, bench.config)
    cells: list[Cell] = []
    previous = None
    for batch in batches or plan.batches:
        too_slow = slow_call(previous, batch, plan)
        if too_slow:
            cells += [Cell(batch, CALL, 0, 0, None, too_slow), Cell(batch, E2E, 0, 0, None, too_slow)]
            continue
        windows = bench_windows(bench, batch)
        timing = measure(lambda w=windows: adapter.probs(w), plan.budget)
        previous = (batch, timing.median)
        cells.append(Cell(batch, CALL, batch, 0, timing))
        estimate = timing.median * plan.gen_length
        if estimate > plan.e2e_max_s:
            cells.append(Cell(batch, E2E, 0, 0, None, f"skipped: ≈{estimate:.0f} s per generation"))
            continue
        tokens, chars = e2e_once(generator, batch, plan)  # also the warm-up for this batch's shapes
        timing = measure(lambda b=batch: e2e_once(generator, b, plan), plan.e2e_budget)
        cells.append(Cell(batch, E2E, tokens, chars, timing))
        log(
            f"    B={batch:<4} call {batch / cells[-2].timing.median:>10,.0f} tok/s   "
            f"e2e {tokens / timing.median:>10,.0f} tok/s"
        )
    return cells


def run_python(
    runtime: PythonRuntime, bench: BenchModel, plan: Plan, reference: dict, log: Callable[[str], None]
) -> Result:
    """Open, check and measure one in-process runtime; a failure becomes a `failed` row with its reason."""
    result = Result(bench.name, runtime.name, runtime.group, runtime.threads, format=runtime.format)
    reason = runtime.unavailable(bench)
    if reason:
        result.status, result.reason = "unavailable", reason
        return result
    try:
        with PeakRss() as rss:
            result.load_s, adapter = timed(lambda: runtime.open(bench))
            first = bench_windows(bench, 1)
            result.first_token_s, _ = timed(lambda: adapter.probs(first))
            result.checks = run_checks(adapter, bench, plan, reference)
            if hasattr(adapter, "small_batch_threads"):  # the ORT adapter's threads rule, as it chose here
                result.checks["small_batch_threads"] = adapter.small_batch_threads
            batches = plan.gpu_batches if runtime.group == "gpu" and plan.gpu_batches else plan.batches
            result.cells = measure_cells(adapter, bench, plan, log, batches)
        result.peak_rss_mb = rss.extra_mb
    except Exception as exc:  # a broken runtime is a row that says what broke, not a crashed benchmark
        result.status = "failed"
        result.reason = (
            f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ''}"
        )
    return result


def run_checks(adapter, bench: BenchModel, plan: Plan, reference: dict) -> dict:
    checks = validity(adapter.probs(reference["windows"]), reference["probs"], bench.num_classes)
    generator = Generator(adapter, bench.vocab, bench.config)
    started = time.perf_counter()
    greedy = generator.generate(temperature=0.0, prefix=bench.prefix, max_gen_length=plan.greedy_length)[0]
    checks["greedy_s"] = time.perf_counter() - started
    checks["greedy_text"] = greedy
    checks["greedy_matches"] = greedy == reference["greedy_text"]
    return checks
