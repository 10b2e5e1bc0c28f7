"""ONNX Runtime adapter (TF-free): int32 windows [B, max_length] → float32 probabilities [B, num_classes].

Session settings rest on measurements (benchmarks/results/sampling_speed-cpu.md): full graph optimisation,
sequential execution (the graph is a chain), and two sessions over the same model, one single-threaded and
one using every core.  Which is faster depends on the batch size and on how busy the other cores are: on
this 2-core machine a B=1 call took 245 µs on one thread, and 193 µs on two while the second core was idle but
400 µs while another process used it.  So the adapter races the two on live calls, separately for small and
large batches, keeps the faster, and races again every few thousand calls.  Thread count does not change the
results (MLAS splits work across output columns; checked bit for bit in tests/integration/test_runtime.py), so the choice
never changes generated text.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from ..errors import UserError
from ..files.reading import quoted
from ..spec.bundle import ATTENTION, INPUT, PROBS

SMALL_BATCH = 8  # batch-size classes that race separately: below this, and this or more
RACE_CALLS = 6  # timed calls per session in a race (the first call of each is a warm-up)
RERACE_EVERY = 4000  # calls between races
MAX_THREADS = 256  # ORT starts one OS thread per intra-op thread up front; 10**6 would exhaust the machine


def check_threads(threads) -> None:
    if threads is None:
        return
    if isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= MAX_THREADS:
        raise UserError(f"threads must be an integer from 1 to {MAX_THREADS}, got {threads!r}")


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return quoted((text or type(exc).__name__)[:200])


def session_options(threads: int | None = None) -> ort.SessionOptions:
    check_threads(threads)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # ORT's own log lines (warnings about unused initialisers, run-time kernel errors) are not the user's business:
    # every failure reaches the user as one UserError line instead.
    options.log_severity_level = 4
    if threads:
        options.intra_op_num_threads = threads
    return options


def open_session(path: str | Path, threads: int | None = None) -> ort.InferenceSession:
    """An ORT CPU session for `path`, with a one-line UserError if the file is not a loadable ONNX model."""
    try:
        # On a bad file ORT's Python wrapper prints an "EP Error" banner to stdout before raising; keep stdout
        # for the generated text.
        with contextlib.redirect_stdout(io.StringIO()):
            return ort.InferenceSession(
                str(path), session_options(threads), providers=["CPUExecutionProvider"]
            )
    except Exception as exc:  # ORT raises its own (non-exported) exception classes for bad files
        raise UserError(
            f"{path} is not a loadable ONNX model ({_first_line(exc)}); re-export the bundle"
        ) from None


class _Race:
    """Alternates calls between candidate sessions, then keeps the one with the lower median time."""

    def __init__(self, sessions: list[ort.InferenceSession]):
        self.sessions = sessions
        self.best = sessions[0]
        self.calls = 0
        self.times: list[list[float]] = [[] for _ in sessions]

    def run(self, fetch: list[str], feed: dict) -> list[np.ndarray]:
        racing = self.calls % RERACE_EVERY < RACE_CALLS * len(self.sessions)
        self.calls += 1
        if not racing or len(self.sessions) == 1:
            return self.best.run(fetch, feed)
        which = self.calls % len(self.sessions)
        start = time.perf_counter()
        result = self.sessions[which].run(fetch, feed)
        self.times[which].append(time.perf_counter() - start)
        if self.calls % RERACE_EVERY == RACE_CALLS * len(self.sessions):
            medians = [float(np.median(t[1:])) if len(t) > 1 else np.inf for t in self.times]
            self.best = self.sessions[int(np.argmin(medians))]
            self.times = [[] for _ in self.sessions]
        return result


class OnnxRuntime:
    """The runtime adapter the shared Generator drives; also exposes the attention output."""

    name = "onnxruntime"

    def __init__(self, path: str | Path, threads: int | None = None):
        """`threads=None` races one thread against all cores (see module doc); a number pins one session."""
        self.path = Path(path)
        self.session = open_session(self.path, threads)
        sessions = [self.session]
        if threads is None and (os.cpu_count() or 1) > 1:
            sessions.insert(0, open_session(self.path, threads=1))
        self._races = (_Race(sessions), _Race(sessions[::-1]))  # small batches, large batches
        self._probs_only = [PROBS]

    def _run(self, fetch: list[str], windows: np.ndarray) -> list[np.ndarray]:
        windows = np.ascontiguousarray(windows, dtype=np.int32)
        if windows.ndim != 2:
            raise UserError(
                f"windows must be a 2-D [batch, max_length] array, got shape {list(windows.shape)}"
            )
        if len(windows) == 0:  # ORT aborts the whole process on an empty batch of this graph: answer it here
            return [self._empty(name) for name in fetch]
        race = self._races[len(windows) >= SMALL_BATCH]
        try:
            return race.run(fetch, {INPUT: windows})
        except Exception as exc:  # ORT's own exception classes (InvalidArgument, Fail, ...) are not exported
            raise UserError(
                f"ONNX Runtime failed running {self.path.name} ({_first_line(exc)}); check the input windows "
                "(indices below the vocabulary size) or re-export the bundle"
            ) from None

    def _empty(self, name: str) -> np.ndarray:
        shape = self.io_shapes().get(name, [])
        width = shape[1] if len(shape) == 2 and isinstance(shape[1], int) else 0
        return np.zeros((0, width), dtype=np.float32)

    def probs(self, windows: np.ndarray) -> np.ndarray:
        return self._run(self._probs_only, windows)[0]

    def outputs(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        probs, attention = self._run([PROBS, ATTENTION], windows)
        return probs, attention

    def attention(self, windows: np.ndarray) -> np.ndarray:
        return self.outputs(windows)[1]

    def io_shapes(self) -> dict[str, list]:
        """Declared shapes of the graph's inputs and outputs by name (symbolic dims as strings)."""
        return {v.name: list(v.shape) for v in [*self.session.get_inputs(), *self.session.get_outputs()]}
