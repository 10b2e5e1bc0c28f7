"""The JS trainer (web_demo/src/training/, `node web_demo/src/train.mjs`) against Python's `train`.

Data: for the same file, vocabulary, config, train_size and seed, Node's token array, target positions, train
/ validation split and windows equal Python's element for element (char and word level, line and largetext
mode, unknown characters, CRLF, blank lines, a header, negative and 64-bit seeds).

Training: from the pretrained weights (Python's default start; Node's from their exported bundle), with the same
file, steps, batch size, train_size and seed, Node's held-out loss before and after training is Python's up to
float32 rounding.  The tolerance follows the project's rule (docs/design.md §7): the reference is the same run
in float64 (Keras with floatx float64), and Node may differ from it by K = 4 times float32 Keras's own error,
where that error is measured per held-out pair — max_i |loss32_i − loss64_i|, the float32 run's pair losses
(float32 Keras on its weights) against the float64 run's (the float64 oracle on its weights), before training
and after — since a mean over pairs cannot differ by more than its largest term does.
"""

from __future__ import annotations

import json
import math
import os
import subprocess

import numpy as np
import pytest

from helpers import WEB_DEMO, node_ready, run_cli

pytestmark = [pytest.mark.node, pytest.mark.slow]
TRAIN_MJS = WEB_DEMO / "src" / "train.mjs"


