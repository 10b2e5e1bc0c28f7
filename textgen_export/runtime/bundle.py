"""BundleRuntime: a verified bundle + an ONNX Runtime session + the shared generation loop."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from ..contract.bundle import (
    ATTENTION,
    CONFIG,
    CONTEXT,
    INPUT,
    LABELS,
    ONNX,
    ONNX_CONTEXT,
    ONNX_TAIL,
    PROBS,
    TAIL,
    VOCAB,
    Bundle,
)
from ..contract.labels import ContextLabels
from ..contract.tokens import META_TOKEN
from ..errors import UserError
from ..sampling.generator import Generator
from ..sampling.trace import Trace
from .onnx import OnnxRuntime
from .onnx_external import check_no_external_data


def verified_model(bundle: Bundle, model_file: str) -> Path:
    """A listed, inside, regular, checksum-verified ONNX file holding its tensors in itself."""
    path = bundle.path(model_file)
    check_no_external_data(path.read_bytes(), model_file)
    return path


def open_model(
    bundle: Bundle, model_file: str, threads: int | None = None, tail: str | None = None
) -> OnnxRuntime:
    """An ONNX Runtime adapter on a verified bundle model, its shapes checked against config and vocab; with
    `tail` (model_tail.onnx) calls whose windows share leading padding take the padding fast path."""
    adapter = OnnxRuntime(
        verified_model(bundle, model_file), threads, tail=verified_model(bundle, tail) if tail else None
    )
    check_shapes(adapter.io_shapes(), bundle.config.max_length, bundle.vocab.num_classes, model_file)
    if tail:
        check_tail_shapes(adapter.tail_io_shapes(), bundle.config.max_length, bundle.vocab.num_classes)
    return adapter


class BundleRuntime:
    """Generate text from an exported bundle with the same options and seeded output as the Keras path; a
    bundle with a context head (labels.json, model.context.onnx) also generates for its labels (`context=`)."""

    def __init__(
        self, folder: str | Path, model_file: str = ONNX, threads: int | None = None, fast: bool = True
    ):
        """`fast`: use the padding fast path (model_tail.onnx) where the bundle has one for `model_file`."""
        self.bundle = Bundle(folder)
        self.config = self.bundle.config
        self.vocab = self.bundle.vocab
        use_tail = (
            fast
            and model_file == ONNX
            and ONNX_TAIL in self.bundle.files
            and not self.config.rnn_bidirectional
        )
        self.adapter = open_model(self.bundle, model_file, threads, ONNX_TAIL if use_tail else None)
        files = self.bundle.files
        self.labels = ContextLabels.load(self.bundle.path(LABELS)) if LABELS in files else None
        self._threads, self._head = threads, None
        has_head = self.labels is not None and ONNX_CONTEXT in files
        self.generator = Generator(
            _TextOrHead(self), self.vocab, self.config, self.labels if has_head else None
        )

    def head(self) -> OnnxRuntime:
        """The context head's adapter (model.context.onnx), opened on first use."""
        if self._head is None:
            self._head = open_model(self.bundle, ONNX_CONTEXT, self._threads)
            width = self._head.io_shapes().get(CONTEXT, [None, None])[-1]
            if width != len(self.labels):
                raise UserError(
                    f"bundle {ONNX_CONTEXT} takes {width} labels but {LABELS} lists {len(self.labels)}; "
                    "re-export the bundle"
                )
        return self._head

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
        context: str | Sequence[str] | None = None,
    ) -> list[str]:
        """`n` texts generated as one batch; with `seed`, text i equals the Keras path's for seed + i.
        `context`: a label of the bundle's context head (or several) to generate for."""
        return self.generator.generate(
            n=n,
            temperature=temperature,
            prefix=prefix,
            max_gen_length=max_gen_length,
            seed=seed,
            context=context,
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


class _TextOrHead:
    """The generator's adapter: the text path (model.onnx), or the context head when given label vectors."""

    def __init__(self, runtime: BundleRuntime):
        self.runtime = runtime

    def probs(self, windows: np.ndarray, context: np.ndarray | None = None) -> np.ndarray:
        if context is None:
            return self.runtime.adapter.probs(windows)
        return self.runtime.head().probs(windows, context)

    def outputs(
        self, windows: np.ndarray, context: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        if context is None:
            return self.runtime.adapter.outputs(windows)
        return self.runtime.head().outputs(windows, context)
