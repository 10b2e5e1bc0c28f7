"""Optional int8 dynamic quantisation of model.onnx (onnxruntime.quantization).

Quantised weights cannot meet the 1e-5 gate, so instead of it the export reports the file size and the change
in bits per token on held-out text (validate.SAMPLE_TEXT: the model never trained on it).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ..contract.bundle import ONNX, ONNX_INT8
from ..contract.config import ModelConfig
from ..contract.tokens import META_TOKEN
from ..contract.vocabulary import Vocabulary
from ..runtime.onnx import OnnxRuntime
from .validate import SAMPLE_TEXT

INT8 = ONNX_INT8


def quantize_int8(source: Path, target: Path) -> None:
    """Dynamic (weights-only int8, activations quantised per call) quantisation of `source` into `target`."""

    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # its "consider pre-processing" advice targets conv nets, not this model
    try:
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8)
    finally:
        root.setLevel(level)


def heldout_pairs(vocab: Vocabulary, config: ModelConfig, text: str = SAMPLE_TEXT):
    """(windows int32 [N, max_length], targets int [N]) for every next token of `text` known to the vocab."""
    tokens = vocab.tokenize(text)
    if not config.single_text:
        tokens = [META_TOKEN, *tokens, META_TOKEN]
    ids = vocab.encode(tokens)
    ends = [j for j in range(1, len(tokens)) if ids[j] != 0]
    windows = vocab.windows([tokens[:j] for j in ends], config.max_length)
    return windows, np.asarray([ids[j] for j in ends])


def bits_per_token(adapter, windows: np.ndarray, targets: np.ndarray) -> float:
    probs = np.asarray(adapter.probs(windows), dtype=np.float64)
    picked = probs[np.arange(len(targets)), targets]
    return float(np.mean(-np.log2(np.maximum(picked, 1e-30))))


def quantize_report(folder: Path, vocab: Vocabulary, config: ModelConfig, float_file: str = ONNX) -> dict:
    """Write `model.int8.onnx` beside `float_file` and compare size and held-out bits per token."""
    quantize_int8(folder / float_file, folder / INT8)
    windows, targets = heldout_pairs(vocab, config)
    float_bpt = bits_per_token(OnnxRuntime(folder / float_file), windows, targets)
    int8_bpt = bits_per_token(OnnxRuntime(folder / INT8), windows, targets)
    return {
        "file": INT8,
        "size": (folder / INT8).stat().st_size,
        "float_size": (folder / float_file).stat().st_size,
        "heldout_tokens": int(len(targets)),
        "float_bits_per_token": float_bpt,
        "bits_per_token": int8_bpt,
        "delta_bits_per_token": int8_bpt - float_bpt,
    }
