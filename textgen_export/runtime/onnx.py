"""ONNX Runtime adapter (TF-free): int32 windows [B, max_length] → float32 probabilities [B, num_classes].

Session settings: full graph optimisation and sequential execution (the graph is a chain).  Threads are chosen
per batch size, never by racing sessions on live calls: batches of SMALL_BATCH windows or more use every core
with worker threads that sleep between calls; smaller batches use whichever of one thread or all cores with
spinning threads was faster on B=1 calls timed once when the adapter opens (CALIBRATION_CALLS each, after a
warm-up).  The thread count never changes results (tests/integration/test_onnx_threads.py checks bit for bit), so
it never changes generated text.  The measurements behind the rule: benchmarks/README.md, "Closing the gap".
With `tail` (a bundle's model_tail.onnx), calls whose windows share leading padding run only the last
positions through that graph (runtime/padding.py says how many); other calls run whole windows through `path`.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from ..contract.bundle import ATTENTION, CONTEXT, INPUT, PROBS, TAIL
from ..errors import UserError
from ..files.reading import quoted
from .padding import tail_length

SMALL_BATCH = 8  # from this many windows per call, every core (see the module doc)
CALIBRATION_CALLS = 5  # timed B=1 calls per session when the adapter opens
MAX_THREADS = 256  # ORT starts one OS thread per intra-op thread up front; 10**6 would exhaust the machine


def check_threads(threads) -> None:
    if threads is None:
        return
    if isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= MAX_THREADS:
        raise UserError(f"threads must be an integer from 1 to {MAX_THREADS}, got {threads!r}")


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return quoted((text or type(exc).__name__)[:200])


def session_options(threads: int | None = None, spinning: bool = False) -> ort.SessionOptions:
    """`threads=None`: every core. Multi-thread sessions' workers sleep between calls unless `spinning`."""
    check_threads(threads)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # ORT's own log lines (warnings about unused initialisers, run-time kernel errors) are not the user's business:
    # every failure reaches the user as one UserError line instead.
    options.log_severity_level = 4
    if threads:
        options.intra_op_num_threads = threads
    if threads != 1 and not spinning:
        # Worker threads that spin between calls compete with every other process for the cores (see module doc)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def open_session(
    path: str | Path, threads: int | None = None, spinning: bool = False
) -> ort.InferenceSession:
    """An ORT CPU session for `path`, with a one-line UserError if the file is not a loadable ONNX model."""
    options = session_options(threads, spinning)  # a bad thread count is the caller's error, not the file's
    try:
        # On a bad file ORT's Python wrapper prints an "EP Error" banner to stdout before raising; keep stdout
        # for the generated text.
        with contextlib.redirect_stdout(io.StringIO()):
            return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # ORT raises its own (non-exported) exception classes for bad files
        raise UserError(
            f"{path} is not a loadable ONNX model ({_first_line(exc)}); re-export the bundle"
        ) from None


def faster_on_one_window(sessions: list[ort.InferenceSession], max_length: int) -> int:
    """Index of the session with the lowest median B=1 call time (after a warm-up call each)."""
    window = {INPUT: np.zeros((1, max_length), dtype=np.int32)}
    for given in sessions[0].get_inputs():  # the context head's graph also takes a label vector
        if given.name == CONTEXT:
            window[CONTEXT] = np.zeros((1, given.shape[1]), dtype=np.float32)
    for session in sessions:
        session.run([PROBS], window)
    times: list[list[float]] = [[] for _ in sessions]
    for _ in range(CALIBRATION_CALLS):  # interleaved, so a burst of load on the machine hits both alike
        for i, session in enumerate(sessions):
            start = time.perf_counter()
            session.run([PROBS], window)
            times[i].append(time.perf_counter() - start)
    return int(np.argmin([np.median(t) for t in times]))


