"""BundleRuntime: a verified bundle + an ONNX Runtime session + the shared generation loop."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from ..contract.bundle import ATTENTION, CONFIG, INPUT, ONNX, ONNX_TAIL, PROBS, TAIL, VOCAB, Bundle
from ..contract.tokens import META_TOKEN
from ..errors import UserError
from ..sampling.generator import Generator
from ..sampling.trace import Trace
from .onnx import OnnxRuntime
from .onnx_external import check_no_external_data


class BundleRuntime:
    """Generate text from an exported bundle with the same options and seeded output as the Keras path."""

    def __init__(
        self, folder: str | Path, model_file: str = ONNX, threads: int | None = None, fast: bool = True
    ):
        """`fast`: use the padding fast path (model_tail.onnx) where the bundle has one for `model_file`."""
        self.bundle = Bundle(folder)
        self.config = self.bundle.config
        self.vocab = self.bundle.vocab
        model_path = self.model_path(model_file)
        use_tail = (
            fast
            and model_file == ONNX
            and ONNX_TAIL in self.bundle.files
            and not self.config.rnn_bidirectional
        )
        tail_path = self.model_path(ONNX_TAIL) if use_tail else None
        self.adapter = OnnxRuntime(model_path, threads, tail=tail_path)
        check_shapes(self.adapter.io_shapes(), self.config.max_length, self.vocab.num_classes, model_file)
        if use_tail:
            check_tail_shapes(self.adapter.tail_io_shapes(), self.config.max_length, self.vocab.num_classes)
        self.generator = Generator(self.adapter, self.vocab, self.config)

    def model_path(self, model_file: str) -> Path:
        """A listed, inside, regular, checksum-verified ONNX file holding its tensors in itself."""
        path = self.bundle.path(model_file)
        check_no_external_data(path.read_bytes(), model_file)
        return path

    @property
    def manifest(self) -> dict:
        return self.bundle.manifest

    def generate(
        self,
        n: int = 1,
        temperature: float | Sequence[float] = 0.5,
        prefix: str | None = None,
        max_gen_length: int = 300,
        seed: int | None = None,
    ) -> list[str]:
        """`n` texts generated as one batch; with `seed`, text i equals the Keras path's for seed + i."""
        return self.generator.generate(
            n=n, temperature=temperature, prefix=prefix, max_gen_length=max_gen_length, seed=seed
        )

    def stream(self, **options) -> Iterator[tuple[int, str]]:
        """Yield (text index, piece) as tokens are produced (same options as `generate`)."""
        return self.generator.stream(**options)

    def trace(self, n: int = 1, top_k: int = 5, **options) -> list[Trace]:
        """Like `generate`, returning per text every step's window, attention and top-k candidates."""
        return self.generator.trace(n=n, top_k=top_k, **options)

    def windows(self, texts: Sequence[str]) -> np.ndarray:
        """The window the generator would use after `<s>` + each text."""
        tokens = [[META_TOKEN, *self.vocab.tokenize(t)] for t in texts]
        return self.vocab.windows(tokens, self.config.max_length)

    def probs(self, windows: np.ndarray) -> np.ndarray:
        """Next-token probabilities float32 [B, num_classes] for int32 windows [B, max_length]."""
        return self.adapter.probs(self.check_windows(windows))

    def attention(self, windows: np.ndarray) -> np.ndarray:
        """Attention weights float32 [B, max_length] over each window's positions."""
        return self.adapter.attention(self.check_windows(windows))

    def check_windows(self, windows: np.ndarray) -> np.ndarray:
        windows = np.asarray(windows)
        length, classes = self.config.max_length, self.vocab.num_classes
        if windows.ndim != 2 or windows.shape[1] != length or not np.issubdtype(windows.dtype, np.integer):
            raise UserError(
                f"windows must be integers of shape [batch, {length}], got {windows.dtype} {list(windows.shape)}"
            )
        if windows.size and (windows.min() < 0 or windows.max() >= classes):
            raise UserError(f"window indices must be from 0 to {classes - 1} (the vocabulary size)")
        return windows.astype(np.int32, copy=False)


def load_bundle(
    path: str | Path, model_file: str = ONNX, threads: int | None = None, fast: bool = True
) -> BundleRuntime:
    """Open and verify a bundle (checksums, format version, ONNX shapes against config and vocab).
    `fast=False` runs every window in full even where the bundle has the padding fast path."""
    return BundleRuntime(path, model_file, threads, fast)


def check_shapes(shapes: dict[str, list], max_length: int, num_classes: int, model_file: str) -> None:
    """The ONNX graph must take [batch, max_length] windows and give [batch, num_classes] probabilities."""
    want = {INPUT: max_length, PROBS: num_classes, ATTENTION: max_length}
    for name, size in want.items():
        shape = shapes.get(name)
        if shape is None:
            raise UserError(
                f"bundle {model_file} has no '{name}' input/output (has {sorted(shapes)}); re-export the bundle"
            )
        if len(shape) != 2 or shape[1] != size:
            source = VOCAB if name == PROBS else f"{CONFIG} (max_length)"
            raise UserError(
                f"bundle {model_file} '{name}' has shape {shape} but {source} gives [batch, {size}]; "
                "the files come from different models, re-export the bundle"
            )


def check_tail_shapes(shapes: dict[str, list], max_length: int, num_classes: int) -> None:
    """model_tail.onnx must take [batch, k] tails and give what model.onnx gives."""
    tail = shapes.get(TAIL)
    if tail is None or len(tail) != 2:
        raise UserError(f"bundle {ONNX_TAIL} has no '{TAIL}' [batch, k] input; re-export the bundle")
    check_shapes({**shapes, INPUT: [tail[0], max_length]}, max_length, num_classes, ONNX_TAIL)
