"""How fast the runtimes installed here run a bundle's next-token call (`textgen-export bench BUNDLE`).

The timing rule, the same for every runtime (the benchmark lab in the repository's benchmarks/ uses it too):
untimed warm-up calls, then calls until a minimum time and a minimum count have passed (a call slower than
`max_time` is timed once); the figure is the median seconds per call, with the 10th and 90th percentile.
Windows are random in-vocabulary tokens: a call's cost does not depend on which tokens it sees.

Node runtimes are timed by the page's own Node modules (web_demo/src/bench.mjs, with the same rule), one
process per runtime, where node and their npm packages are installed beside the page.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

# Node runtime (web_demo/src/runtime/node.js's name) → the npm package it needs.
NODE_RUNTIMES = {
    "onnx": "onnxruntime-node",
    "onnx-web": "onnxruntime-web",
    "tfjs-wasm": "@tensorflow/tfjs-backend-wasm",
    "tfjs-cpu": "@tensorflow/tfjs",
}
NODE_TIMEOUT_S = 600


@dataclass(frozen=True)
class Budget:
    """How long to time one (runtime, batch) cell."""

    min_time: float = 1.0  # keep calling until this many seconds of timed calls
    min_reps: int = 3
    max_reps: int = 1000
    warmup: int = 1
    max_time: float = 8.0  # a single call slower than this is timed once, not repeated

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Timing:
    """Seconds per repetition: median, 10th and 90th percentile, over `reps` repetitions."""

    median: float
    p10: float
    p90: float
    reps: int

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def of(cls, samples: Sequence[float]) -> Timing:
        values = np.asarray(samples, dtype=np.float64)
        p10, median, p90 = np.percentile(values, [10, 50, 90])
        return cls(float(median), float(p10), float(p90), len(values))


def measure(call: Callable[[], object], budget: Budget) -> Timing:
    """Time `call()` after `budget.warmup` untimed calls, repeating until min_time and min_reps are met."""
    for _ in range(budget.warmup):
        start = time.perf_counter()
        call()
        if time.perf_counter() - start > budget.max_time:
            break  # one more call would cost too much; the next one is the only sample
    samples: list[float] = []
    total = 0.0
    while len(samples) < budget.max_reps:
        start = time.perf_counter()
        call()
        elapsed = time.perf_counter() - start
        samples.append(elapsed)
        total += elapsed
        if total >= budget.min_time and len(samples) >= budget.min_reps:
            break
        if elapsed > budget.max_time:
            break
    return Timing.of(samples)


def timed(call: Callable[[], object]) -> tuple[float, object]:
    """(seconds, result) of one call."""
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def random_windows(num_classes: int, max_length: int, batch: int, seed: int = 0) -> np.ndarray:
    """int32 [batch, max_length] windows of random in-vocabulary tokens."""
    rng = np.random.default_rng(seed)
    return rng.integers(1, num_classes, size=(batch, max_length), dtype=np.int32)


def time_python(runtime, batches: Sequence[int], budget: Budget) -> list[tuple[int, Timing]]:
    """(batch, timing of `runtime.probs` on that many windows) for an opened BundleRuntime."""
    found = []
    for batch in batches:
        windows = random_windows(runtime.vocab.num_classes, runtime.config.max_length, batch)
        found.append((batch, measure(lambda w=windows: runtime.probs(w), budget)))
    return found


def node_missing(page: Path, runtime: str) -> str | None:
    """Why `runtime` cannot be timed in Node here, or None."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (page / "node_modules").is_dir():
        return f"no npm packages beside the page ({page}); in a checkout: make node-deps"
    package = NODE_RUNTIMES[runtime]
    if not (page / "node_modules" / package / "package.json").is_file():
        return f"npm package {package} is not installed in {page / 'node_modules'}"
    return None


def time_node(
    page: Path, bundle: Path, runtime: str, batches: Sequence[int], budget: Budget
) -> list[tuple[int, Timing]]:
    """Time `runtime` in a Node process (src/bench.mjs of the page); raises RuntimeError with node's reason."""
    command = [
        shutil.which("node") or "node",
        str(page / "src" / "bench.mjs"),
        str(Path(bundle).resolve()),
        runtime,
        ",".join(map(str, batches)),
        json.dumps(budget.to_dict()),
    ]
    try:
        done = subprocess.run(command, cwd=page, capture_output=True, text=True, timeout=NODE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"no answer within {NODE_TIMEOUT_S} s") from None
    if done.returncode != 0:
        raise RuntimeError((done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1][:200])
    cells = json.loads(done.stdout)["cells"]
    return [(int(c["batch"]), Timing.of(c["seconds"])) for c in cells]