class OnnxRuntime:
    """The runtime adapter the shared Generator drives; also exposes the attention output.  On the context
    head's graph (model.context.onnx) every call also takes `context`, the label vectors [B, labels]."""

    name = "onnxruntime"

    def __init__(self, path: str | Path, threads: int | None = None, tail: str | Path | None = None):
        """`threads=None` picks the thread count per batch size (see module doc); a number pins one session.
        `tail`: the padding fast path's graph (model_tail.onnx), run with the same thread choice."""
        self.path = Path(path)
        self.session = open_session(self.path, threads)
        self._small = self._large = self.session
        self._single = None
        if threads is None and (os.cpu_count() or 1) > 1:
            self._single = open_session(self.path, threads=1)
            candidates = [self._single, open_session(self.path, spinning=True)]
            max_length = self.session.get_inputs()[0].shape[1]
            try:
                self._small = candidates[faster_on_one_window(candidates, max_length)]
            except Exception:  # noqa: BLE001 — a model that cannot run fails on its first real call, with its error
                self._small = self._single
        self._probs_only = [PROBS]
        self.tail_path = Path(tail) if tail is not None else None
        self._tail_small = self._tail_large = None
        if tail is not None:
            self._tail_large = open_session(tail, threads)
            self._tail_small = self._tail_large
            if self._small is self._single:
                self._tail_small = open_session(tail, threads=1)
            elif self._small is not self.session:
                self._tail_small = open_session(tail, spinning=True)

    @property
    def small_batch_threads(self) -> str:
        """The rule's choice for batches below SMALL_BATCH: "1" (one thread) or "all" (every core)."""
        return "1" if self._small is self._single else "all"

    def _run(
        self, fetch: list[str], windows: np.ndarray, context: np.ndarray | None = None
    ) -> list[np.ndarray]:
        windows = np.ascontiguousarray(windows, dtype=np.int32)
        feeds = {INPUT: windows}
        if context is not None:
            feeds[CONTEXT] = np.ascontiguousarray(context, dtype=np.float32)
        if windows.ndim != 2:
            raise UserError(
                f"windows must be a 2-D [batch, max_length] array, got shape {list(windows.shape)}"
            )
        if len(windows) == 0:  # ORT aborts the whole process on an empty batch of this graph: answer it here
            return [self._empty(name) for name in fetch]
        small = len(windows) < SMALL_BATCH
        # The fast path is the text path's: the context head's graph always reads whole windows.
        k = tail_length(windows) if self._tail_large is not None and context is None else None
        if k is None:
            session, path = self._small if small else self._large, self.path
        else:
            session = self._tail_small if small else self._tail_large
            feeds, path = {TAIL: np.ascontiguousarray(windows[:, -k:])}, self.tail_path
        try:
            return session.run(fetch, feeds)
        except Exception as exc:  # ORT's own exception classes (InvalidArgument, Fail, ...) are not exported
            raise UserError(
                f"ONNX Runtime failed running {path.name} ({_first_line(exc)}); check the input windows "
                "(indices below the vocabulary size) or re-export the bundle"
            ) from None

    def _empty(self, name: str) -> np.ndarray:
        shape = self.io_shapes().get(name, [])
        width = shape[1] if len(shape) == 2 and isinstance(shape[1], int) else 0
        return np.zeros((0, width), dtype=np.float32)

    def probs(self, windows: np.ndarray, context: np.ndarray | None = None) -> np.ndarray:
        return self._run(self._probs_only, windows, context)[0]

    def outputs(
        self, windows: np.ndarray, context: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        probs, attention = self._run([PROBS, ATTENTION], windows, context)
        return probs, attention

    def attention(self, windows: np.ndarray) -> np.ndarray:
        return self.outputs(windows)[1]

    def io_shapes(self) -> dict[str, list]:
        """Declared shapes of the graph's inputs and outputs by name (symbolic dims as strings)."""
        return _shapes(self.session)

    def tail_io_shapes(self) -> dict[str, list]:
        """The same for the fast path's graph (empty without one)."""
        return _shapes(self._tail_large) if self._tail_large is not None else {}


def _shapes(session: ort.InferenceSession) -> dict[str, list]:
    return {v.name: list(v.shape) for v in [*session.get_inputs(), *session.get_outputs()]}
