"""Crash-safe training: a checkpoint after every epoch, `train --resume` after a SIGKILL, exact resumption."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from helpers import REPO, run_cli
from textgen_export.api.textgen import TextGen
from textgen_export.cli import main
from textgen_export.datasets.python_docstrings import harvest
from textgen_export.keras.backend import keras
from textgen_export.training import checkpoint
from textgen_export.training.options import TrainOptions
from textgen_export.training.prepare import prepare

TINY = ["--new-model", "--rnn-size", "16", "--rnn-layers", "1", "--max-length", "10", "--dim-embeddings", "8"]


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return harvest(limit=200)


@pytest.fixture
def corpus(tmp_path, lines) -> Path:
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def assert_complete(root: Path) -> checkpoint.State:
    """`latest` names a checkpoint whose every file matches the sha256 recorded in its state.json."""
    folder = root / (root / checkpoint.LATEST).read_text().strip()
    record = json.loads((folder / checkpoint.STATE).read_text())
    assert set(record["files"]) | {checkpoint.STATE} == {p.name for p in folder.iterdir()}
    for name, digest in record["files"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
    return checkpoint.load(root)


def reload_and_generate(folder: Path) -> None:
    texts = TextGen.load(folder).generate(n=2, temperature=0.5, max_gen_length=30, seed=1)
    assert len(texts) == 2 and all(isinstance(t, str) for t in texts)


@pytest.mark.slow
def test_sigkill_mid_epoch_then_resume_loses_at_most_that_epoch(lines, tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(lines[:120]) + "\n", encoding="utf-8")
    out = tmp_path / "model"
    args = [*TINY, "--epochs", "4", "--batch-size", "32", "--train-size", "0.9", "--gen-epochs", "0"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, "-m", "textgen_export", "train", str(corpus), *args, "--seed", "5"]
    proc = subprocess.Popen(
        [*command, "--out", str(out)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    root = out / checkpoint.DIRNAME
    seen = []
    try:
        for line in proc.stdout:  # Keras prints "Epoch 2/4" as the second epoch begins
            seen.append(line)
            if line.startswith("Epoch 2/4"):
                break
        assert (root / checkpoint.LATEST).read_text().strip() == "epoch-0001", "".join(seen)
        time.sleep(0.2)  # into the second epoch (~150 batches)
        assert proc.poll() is None, "".join(seen)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    state = assert_complete(root)  # nothing half-written: the first epoch's checkpoint, whole
    assert state.epoch == 1 and state.options["num_epochs"] == 4 and not (out / "config.json").exists()

    resumed = run_cli("train", "--resume", out, env=env)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "after epoch 1 of 4" in resumed.stderr
    assert "Epoch 1/4" not in resumed.stdout and "Epoch 2/4" in resumed.stdout  # starts at the lost epoch
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["epochs"] == 4 and meta["resumed_after_epoch"] == 1
    assert len(meta["train_loss"]) == 4 and len(meta["validation_bits_per_token"]) == 4
    assert meta["training_file"] == str(corpus.resolve())
    assert not root.exists()  # the final model replaced the directory, checkpoint included
    reload_and_generate(out)


def tiny_textgen(lines, seed=0):
    from textgen_export.contract.config import ModelConfig
    from textgen_export.training.corpus import new_vocabulary

    keras.utils.set_random_seed(seed)
    config = ModelConfig(rnn_size=8, rnn_layers=1, max_length=8, dim_embeddings=8)
    return TextGen.new(config, new_vocabulary(lines, config))


class Crash(Exception):
    pass


@pytest.mark.slow
def test_resumed_run_equals_the_uninterrupted_run(lines, tmp_path):
    """Optimizer moments, data order, dropout masks and early stopping all carry over: same weights, same log."""
    texts = lines[:40]

    def options():
        return TrainOptions(
            num_epochs=3,
            batch_size=32,
            train_size=0.8,
            dropout=0.2,
            patience=2,
            gen_epochs=0,
            verbose=0,
            seed=4,
        )

    whole = tiny_textgen(texts)
    meta = whole.train(texts, options=options(), checkpoints=tmp_path / "whole")

    def crash_in_epoch_2(epoch, model, is_checkpoint):  # runs before that epoch's checkpoint is written
        if epoch == 2:
            raise Crash

    broken = tiny_textgen(texts)
    with pytest.raises(Crash):
        broken.train(texts, options=options(), save=crash_in_epoch_2, checkpoints=tmp_path / "broken")
    state = checkpoint.load(tmp_path / "broken")
    assert state.epoch == 1 and state.options["data_seed"] == 4

    resumed = TextGen.new(state.config, state.vocab)
    prepared = prepare(texts, state.vocab, state.config, TrainOptions(**state.options))
    meta2 = resumed.train(
        options=TrainOptions(verbose=0),
        prepared=prepared,
        resume=state,
        checkpoints=tmp_path / "broken",
    )
    for a, b in zip(whole.model.get_weights(), resumed.model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    assert meta2["resumed_after_epoch"] == 1 and meta2["epochs"] == meta["epochs"]
    for key in (
        "train_loss",
        "validation_bits_per_token",
        "initial_validation_bits_per_token",
        "learning_rate",
    ):
        np.testing.assert_allclose(meta2[key], meta[key], rtol=1e-6, err_msg=key)


def test_checkpoint_round_trip_restores_optimizer_state_exactly(lines, tmp_path):
    from textgen_export.training.trainer import _restore, training_model

    tg = tiny_textgen(lines[:40])
    options = TrainOptions(num_epochs=1, batch_size=32, gen_epochs=0, verbose=0, seed=1)
    tg.train(lines[:40], options=options, checkpoints=tmp_path)
    state = checkpoint.load(tmp_path)
    assert int(state.optimizer_variables[0]) > 0  # iterations: the optimizer really stepped

    model = training_model(
        TextGen.new(state.config, state.vocab).model, state.config, state.vocab.num_classes, 0.0, None
    )
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.SparseCategoricalCrossentropy())
    _restore(model, state)
    assert len(model.optimizer.variables) == len(state.optimizer_variables) > 2  # iteration, rate, moments
    for variable, saved in zip(model.optimizer.variables, state.optimizer_variables, strict=True):
        assert np.array_equal(np.asarray(variable), saved), variable.path
    for variable, saved in zip(model.variables, state.model_variables, strict=True):
        assert np.array_equal(np.asarray(variable), saved), variable.path

    again = checkpoint.save(tmp_path / "again", state)  # saving a loaded state writes identical arrays
    for name in (checkpoint.MODEL, checkpoint.OPTIMIZER):
        a, b = np.load(state.path / name), np.load(again / name)
        assert a.files == b.files and all(np.array_equal(a[k], b[k]) for k in a.files)


def test_a_crash_while_saving_leaves_the_previous_checkpoint(lines, tmp_path, monkeypatch):
    tg = tiny_textgen(lines[:40])
    tg.train(
        lines[:40],
        options=TrainOptions(num_epochs=1, batch_size=32, gen_epochs=0, verbose=0),
        checkpoints=tmp_path,
    )
    state = checkpoint.load(tmp_path)
    written = []

    def dies_after_two(path, data):
        if len(written) == 2:
            raise Crash
        written.append(path)
        Path(path).write_bytes(data)

    monkeypatch.setattr(checkpoint, "write_bytes", dies_after_two)
    state.epoch = 2
    with pytest.raises(Crash):
        checkpoint.save(tmp_path, state)
    assert assert_complete(tmp_path).epoch == 1
    monkeypatch.undo()
    checkpoint.save(tmp_path, state)  # the next save cleans up and moves on
    assert assert_complete(tmp_path).epoch == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch-0002", "latest"]


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory):
    """A run killed after its only epoch's checkpoint but before the final model was written."""
    import textgen_export.training.run as training_run

    folder = tmp_path_factory.mktemp("interrupted")
    corpus = folder / "corpus.txt"
    corpus.write_text("\n".join(harvest(limit=40)) + "\n", encoding="utf-8")

    def killed(*args):
        raise KeyboardInterrupt

    patch = pytest.MonkeyPatch()
    patch.setattr(training_run, "write_model_dir", killed)
    try:
        args = [*TINY, "--epochs", "1", "--gen-epochs", "0", "--batch-size", "32", "--out", folder / "model"]
        assert main(["train", str(corpus), *map(str, args)]) == 130
    finally:
        patch.undo()
    return folder


