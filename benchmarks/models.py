"""The models a benchmark measures and the bundles (one per exported format) made from them.

--quick uses a tiny char-level model (built here, weights from a fixed seed) so that every runtime can run
in seconds; the full run uses the pretrained textgenrnn model and a trained word-level model.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from textgen_export.contract.config import ModelConfig
from textgen_export.contract.tokens import META_TOKEN
from textgen_export.contract.vocabulary import Vocabulary
from textgen_export.files.atomic import atomic_directory, write_text
from textgen_export.keras import pretrained
from textgen_export.keras.model_dir import load_source, save_model_dir

# Words of our own to build text from (no third-party text): the quick model's vocabulary and fallback corpus.
WORDS = (
    "the a small model writes one more line of text and then stops when it reaches the end marker "
    "runtimes differ in speed but must agree on every token they produce from the same window"
).split()


def own_text(lines: int, seed: int = 0) -> list[str]:
    """Deterministic sentences over WORDS (for the tiny model's vocabulary)."""
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=int(rng.integers(4, 12)))) + "." for _ in range(lines)]


@dataclass
class BenchModel:
    """A model to benchmark: where it lives on disk, its config and vocabulary, and its bundles by format."""

    name: str
    model_dir: Path | None  # None: the pretrained default (load_source() with no arguments)
    config: ModelConfig
    vocab: Vocabulary
    prefix: str
    bundles: dict[str, Path] = field(default_factory=dict)  # format -> bundle folder
    files: dict[str, Path] = field(default_factory=dict)  # format -> model file (model.onnx, tfjs/model.json)
    sizes: dict[str, int | None] = field(default_factory=dict)  # format -> bytes on disk
    unavailable: dict[str, str] = field(default_factory=dict)  # format -> why it could not be exported
    origin: str = ""  # where the weights come from (shown in the report)

    @property
    def num_classes(self) -> int:
        return self.vocab.num_classes

    def load_keras(self):
        model, _, _ = load_source(self.model_dir) if self.model_dir else load_source()
        return model


def tiny_model(folder: Path) -> BenchModel:
    """A 2-layer, 16-unit char model over WORDS with seeded weights, saved as a model directory.

    The output layer is scaled so its distributions are peaked: greedy text then has clear winners and
    runtimes that compute the same function must produce the same text.
    """
    from textgen_export.keras.backend import keras
    from textgen_export.keras.network import build_model

    config = ModelConfig(rnn_layers=2, rnn_size=16, max_length=10, dim_embeddings=8, name="tiny")
    vocab = Vocabulary.from_texts(own_text(50), config.max_words, word_level=False)
    keras.utils.set_random_seed(1234)
    model = build_model(config, vocab.num_classes)
    dense = model.get_layer("output")
    kernel, bias = dense.get_weights()
    dense.set_weights([kernel * 8.0, bias])
    save_model_dir(folder, model, vocab, config)
    return BenchModel(
        "tiny-char", folder, config, vocab, prefix="the ", origin="seeded random weights (quick mode)"
    )


def pretrained_model() -> BenchModel:
    paths = pretrained.paths()
    config = ModelConfig.load(paths["config"])
    vocab = Vocabulary.load(paths["vocab"])
    return BenchModel(
        "textgenrnn-pretrained",
        None,
        config,
        vocab,
        prefix="Why I",
        origin="textgenrnn 2.0.0's Reddit-trained weights",
    )


def load_model_dir(name: str, folder: Path, prefix: str) -> BenchModel:
    config = ModelConfig.load(folder / "config.json")
    vocab = Vocabulary.load(folder / "vocab.json", word_level=config.word_level)
    source = folder / "bench-source.json"
    origin = json.loads(source.read_text()) if source.is_file() else {}
    text = (
        f"trained here on {origin['texts']} texts ({origin['corpus']}), {origin['epochs']} epochs"
        if origin
        else str(folder)
    )
    return BenchModel(name, folder, config, vocab, prefix=prefix, origin=text)


# Formats: the bundle they live in, the export options that make it, and the model file inside.
FORMATS = {
    "onnx-fp32": ("main", "model.onnx"),
    "onnx-int8": ("main", "model.int8.onnx"),
    "tfjs-float32": ("main", "tfjs/model.json"),
    "tfjs-float16": ("tfjs-float16", "tfjs/model.json"),
    "tfjs-uint8": ("tfjs-uint8", "tfjs/model.json"),
}


def tfjs_export_missing() -> str | None:
    try:
        from textgen_export.export import tfjs  # noqa: F401  (importable: the TF.js exporter)
    except ImportError as exc:
        return f"TF.js exporter not importable ({exc})"
    return None


