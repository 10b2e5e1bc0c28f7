"""The training-throughput scenario: our input pipeline vs a textgenrnn-style per-sample Python generator.

Both feed the same Keras model (same architecture, initial weights, optimiser and learning-rate schedule, batch
128) with the same training pairs (checked before timing) for the same number of steps, on the CPU and — when
TensorFlow sees one — on the GPU (cuDNN LSTM), where a per-sample Python generator is most likely to starve
the model. The baseline is textgenrnn 2.0's `generate_sequences_from_texts` done per sample in Python with
integer targets (so the loss is the same), run by Keras in a background thread as fit_generator's enqueuer did.
Rows: windows/s of each epoch after the first (which traces), the pipelines alone (batches/s, no model);
the final losses are in the JSON.

Beside them, on the same machine in the same run: TF.js in Node training the same model from the same weights
at the same batch size, through the JS trainer's own command (`node web_demo/src/train.mjs`, the wasm
backend) on the same texts written one per line (a text's newlines become spaces). TF.js trains far slower, so
it runs `NODE_STEPS` steps per epoch (its first epoch untimed as well); the Chromium figures are the page's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import rows
from .gpu import training_devices

BATCH = 128
BASELINE = "textgenrnn-style generator"
OURS = "textgen-export tf.data"
NODE = "TF.js (Node, wasm): web_demo/src/train.mjs"
NODE_EPOCHS = 3  # the first is not timed


def node_steps(settings: Settings) -> int:
    return max(2, settings.steps // 8)


@dataclass(frozen=True)
class Settings:
    steps: int = 40
    epochs: int = 5  # the first is not timed (tracing); the others give the spread

    @classmethod
    def quick(cls) -> Settings:
        return cls(steps=4, epochs=3)


def textgenrnn_generator(texts, vocab, max_length: int, batch_size: int, seed: int):
    """Per-sample Python, the way textgenrnn 2.0's `generate_sequences_from_texts` built its batches: per pair,
    wrap the text in `<s>`, slice the window, pad that one sample, append; stack every `batch_size`. Two
    differences keep the data identical to ours: integer targets instead of one-hot, and unknown tokens become
    0 instead of being dropped (Keras 3 has no Tokenizer; its char-level lookup loop is written out)."""
    from textgen_export.contract.tokens import META_TOKEN
    from textgen_export.keras.backend import keras

    word_index = vocab.token_to_index

    def process_sequence(x):
        return keras.utils.pad_sequences(
            [[word_index.get(w, 0) for w in seq] for seq in x], maxlen=max_length
        )

    indices_list = np.array([(i, j) for i, text in enumerate(texts) for j in range(len(text) + 1)])
    rng = np.random.default_rng(seed)
    while True:
        rng.shuffle(indices_list)
        x_batch, y_batch = [], []
        for text_index, end_index in indices_list:
            text = [META_TOKEN, *texts[text_index], META_TOKEN]
            x = (
                text[end_index - max_length : end_index + 1]
                if end_index > max_length
                else text[: end_index + 1]
            )
            y = text[end_index + 1]
            if y in word_index:
                x_batch.append(process_sequence([x]))
                y_batch.append(word_index[y])
                if len(x_batch) == batch_size:
                    yield (
                        np.squeeze(np.array(x_batch), axis=1).astype(np.int32),
                        np.array(y_batch, dtype=np.int32),
                    )
                    x_batch, y_batch = [], []


def check_same_pairs(texts, vocab, max_length: int) -> None:
    """Both pipelines must produce exactly the same training pairs (one full pass as one batch)."""
    from textgen_export.training.corpus import build_corpus
    from textgen_export.training.tfdata import WindowSource

    corpus = build_corpus(texts, vocab, max_length, False)
    x, y = next(textgenrnn_generator(texts, vocab, max_length, corpus.num_pairs, 0))
    ours_x, ours_y = WindowSource(corpus).pairs(corpus.positions)
    theirs = sorted(zip(map(tuple, x.tolist()), y.tolist(), strict=True))
    ours = sorted(zip(map(tuple, ours_x.tolist()), ours_y.tolist(), strict=True))
    if theirs != ours:
        raise AssertionError("the two pipelines disagree on the training pairs")


def fit(model_factory, data, settings: Settings, device: str) -> dict:
    """Train under `device`; windows/s of every epoch after the first, and the losses."""
    from textgen_export.keras.backend import keras, tf
    from textgen_export.training import schedule

    seconds: list[float] = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.start)

    with tf.device(device):
        model = model_factory()
        history = model.fit(
            data,
            steps_per_epoch=settings.steps,
            epochs=settings.epochs,
            verbose=0,
            callbacks=[schedule.scheduler(settings.epochs), Timer()],
        )
    return {
        "windows_per_s": [settings.steps * BATCH / s for s in seconds[1:]],
        "epoch_seconds": seconds,
        "loss": [float(v) for v in history.history["loss"]],
    }


def node_fit(config, weights, vocab, texts, settings: Settings, build) -> dict:
    """Train the same model (same weights) with the JS trainer's CLI; windows/s of every epoch after the first."""
    from textgen_export.contract.bundle import write_manifest
    from textgen_export.export.tfjs import write_tfjs
    from textgen_export.web.page import web_demo_dir

    node = shutil.which("node")
    web_demo = web_demo_dir()
    if node is None or not (web_demo / "node_modules" / "@tensorflow" / "tfjs").is_dir():
        return {"missing": "node or web_demo/node_modules is missing (make node-deps)"}
    steps = node_steps(settings)
    with tempfile.TemporaryDirectory(prefix="tgx-node-train-") as tmp:
        bundle = Path(tmp) / "bundle"
        model = build()
        model.set_weights(weights)
        write_tfjs(model, config, bundle / "tfjs")
        (bundle / "config.json").write_text(json.dumps(config.to_dict()), encoding="utf-8")
        (bundle / "vocab.json").write_text(vocab.to_json(), encoding="utf-8")
        write_manifest(bundle, config, vocab.num_classes, {})
        corpus = Path(tmp) / "corpus.txt"
        corpus.write_text("\n".join(" ".join(t.split("\n")) for t in texts) + "\n", encoding="utf-8")
        command = [node, str(web_demo / "src" / "train.mjs"), str(bundle), str(corpus), "--steps", str(steps)]
        command += ["--epochs", str(NODE_EPOCHS), "--batch-size", str(BATCH), "--seed", "0"]
        done = subprocess.run(
            [*command, "--out", str(Path(tmp) / "out")], capture_output=True, text=True, timeout=3600
        )
        if done.returncode != 0:
            raise RuntimeError(f"node train.mjs failed: {done.stderr.strip()[-500:]}")
        training = json.loads((Path(tmp) / "out" / "manifest.json").read_text(encoding="utf-8"))["training"]
    history = training["history"]
    return {
        "windows_per_s": [h["windows"] / h["seconds"] for h in history[1:]],
        "epoch_seconds": [h["seconds"] for h in history],
        "loss": [h["loss"] for h in history],
        "steps_per_epoch": steps,
        "epochs": NODE_EPOCHS,
        "command": "node web_demo/src/train.mjs BUNDLE CORPUS " + " ".join(command[4:]) + " --out DIR",
    }


