"""Training throughput: our input pipeline vs a textgenrnn-style per-sample Python generator, one run.

    .venv/bin/python benchmarks/training_throughput.py [--steps 40] [--epochs 3]

Both feed the same Keras model (same architecture, same initial weights, same optimiser and learning-rate
schedule, batch 128) with the same training pairs (the Python-docstrings corpus, pretrained vocabulary) for
the same number of steps. The baseline is textgenrnn 2.0's `generate_sequences_from_texts` done per sample in
Python (wrap the text in `<s>`, slice the window, encode and left-pad it, append; stack every 128) with
integer targets instead of its one-hot ones, so the loss is the same; Keras runs it in a background thread
(from_generator + prefetch), as fit_generator's enqueuer did. Ours: `textgen_export.training.tfdata`.

Reported per model: sequences/s end to end (epochs after the first, which includes tracing), the final
epoch's mean training loss of each, and the pipelines alone (batches/s with no model).
Writes benchmarks/results/training_throughput.json and .md. No GPU was lent to this run's task; the figures
are this machine's CPU.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
RESULTS = REPO / "benchmarks" / "results"
BATCH = 128


def textgenrnn_generator(texts, vocab, max_length: int, batch_size: int, seed: int):
    """Per-sample Python, the way textgenrnn 2.0's `generate_sequences_from_texts` built its batches: per pair,
    wrap the text in `<s>`, slice the window, `process_sequence` it (Tokenizer.texts_to_sequences, then
    pad_sequences on that one sample), append; stack every `batch_size`. Two differences, both to keep the
    data identical to ours: integer targets instead of one-hot, and unknown tokens become 0 instead of being
    dropped (Keras 3 has no Tokenizer; its char-level lookup loop is written out)."""
    from textgen_export.keras.backend import keras
    from textgen_export.spec.tokens import META_TOKEN

    word_index = vocab.token_to_index

    def texts_to_sequences(sequences):
        return [[word_index.get(w, 0) for w in seq] for seq in sequences]

    def process_sequence(x):
        return keras.utils.pad_sequences(texts_to_sequences(x), maxlen=max_length)

    indices_list = np.array([(i, j) for i, text in enumerate(texts) for j in range(len(text) + 1)])
    rng = np.random.default_rng(seed)
    while True:
        rng.shuffle(indices_list)
        x_batch, y_batch = [], []
        for row in range(indices_list.shape[0]):
            text_index, end_index = indices_list[row, 0], indices_list[row, 1]
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


class EpochTimes:
    def __init__(self):
        from textgen_export.keras.backend import keras

        class Timer(keras.callbacks.Callback):
            def on_epoch_begin(cb, epoch, logs=None):
                cb.start = time.perf_counter()

            def on_epoch_end(cb, epoch, logs=None):
                self.seconds.append(time.perf_counter() - cb.start)

        self.seconds: list[float] = []
        self.callback = Timer()


def fit(model_factory, data, steps: int, epochs: int) -> dict:
    from textgen_export.training import schedule

    model = model_factory()
    timer = EpochTimes()
    history = model.fit(
        data,
        steps_per_epoch=steps,
        epochs=epochs,
        verbose=0,
        callbacks=[schedule.scheduler(epochs), timer.callback],
    )
    measured = sum(timer.seconds[1:])
    return {
        "epoch_seconds": [round(s, 3) for s in timer.seconds],
        "sequences_per_second": round((epochs - 1) * steps * BATCH / measured, 1),
        "loss": [round(float(v), 4) for v in history.history["loss"]],
        "final_loss": round(float(history.history["loss"][-1]), 4),
    }


def pipeline_only(iterator, batches: int) -> float:
    next(iterator)
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return round(batches / (time.perf_counter() - start), 1)


def check_same_pairs(texts, vocab, max_length: int) -> None:
    """Both pipelines must produce exactly the same training pairs (one full pass as one batch)."""
    from textgen_export.training.corpus import build_corpus
    from textgen_export.training.tfdata import WindowSource

    corpus = build_corpus(texts, vocab, max_length, False)
    x, y = next(textgenrnn_generator(texts, vocab, max_length, corpus.num_pairs, 0))
    ours_x, ours_y = WindowSource(corpus).pairs(corpus.positions)
    theirs = sorted(zip(map(tuple, x.tolist()), y.tolist(), strict=True))
    ours = sorted(zip(map(tuple, ours_x.tolist()), ours_y.tolist(), strict=True))
    assert theirs == ours, "the two pipelines disagree on the training pairs"


def run_model(name, config, texts, vocab, initial_weights, steps, epochs) -> dict:
    from textgen_export.keras.backend import keras
    from textgen_export.keras.network import build_model
    from textgen_export.training import schedule
    from textgen_export.training.corpus import build_corpus
    from textgen_export.training.tfdata import WindowSource, dataset

    def model_factory():
        model = build_model(config, vocab.num_classes)
        model.set_weights(initial_weights)
        model.compile(optimizer=schedule.optimizer(), loss=keras.losses.SparseCategoricalCrossentropy())
        return model

    check_same_pairs(texts[:50], vocab, config.max_length)
    corpus = build_corpus(texts, vocab, config.max_length, False)
    source = WindowSource(corpus)
    ours = dataset(source, corpus.positions, BATCH, shuffle=True, seed=0, repeat=True)
    baseline = textgenrnn_generator(texts, vocab, config.max_length, BATCH, seed=0)
    result = {
        "config": config.to_dict(),
        "training_pairs": corpus.num_pairs,
        "pipeline_only_batches_per_second": {
            "ours": pipeline_only(iter(ours), 300),
            "textgenrnn_generator": pipeline_only(
                textgenrnn_generator(texts, vocab, config.max_length, BATCH, 1), 300
            ),
        },
    }
    print(f"[{name}] pipelines alone: {result['pipeline_only_batches_per_second']}", flush=True)
    result["baseline"] = fit(model_factory, baseline, steps, epochs)
    print(f"[{name}] textgenrnn-style generator: {result['baseline']}", flush=True)
    result["ours"] = fit(model_factory, ours, steps, epochs)
    print(f"[{name}] ours: {result['ours']}", flush=True)
    result["speedup"] = round(
        result["ours"]["sequences_per_second"] / result["baseline"]["sequences_per_second"], 2
    )
    result["loss_difference"] = round(result["ours"]["final_loss"] - result["baseline"]["final_loss"], 4)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40, help="steps per epoch (default 40)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs; the first is not timed (default 3)")
    parser.add_argument("--markdown-only", action="store_true", help="re-render the .md from the last .json")
    args = parser.parse_args()
    if args.markdown_only:
        report = json.loads((RESULTS / "training_throughput.json").read_text())
        (RESULTS / "training_throughput.md").write_text(markdown(report))
        return 0

    from textgen_export.api.textgen import TextGen
    from textgen_export.datasets.python_docstrings import harvest
    from textgen_export.keras.backend import keras, tf
    from textgen_export.keras.network import build_model
    from textgen_export.spec.config import ModelConfig

    texts = harvest()
    pretrained = TextGen.pretrained()
    keras.utils.set_random_seed(0)
    small = ModelConfig(rnn_size=32, dim_embeddings=32)
    tiny = ModelConfig(rnn_size=16, dim_embeddings=16, max_length=20)
    models = {
        "pretrained 2x128, max_length 40 (fine-tune)": (pretrained.config, pretrained.model.get_weights()),
        "small 2x32, max_length 40 (new)": (
            small,
            build_model(small, pretrained.vocab.num_classes).get_weights(),
        ),
        "tiny 2x16, max_length 20 (new)": (
            tiny,
            build_model(tiny, pretrained.vocab.num_classes).get_weights(),
        ),
    }
    results = {}
    for name, (config, weights) in models.items():
        results[name] = run_model(name, config, texts, pretrained.vocab, weights, args.steps, args.epochs)
    command = (
        f".venv/bin/python benchmarks/training_throughput.py --steps {args.steps} --epochs {args.epochs}"
    )
    report = {
        "what": "training sequences/s: tf.data pipeline (ours) vs textgenrnn-style per-sample Python generator",
        "command": command,
        "date": datetime.date.today().isoformat(),
        "machine": {
            "processor": platform.processor() or platform.machine(),
            "cores": __import__("os").cpu_count(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
        },
        "batch_size": BATCH,
        "corpus": f"Python-docstrings corpus, {len(texts)} lines",
        "targets": {"speedup": 2.0, "loss_difference": 0.05},
        "models": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "training_throughput.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "training_throughput.md").write_text(markdown(report))
    print(markdown(report))
    return 0


def markdown(report: dict) -> str:
    lines = [
        "# Training throughput: our pipeline vs a textgenrnn-style per-sample generator",
        "",
        f"`{report['command']}` ({report['date']}, {report['machine']['cores']} CPU cores, "
        f"TensorFlow {report['machine']['tensorflow']}, GPUs: {report['machine']['gpus'] or 'none'}), "
        f"batch {report['batch_size']}, {report['corpus']}.",
        "",
        "| model | textgenrnn-style seq/s | ours seq/s | speed-up | final loss (baseline / ours) | "
        "pipeline alone, batches/s (baseline / ours) |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in report["models"].items():
        alone = r["pipeline_only_batches_per_second"]
        lines.append(
            f"| {name} | {r['baseline']['sequences_per_second']:,} | {r['ours']['sequences_per_second']:,} | "
            f"**{r['speedup']}×** | {r['baseline']['final_loss']} / {r['ours']['final_loss']} "
            f"(Δ {r['loss_difference']:+}) | {alone['textgenrnn_generator']:,} / {alone['ours']:,} |"
        )
    lines += [
        "",
        "Both pipelines were checked to produce exactly the same training pairs before timing; seq/s counts the",
        "epochs after the first (which traces the graph); the final loss is the last epoch's mean training loss.",
        "",
        "**Reading it.** On this CPU the LSTM step, not the input, is the bottleneck at every model size tried:",
        "the per-sample generator alone makes 1.3k batches/s, far more than even the tiny model consumes, and",
        "Keras runs it in a background thread. So end to end the two are within about 10 % and the issue's 2×",
        "target is **not met on CPU**; the input pipeline by itself is about 3× faster. The losses agree within",
        "the ±0.05 target. What the per-sample design costs is the Python work per pair (it competes with the",
        "training thread for the GIL and grows with faster accelerators) and memory: its index list holds two",
        "int64 per pair (16 bytes/token) where ours holds one uint32 (plus 2 bytes of token id), see",
        "training_memory.md. No GPU was lent to this task, so there are no GPU figures.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