def node_json(*args: str, timeout: float) -> dict:
    """Run `node args…` in web_demo/; it must succeed, and its stdout is one JSON value."""
    done = subprocess.run(
        [node_ready(), *args], cwd=WEB_DEMO, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def node_train(cwd, *args, timeout: float = 600):
    """`node train.mjs args…` run from `cwd`, the script named by its path relative to `cwd` (as a user types it)."""
    return subprocess.run(
        [node_ready(), os.path.relpath(TRAIN_MJS, cwd), *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


CORPUS = (
    "Title line\r\n"
    "The quick brown fox jumps over the lazy dog.\r\n"
    "\n"
    "   \n"
    "Pack my box with five dozen liquor jugs! 🦊 naïve café\n"
    "How vexingly quick daft zebras jump; (sphinx) of black quartz, judge my vow?\n"
    "short\n"
    "Ünïcødé ✓ and a tab\there, a word-level test: don't stop.\n"
)
# the vocabulary leaves out some characters of CORPUS, so unknown targets are skipped and windows hold zeros
VOCAB_TEXTS = ["The quick brown fox jumps over the lazy dog.", "Pack my box with five dozen liquor jugs!"]

CASES = {
    "char": ({"word_level": False, "max_length": 12, "single_text": False}, False, 0.8, "42", 4),
    "char-header": ({"word_level": False, "max_length": 40, "single_text": False}, True, 0.5, "-5", 8),
    "word": ({"word_level": True, "max_length": 6, "single_text": False}, False, 0.7, str(2**64 - 1), 2),
    "largetext": ({"word_level": False, "max_length": 10, "single_text": True}, False, 0.9, "7", 16),
    "no-validation": ({"word_level": False, "max_length": 5, "single_text": False}, False, 1.0, "3", 1),
}


def python_prepared(path, config_dict: dict, header: bool, train_size: float, seed: str, batch_size: int):
    from textgen_export.contract.config import ModelConfig
    from textgen_export.contract.vocabulary import Vocabulary
    from textgen_export.training.options import TrainOptions
    from textgen_export.training.prepare import prepare
    from textgen_export.training.texts import read_largetext, read_texts
    from textgen_export.training.tfdata import WindowSource

    config = ModelConfig(**config_dict)
    vocab = Vocabulary.from_texts(VOCAB_TEXTS, config.max_words, config.word_level, config.single_text)
    texts = [read_largetext(path)] if config.single_text else read_texts(path, header=header)
    options = TrainOptions(train_size=train_size, seed=int(seed), batch_size=batch_size)
    prepared = prepare(texts, vocab, config, options)
    windows, targets = WindowSource(prepared.corpus).pairs(prepared.train)
    return vocab, config, prepared, windows, targets


@pytest.mark.parametrize("case", list(CASES))
def test_node_prepares_the_same_windows_targets_and_split(case, tmp_path):
    config_dict, header, train_size, seed, batch_size = CASES[case]
    path = tmp_path / "corpus.txt"
    path.write_text(CORPUS, encoding="utf-8", newline="")
    vocab, config, prepared, windows, targets = python_prepared(
        path, config_dict, header, train_size, seed, batch_size
    )
    spec = tmp_path / "spec.json"
    spec.write_text(
        json.dumps(
            {
                "vocab": vocab.token_to_index,
                "config": config.to_dict(),
                "file": str(path),
                "header": header,
                "train_size": train_size,
                "seed": seed,
                "batch_size": batch_size,
            }
        ),
        encoding="utf-8",
    )
    node = node_json("test/prepare_twin.mjs", str(spec), timeout=60)
    assert node["ids"] == prepared.corpus.ids.tolist()
    assert node["doc_starts"] == prepared.corpus.doc_starts.tolist()
    assert node["train"] == prepared.train.tolist()
    assert node["validation"] == prepared.validation.tolist()
    assert node["windows"] == windows.reshape(-1).tolist()
    assert node["targets"] == targets.tolist()
    # the case tests what it claims: unknown targets skipped, a split made (or not)
    assert 0 in prepared.corpus.ids[config.max_length :].tolist()
    assert (len(prepared.validation) > 0) == (train_size < 1)
    assert np.all(prepared.corpus.ids[prepared.train] != 0)


# Four lines seen eight times: held-out pairs are windows the training pairs share, so a few steps show the loss
# falling.
LINES = (
    "The river runs past the mill and under the old stone bridge.\n"
    "A small boat waits by the bank while the fisherman mends his net.\n"
    "In the morning the market fills with bread, apples and loud voices.\n"
    "She wrote three letters before noon and posted none of them.\n"
)
RUN = {"steps": 10, "batch_size": 16, "train_size": 0.9, "seed": 5}
K = 4  # docs/design.md §7


def pair_losses(probs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    return -np.log(np.asarray(probs, dtype=np.float64)[np.arange(len(targets)), targets])


def held_out_pairs(textgen, path):
    from textgen_export.training.options import TrainOptions
    from textgen_export.training.prepare import prepare
    from textgen_export.training.texts import read_texts
    from textgen_export.training.tfdata import WindowSource

    options = TrainOptions(train_size=RUN["train_size"], seed=RUN["seed"], batch_size=RUN["batch_size"])
    prepared = prepare(read_texts(path, header=False), textgen.vocab, textgen.config, options)
    # with steps, each validation takes the first min(steps, batches) batches of the held-out pairs
    measured = prepared.validation[: RUN["batch_size"] * RUN["steps"]]
    return WindowSource(prepared.corpus).pairs(measured)


def float32_error(model32, weights64, config, windows, targets) -> float:
    """max over pairs of |float32 Keras pair loss − float64 oracle pair loss|."""
    from textgen_export.keras.network import text_model
    from textgen_export.keras.oracle import forward
    from textgen_export.runtime.keras import KerasRuntime

    loss32 = pair_losses(KerasRuntime(text_model(model32), fast=False).probs(windows), targets)
    loss64 = pair_losses(forward(weights64, config, windows)[0], targets)
    return float(np.max(np.abs(loss32 - loss64)))


def held_out_losses(folder) -> tuple[float, float]:
    """(before, after) training in nats, from a Python run's metadata."""
    meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    return tuple(
        meta[k] * math.log(2)
        for k in ("initial_validation_bits_per_token", "final_validation_bits_per_token")
    )


def test_node_fine_tune_matches_python_held_out_loss(tmp_path, pretrained_textgen, pretrained_bundle):
    from textgen_export.api.textgen import TextGen
    from textgen_export.keras.h5_weights import read_weights
    from textgen_export.keras.oracle import model_weights

    work = tmp_path / "work"
    work.mkdir()
    (work / "corpus.txt").write_text(LINES * 8, encoding="utf-8")
    keras64 = tmp_path / "keras64"
    keras64.mkdir()
    (keras64 / "keras.json").write_text(
        json.dumps({"floatx": "float64", "backend": "tensorflow"}), encoding="utf-8"
    )
    flags = ["--batch-size", RUN["batch_size"], "--train-size", RUN["train_size"], "--seed", RUN["seed"]]
    python = [
        "train",
        "corpus.txt",
        "--epochs",
        1,
        "--steps-per-epoch",
        RUN["steps"],
        "--gen-epochs",
        0,
        *flags,
    ]
    for out, env in (("py32", None), ("py64", {**os.environ, "KERAS_HOME": str(keras64)})):
        done = run_cli(*python, "--out", out, cwd=work, env=env)
        assert done.returncode == 0, done.stderr
    node = node_train(
        work, os.path.relpath(pretrained_bundle, work), "corpus.txt", "--steps", RUN["steps"], *flags, "--out", "node",
        timeout=900,
    )  # fmt: skip
    assert node.returncode == 0, node.stderr
    trained = json.loads((work / "node" / "manifest.json").read_text(encoding="utf-8"))
    assert trained["format"] == "textgen-export-trained" and trained["validated"] is False
    node_before, node_after = (
        trained["training"]["initial_validation_loss"],
        trained["training"]["validation_loss"],
    )
    before64, after64 = held_out_losses(work / "py64")

    windows, targets = held_out_pairs(pretrained_textgen, work / "corpus.txt")
    config = pretrained_textgen.config
    error_before = float32_error(
        pretrained_textgen.model, model_weights(pretrained_textgen.model), config, windows, targets
    )
    error_after = float32_error(
        TextGen.load(work / "py32").model,
        read_weights(work / "py64" / "weights.hdf5"),
        config,
        windows,
        targets,
    )
    assert abs(node_before - before64) <= K * error_before, (node_before, before64, error_before)
    assert abs(node_after - after64) <= K * error_after, (node_after, after64, error_after)
    # the figures are the ones printed, and training helped: the held-out loss fell
    assert f"validation loss {node_after:.4f}" in node.stdout
    assert node_after < node_before - 0.1 and after64 < before64 - 0.1


@pytest.fixture(scope="module")
def tiny_bundle(tmp_path_factory):
    from helpers import export, random_textgen

    return export(random_textgen(seed=1), tmp_path_factory.mktemp("tiny") / "bundle")


def test_train_mjs_writes_a_trained_folder_from_relative_paths_and_replaces_only_its_own(
    tmp_path, tiny_bundle
):
    from textgen_export.files.checksums import sha256_file

    work = tmp_path / "elsewhere"
    work.mkdir()
    (work / "corpus.txt").write_text(LINES * 4, encoding="utf-8")
    bundle = os.path.relpath(tiny_bundle, work)
    args = [bundle, "corpus.txt", "--steps", 3, "--batch-size", 8, "--seed", 1, "--train-size", 0.9]
    first = node_train(work, *args, "--out", "trained")
    assert first.returncode == 0, first.stderr
    out = work / "trained"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format"] == "textgen-export-trained" and manifest["trained_in"] == "node"
    assert manifest["validated"] is False and manifest["training"]["steps_done"] == 3
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert files == {"manifest.json", *manifest["files"]}
    assert {"config.json", "vocab.json", "tfjs/model.json", "tfjs/group1-shard1of1.bin"} <= files
    for name, entry in manifest["files"].items():
        assert entry == {"size": (out / name).stat().st_size, "sha256": sha256_file(out / name)}
    assert (out / "vocab.json").read_bytes() == (tiny_bundle / "vocab.json").read_bytes()
    trained = (out / "tfjs" / "group1-shard1of1.bin").read_bytes()
    source = (tiny_bundle / "tfjs" / "group1-shard1of1.bin").read_bytes()
    assert len(trained) == len(source) and trained != source  # same layout, trained weights
    # the same run again replaces its own folder, with the same weights (seeded: the same batches)
    again = node_train(work, *args, "--out", "trained")
    assert again.returncode == 0, again.stderr
    assert (out / "tfjs" / "group1-shard1of1.bin").read_bytes() == trained
    # a folder that is not ours is refused before training, untouched
    foreign = work / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me", encoding="utf-8")
    refused = node_train(work, *args, "--out", "mine")
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "not a trained model this command wrote" in refused.stderr
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--steps", "0"], "--steps must be an integer of at least 1"),
        (["--train-size", "1.5"], "--train-size must be in (0, 1]"),
        (["--batch-size", "100000"], "fewer than batch_size 100000"),
        (["--bogus"], "Unknown option '--bogus'"),
        (["--backend", "gpu"], "--backend must be one of"),
    ],
)
def test_train_mjs_user_errors_are_one_line_and_write_nothing(tmp_path, tiny_bundle, extra, message):
    (tmp_path / "corpus.txt").write_text(LINES, encoding="utf-8")
    done = node_train(tmp_path, tiny_bundle, "corpus.txt", "--out", "out", *extra, timeout=120)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and message in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()


def test_train_mjs_missing_files_are_one_line(tmp_path, tiny_bundle):
    done = node_train(tmp_path, tiny_bundle, "nope.txt", "--out", "out", timeout=120)
    assert done.returncode == 2 and 'training file "nope.txt" not found' in done.stderr, done.stderr
    done = node_train(tmp_path, "no-bundle", "nope.txt", "--out", "out", timeout=120)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr


STOP_SCRIPT = """
import * as tf from "@tensorflow/tfjs";
import { openDir } from "./src/runtime/node.js";
import { openTfjs, setBackend } from "./src/runtime/tfjs.js";
import { fineTune, prepareTraining } from "./src/training/fine_tune.js";
tf.env().set("PROD", true);
await setBackend(tf, "cpu");
const bundle = await openDir(process.argv[1]);
const { model } = await openTfjs(tf, bundle);
const before = await model.getLayer("output").kernel.read().data();
const prepared = prepareTraining({ vocabulary: bundle.vocab, config: bundle.config, text: process.argv[2],
  trainSize: 0.9, seed: 3, batchSize: 8 });
const seen = [];
const result = await fineTune(tf, model, prepared, { steps: 50, batchSize: 8,
  onProgress: (p) => seen.push(p), shouldStop: () => seen.filter((p) => p.step > 0).length >= 2 });
const after = await model.getLayer("output").kernel.read().data();
process.stdout.write(JSON.stringify({ result, seen, changed: before.some((v, i) => v !== after[i]) }));
"""


def test_stop_keeps_what_was_trained(tiny_bundle):
    """shouldStop() ends training before the next step; the steps done stay in the model, and validation is
    measured on them (what the page's Stop button relies on)."""
    out = node_json("--input-type=module", "-e", STOP_SCRIPT, str(tiny_bundle), LINES * 4, timeout=300)
    result, seen = out["result"], out["seen"]
    assert result["stopped"] is True and result["stepsDone"] == 2 and out["changed"]
    assert seen[0]["step"] == 0 and seen[0]["validationLoss"] == result["initialValidationLoss"]
    assert seen[-1]["epochDone"] and seen[-1]["validationLoss"] == result["validationLoss"]
    assert result["history"][0]["steps"] == 2 and result["validationLoss"] != result["initialValidationLoss"]