def pipeline_only(iterator, batches: int) -> float:
    next(iterator)
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return batches / (time.perf_counter() - start)


def bench_models(quick: bool) -> tuple[list[str], object, dict]:
    """Texts, a vocabulary, and {name: (config, initial weights)}."""
    from textgen_export.contract.config import ModelConfig
    from textgen_export.contract.vocabulary import Vocabulary
    from textgen_export.keras.backend import keras
    from textgen_export.keras.network import build_model

    from .models import own_text

    keras.utils.set_random_seed(0)
    if quick:
        texts = own_text(200)
        vocab = Vocabulary.from_texts(texts, 10000, word_level=False)
        tiny = ModelConfig(rnn_size=16, dim_embeddings=16, max_length=20)
        return (
            texts,
            vocab,
            {"tiny 2x16, max_length 20": (tiny, build_model(tiny, vocab.num_classes).get_weights())},
        )
    from textgen_export.api.textgen import TextGen
    from textgen_export.datasets.python_docstrings import harvest

    texts = harvest()
    pretrained = TextGen.pretrained()
    vocab = pretrained.vocab
    small = ModelConfig(rnn_size=32, dim_embeddings=32)
    tiny = ModelConfig(rnn_size=16, dim_embeddings=16, max_length=20)
    return (
        texts,
        vocab,
        {
            "pretrained 2x128, max_length 40": (pretrained.config, pretrained.model.get_weights()),
            "small 2x32, max_length 40": (small, build_model(small, vocab.num_classes).get_weights()),
            "tiny 2x16, max_length 20": (tiny, build_model(tiny, vocab.num_classes).get_weights()),
        },
    )