@pytest.fixture
def run_copy(interrupted, tmp_path):
    """A private copy of the interrupted run, its data file at the recorded path."""
    shutil.copytree(interrupted / "model", tmp_path / "model")
    return interrupted, tmp_path / "model"


def test_resume_after_the_last_epoch_writes_the_final_model(run_copy, capsys):
    source, out = run_copy
    moved = out.parent / "moved.txt"  # the same data, moved: give its new path
    shutil.copy(source / "corpus.txt", moved)
    assert (
        main(["train", str(moved), "--resume", str(out / "checkpoint")]) == 0
    )  # the checkpoint dir works too
    assert "after epoch 1 of 1" in capsys.readouterr().err
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["epochs"] == 1 and meta["training_file"] == str(moved.resolve())
    assert not (out / "checkpoint").exists()
    reload_and_generate(out)


def damage(kind: str, source: Path, out: Path) -> list[str]:
    """Break the interrupted run one way; returns the extra CLI arguments."""
    folder = out / "checkpoint" / "epoch-0001"
    if kind == "no-checkpoint":
        shutil.rmtree(out / "checkpoint")
    elif kind == "missing-dir":
        shutil.rmtree(out)
    elif kind == "truncated-weights":
        data = (folder / "model.npz").read_bytes()
        (folder / "model.npz").write_bytes(data[: len(data) // 2])
    elif kind == "missing-optimizer":
        (folder / "optimizer.npz").unlink()
    elif kind == "bad-state":
        (folder / "state.json").write_text("{not json")
    elif kind == "latest-dangling":
        (out / "checkpoint" / "latest").write_text("epoch-0007\n")
    elif kind == "changed-data":
        with (source / "corpus.txt").open("a") as f:
            f.write("one more line\n")
    elif kind == "moved-changed-data":
        other = out.parent / "other.txt"
        other.write_text("a different text\n" * 50)
        return [str(other)]
    elif kind == "flags-with-resume":
        return ["--epochs", "5", "--seed", "2"]
    return []


BAD_RESUMES = {
    "no-checkpoint": "no training checkpoint",
    "missing-dir": "no such directory",
    "truncated-weights": "model.npz does not match its recorded sha256",
    "missing-optimizer": "optimizer.npz is missing",
    "bad-state": "state.json unreadable",
    "latest-dangling": "names 'epoch-0007', which is missing",
    "changed-data": "differs from the one the interrupted run trained on",
    "moved-changed-data": "differs from the one the interrupted run trained on",
    "flags-with-resume": "drop --epochs --seed",
}


@pytest.mark.parametrize("kind", BAD_RESUMES)
def test_bad_resume_is_one_line_exit_2(kind, run_copy, capsys):
    source, out = run_copy
    original = (source / "corpus.txt").read_bytes()
    try:
        extra = damage(kind, source, out)
        code = main(["train", *extra, "--resume", str(out)])
    finally:
        (source / "corpus.txt").write_bytes(original)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and BAD_RESUMES[kind] in err and "Traceback" not in err, err
    assert not (out / "config.json").exists()


def test_a_new_run_into_an_interrupted_out_dir_points_to_resume(run_copy, capsys):
    source, out = run_copy
    assert main(["train", str(source / "corpus.txt"), *TINY, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--resume {out}" in err
    assert checkpoint.load(out / "checkpoint").epoch == 1  # untouched
    (out / "checkpoint" / "latest").unlink()  # as if killed while writing the first checkpoint
    assert main(["train", str(source / "corpus.txt"), *TINY, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "died during its first epoch" in err


def test_resume_replays_the_shuffles_of_the_epochs_done():
    from textgen_export.contract.vocabulary import Vocabulary
    from textgen_export.training.corpus import build_corpus
    from textgen_export.training.tfdata import WindowSource, dataset

    texts = ["abcdefghij" * 3, "jihgfedcba" * 2]
    vocab = Vocabulary.from_texts(texts, 100, False, False)

    def stream(skip, repeat, n):
        corpus = build_corpus(texts, vocab, 4, False)
        ds = dataset(
            WindowSource(corpus), corpus.positions, 8, True, seed=7, repeat=repeat, skip_batches=skip
        )
        batches = [t.numpy().tolist() for _, t in (ds.repeat() if not repeat else ds).take(n)]
        return batches

    steps = -(-len(build_corpus(texts, vocab, 4, False).positions) // 8)
    whole = stream(0, False, 4 * steps)
    assert stream(2 * steps, False, 2 * steps) == whole[2 * steps :]
    whole = stream(0, True, 3 * steps)
    assert stream(steps + 3, True, 2 * steps - 3) == whole[steps + 3 :]  # steps_per_epoch: mid-pass