def folder_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def export_bundles(bench: BenchModel, root: Path, log: Callable[[str], None] = print) -> None:
    """Export `bench` to every format (fp32+int8 ONNX and float32 TF.js in one bundle, quantised TF.js apart).

    A format that cannot be exported here is recorded in `bench.unavailable` with the reason, not raised.
    """
    from textgen_export.export.writer import export_bundle

    model = bench.load_keras()
    quiet = lambda message: None  # noqa: E731
    tfjs_missing = tfjs_export_missing()
    jobs = {"main": dict(onnx=True, tfjs=tfjs_missing is None, quantize="int8")}
    if tfjs_missing is None:
        jobs["tfjs-float16"] = dict(onnx=False, tfjs=True, quantize="float16")
        jobs["tfjs-uint8"] = dict(onnx=False, tfjs=True, quantize="uint8")
    failed: dict[str, str] = {}
    for job, options in jobs.items():
        folder = root / f"{bench.name}-{job}"
        try:
            export_bundle(model, bench.vocab, bench.config, folder, log=quiet, **options)
            bench.bundles[job] = folder
        except Exception as exc:  # an exporter bug must cost its rows, not the whole benchmark
            failed[job] = (
                f"export failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
            )
            log(f"  {bench.name}: {job} {failed[job]}")
    for fmt, (job, file) in FORMATS.items():
        path = bench.bundles[job] / file if job in bench.bundles else None
        if path is not None and path.exists():
            bench.files[fmt] = path
            bench.sizes[fmt] = folder_size(path.parent if fmt.startswith("tfjs") else path)
        else:
            bench.sizes[fmt] = None
            if fmt.startswith("tfjs") and tfjs_missing:
                bench.unavailable[fmt] = tfjs_missing
            else:
                bench.unavailable[fmt] = failed.get(job, f"{file} not written by the exporter")


def cli(*args: str, timeout: int = 900) -> None:
    subprocess.run(
        [sys.executable, "-m", "textgen_export", *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


WORD_CONFIG = ModelConfig(max_length=10, word_level=True, max_words=5000, name="bench_word")
WORD_TEXTS = 6000  # docstring lines: enough for a few thousand words, trains in about a minute on 2 cores
WORD_PREFIX = "return the"
MAX_PAIRS = 60_000  # the fallback fit stays around a minute on 2 cores


def word_model(cache: Path, epochs: int = 3, log: Callable[[str], None] = print) -> BenchModel:
    """A word-level model (2×128 LSTM, max_length 10) trained once and cached in `cache`.

    With the project's own `dataset python-docstrings` + `train --new-model --word-level` commands (the
    corpus is harvested from the installed Python at run time, never committed); if those fail, a short Keras
    fit on texts the pretrained model writes now.
    """

    folder = cache / "word-model"
    info = folder / "bench-source.json"
    if (folder / "weights.hdf5").is_file() and info.is_file():
        return load_model_dir("word-level", folder, prefix=WORD_PREFIX)
    corpus = cache / "python-docstrings.txt"
    c = WORD_CONFIG
    try:
        log(
            f"  training the word-level bench model on python-docstrings ({epochs} epochs, cached in {cache})"
        )
        cli("dataset", "python-docstrings", "--out", str(corpus), "--limit", str(WORD_TEXTS))
        cli(
            "train", str(corpus), "--new-model", "--word-level", "--max-length", str(c.max_length),
            "--max-words", str(c.max_words), "--epochs", str(epochs), "--seed", "0", "--train-size", "0.9",
            "--out", str(folder),
        )  # fmt: skip
        texts = sum(1 for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip())
        source = {"corpus": "python-docstrings (`textgen-export dataset`)", "texts": texts, "epochs": epochs}
        write_text(info, json.dumps(source) + "\n")
    except Exception as exc:  # the training commands failed: fall back to text generated here
        detail = getattr(exc, "stderr", "") or str(exc)
        log(
            f"  train command failed ({detail.strip().splitlines()[-1][:160] if detail.strip() else exc}); fallback"
        )
        texts = generated_texts()
        source = {"corpus": "texts the pretrained model wrote (temperature 1.0, seed 0)", "texts": len(texts)}
        train_briefly(texts, c, folder, epochs, log, {**source, "epochs": epochs})
    return load_model_dir("word-level", folder, prefix=WORD_PREFIX)


def generated_texts(n: int = 1500, seed: int = 0) -> list[str]:
    """Reddit-title-like texts the pretrained char model writes now (seeded)."""
    from textgen_export.api.textgen import TextGen

    return [
        t for t in TextGen.pretrained().generate(n=n, temperature=1.0, max_gen_length=200, seed=seed) if t
    ]


def train_briefly(
    texts: list[str], config: ModelConfig, folder: Path, epochs: int, log, source: dict
) -> None:
    """Plain Keras fit on next-token pairs (docs/design.md §3 training pairs); enough to make the weights real."""
    from textgen_export.keras.backend import keras
    from textgen_export.keras.network import build_model

    vocab = Vocabulary.from_texts(texts, config.max_words, word_level=True)
    windows, targets = [], []
    for text in texts:
        tokens = [META_TOKEN, *vocab.tokenize(text), META_TOKEN]
        ids = vocab.encode(tokens)
        for j in range(1, len(tokens)):
            if ids[j]:
                windows.append(tokens[max(0, j - config.max_length) : j])
                targets.append(ids[j])
        if len(targets) >= MAX_PAIRS:
            break
    x = vocab.windows(windows, config.max_length)
    y = np.asarray(targets, dtype=np.int32)
    keras.utils.set_random_seed(0)
    model = build_model(config, vocab.num_classes)
    model.compile(optimizer=keras.optimizers.Adam(4e-3), loss="sparse_categorical_crossentropy")
    log(
        f"  training the word-level bench model: {len(y):,} pairs, {vocab.num_classes} classes, {epochs} epochs"
    )
    model.fit(x, y, batch_size=128, epochs=epochs, verbose=0)
    with atomic_directory(folder) as tmp:
        save_model_dir(tmp, model, vocab, config)
        write_text(tmp / "bench-source.json", json.dumps(source) + "\n")