def run_model(
    name, config, weights, texts, vocab, settings: Settings, devices, log
) -> tuple[list[dict], dict]:
    from textgen_export.keras.backend import keras
    from textgen_export.keras.network import build_model
    from textgen_export.training import schedule
    from textgen_export.training.corpus import build_corpus
    from textgen_export.training.tfdata import WindowSource, dataset

    def build():
        return build_model(config, vocab.num_classes)

    def model_factory():
        model = build()
        model.set_weights(weights)
        model.compile(optimizer=schedule.optimizer(), loss=keras.losses.SparseCategoricalCrossentropy())
        return model

    check_same_pairs(texts[:50], vocab, config.max_length)
    corpus = build_corpus(texts, vocab, config.max_length, False)
    source = WindowSource(corpus)

    def ours():
        return dataset(source, corpus.positions, BATCH, shuffle=True, seed=0, repeat=True)

    def baseline():
        return textgenrnn_generator(texts, vocab, config.max_length, BATCH, seed=0)

    batches = 10 * settings.steps
    found = [
        rows.row(name, OURS, "pipeline only", "batches/s", [pipeline_only(iter(ours()), batches)]),
        rows.row(name, BASELINE, "pipeline only", "batches/s", [pipeline_only(baseline(), batches)]),
    ]
    details = {"config": config.to_dict(), "training_pairs": corpus.num_pairs, "fits": {}}
    for label, device, reason in devices:
        test = f"train B={BATCH} on {label}"
        if reason:
            found += [
                rows.missing(name, who, test, "windows/s", "unavailable", reason) for who in (BASELINE, OURS)
            ]
            continue
        for who, data in ((BASELINE, baseline), (OURS, ours)):
            log(f"  {name} · {who} · {label}")
            result = fit(model_factory, data(), settings, device)
            details["fits"][f"{who} · {label}"] = result
            found.append(
                rows.row(name, who, test, "windows/s", result["windows_per_s"], final_loss=result["loss"][-1])
            )
    test = f"train B={BATCH} on cpu"  # (TF.js in Node has no GPU backend here)
    log(f"  {name} · {NODE} · cpu")
    result = node_fit(config, weights, vocab, texts, settings, build)
    details["fits"][f"{NODE} · cpu"] = result
    if "missing" in result:
        found.append(rows.missing(name, NODE, test, "windows/s", "unavailable", result["missing"]))
    else:
        found.append(
            rows.row(name, NODE, test, "windows/s", result["windows_per_s"], final_loss=result["loss"][-1])
        )
    return found, details


def run(
    quick: bool, log: Callable[[str], None] = print, settings: Settings | None = None, devices=None
) -> dict:
    from .gpu import detect

    settings = settings or (Settings.quick() if quick else Settings())
    devices = training_devices(devices or detect())
    texts, vocab, models = bench_models(quick)
    all_rows, details = [], {}
    for name, (config, weights) in models.items():
        found, details[name] = run_model(name, config, weights, texts, vocab, settings, devices, log)
        all_rows += found
    rows.add_baseline(all_rows, BASELINE)
    return {
        "what": "training windows/s: our tf.data pipeline vs a textgenrnn-style per-sample generator",
        "settings": {"steps": settings.steps, "epochs": settings.epochs, "batch": BATCH},
        "corpus": f"{len(texts)} texts",
        "models": details,
        "rows": all_rows,
    }
