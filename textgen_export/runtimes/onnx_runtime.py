"""ONNX Runtime adapter (TF-free): int32 windows [B, max_length] → float32 probabilities [B, num_classes].

Session settings were chosen by benchmarks/sampling_speed.py (see benchmarks/results/sampling_speed-cpu.md):
full graph optimisation, sequential execution (the graph is a chain), and an explicit intra-op thread count.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

from ..errors import UserError

INPUT, PROBS, ATTENTION = "windows", "probs", "attention"


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
        self.session = open_session(path, threads)
        self._probs_only = [PROBS]

    def probs(self, windows: np.ndarray) -> np.ndarray:
        windows = np.ascontiguousarray(windows, dtype=np.int32)
        return self.session.run(self._probs_only, {INPUT: windows})[0]

    def outputs(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        windows = np.ascontiguousarray(windows, dtype=np.int32)
        probs, attention = self.session.run([PROBS, ATTENTION], {INPUT: windows})
        return probs, attention

    def attention(self, windows: np.ndarray) -> np.ndarray:
        return self.outputs(windows)[1]

    def io_shapes(self) -> dict[str, list]:
        """Declared shapes of the graph's inputs and outputs by name (symbolic dims as strings)."""
        return {v.name: list(v.shape) for v in [*self.session.get_inputs(), *self.session.get_outputs()]}
