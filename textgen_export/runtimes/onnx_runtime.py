"""ONNX Runtime adapter (TF-free): int32 windows [B, max_length] → float32 probabilities [B, num_classes].

Session settings were chosen by measurement (benchmarks/results/sampling_speed-cpu.md): full graph
optimisation, sequential execution (the graph is a chain), and two sessions over the same model: a
single-threaded one for small batches (n=1 streaming, where thread hand-offs cost more than they save:
≈4,000 vs ≈2,300 windows/s here) and one with all cores for large batches (≈15,000 vs ≈9,000 at B=64).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnxruntime as ort

from ..errors import UserError

INPUT, PROBS, ATTENTION = "windows", "probs", "attention"
SMALL_BATCH = 8  # below this many windows the single-threaded session is faster


def session_options(threads: int | None = None) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3  # warnings about unused initialisers etc. are not the user's business
    if threads:
        options.intra_op_num_threads = threads
    return options


def open_session(path: str | Path, threads: int | None = None) -> ort.InferenceSession:
    """An ORT CPU session for `path`, with a one-line UserError if the file is not a loadable ONNX model."""
    try:
        return ort.InferenceSession(str(path), session_options(threads), providers=["CPUExecutionProvider"])
    except Exception as exc:  # ORT raises its own (non-exported) exception classes for bad files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(
            f"{path} is not a loadable ONNX model ({first[:160]}); re-export the bundle"
        ) from None


class OnnxRuntime:
    """The runtime adapter the shared Generator drives; also exposes the attention output."""

    name = "onnxruntime"

    def __init__(self, path: str | Path, threads: int | None = None):
        """`threads=None` picks by batch size (see module doc); a number pins one session to that many."""
        self.path = Path(path)
        self.threads = threads
        self.session = open_session(self.path, threads)  # the large-batch (or pinned) session
        self._single: ort.InferenceSession | None = None
        self._probs_only = [PROBS]

    def session_for(self, batch: int) -> ort.InferenceSession:
        if self.threads is not None or batch >= SMALL_BATCH or (os.cpu_count() or 1) == 1:
            return self.session
        if self._single is None:
            self._single = open_session(self.path, threads=1)
        return self._single

    def probs(self, windows: np.ndarray) -> np.ndarray:
        windows = np.ascontiguousarray(windows, dtype=np.int32)
        return self.session_for(len(windows)).run(self._probs_only, {INPUT: windows})[0]

    def outputs(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        windows = np.ascontiguousarray(windows, dtype=np.int32)
        probs, attention = self.session_for(len(windows)).run([PROBS, ATTENTION], {INPUT: windows})
        return probs, attention

    def attention(self, windows: np.ndarray) -> np.ndarray:
        return self.outputs(windows)[1]

    def io_shapes(self) -> dict[str, list]:
        """Declared shapes of the graph's inputs and outputs by name (symbolic dims as strings)."""
        return {v.name: list(v.shape) for v in [*self.session.get_inputs(), *self.session.get_outputs()]}
