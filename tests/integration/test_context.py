"""Contextual models keep their context head: `train --context` saves it with its labels, `--resume`, `--from`
and the drop-in keep it, and every Python entry point generates for a label (CLI, TextGen, stream, trace, the
drop-in); a model directory without a head behaves as before."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
from pathlib import Path

import h5py
import numpy as np
import pytest

from helpers import random_textgen, run_cli
from textgen_export.api.textgen import TextGen
from textgen_export.cli import main
from textgen_export.contract.labels import ContextLabels
from textgen_export.datasets.fruit_animal import rows, share
from textgen_export.errors import UserError
from textgen_export.keras.network import context_size, text_model

SMALL = ["--new-model", "--word-level", "--rnn-layers", "1", "--rnn-size", "16", "--max-length", "8"]
SMALL += ["--dim-embeddings", "8", "--gen-epochs", "0", "--batch-size", "32", "--seed", "1"]


def write_csv(path: Path, rows) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return path


def train(*args) -> int:
    try:
        return main(["train", *map(str, args)])
    except SystemExit as exc:
        return exc.code


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A small word-level context model trained from a CSV with single and double labels."""
    folder = tmp_path_factory.mktemp("context")
    data = write_csv(folder / "labelled.csv", rows(240, both_every=6))
    out = folder / "model"
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = train(
            data, "--context", "--header", *SMALL, "--epochs", "2", "--train-size", "0.9", "--out", out
        )
    assert code == 0
    return folder, out, err.getvalue()


def head_weights(folder: Path) -> list[np.ndarray]:
    with h5py.File(folder / "weights.hdf5", "r") as f:
        group = f["context_output"]
        return [np.asarray(group[name]) for name in group.attrs["weight_names"]]


def test_train_context_keeps_the_head_and_its_labels(trained):
    _, out, reported = trained
    assert json.loads((out / "labels.json").read_text()) == ["animal", "fruit"]
    kernel, bias = head_weights(out)
    assert kernel.shape == (8 + 16 + 2, bias.shape[0])  # [attention output (embedding + LSTM), labels] → V
    tg = TextGen.load(out)
    assert tg.labels == ContextLabels(["animal", "fruit"]) and context_size(tg.model) == 2
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["context_labels"] == ["animal", "fruit"]
    assert meta["final_context_validation_bits_per_token"] > 0 and meta["final_validation_bits_per_token"] > 0
    # the last line gives both held-out losses (nats per token, the progress bar's unit)
    text = meta["final_validation_bits_per_token"] * np.log(2)
    head = meta["final_context_validation_bits_per_token"] * np.log(2)
    assert (
        f"validation loss {text:.4f} (text path), {head:.4f} (context head with each text's labels)"
        in reported
    )


def test_the_cli_generates_for_a_label_from_another_folder(trained, tmp_path):
    _, out, _ = trained
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    rel = os.path.relpath(out, cwd)
    tg = TextGen.load(out)
    options = dict(n=3, temperature=0.5, max_gen_length=12, seed=3)
    for label in ("fruit", ["animal", "fruit"]):
        args = ["--context", *([label] if isinstance(label, str) else label)]
        done = run_cli(
            "generate", "--model", rel, "-n", "3", "--max-length", "12", "--seed", "3", *args, cwd=cwd
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.splitlines() == tg.generate(**options, context=label)
    plain = run_cli("generate", "--model", rel, "-n", "3", "--max-length", "12", "--seed", "3", cwd=cwd)
    text_only = TextGen(
        text_model(tg.model), tg.vocab, tg.config
    )  # the text path alone, as before heads were kept
    assert plain.returncode == 0 and plain.stdout.splitlines() == text_only.generate(**options)
    assert tg.generate(**options, context="fruit") != text_only.generate(**options)


def test_an_unknown_label_is_one_line_listing_the_known_ones(trained):
    _, out, _ = trained
    done = run_cli("generate", "--model", out, "--context", "plant", "--seed", "1")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "textgen-export generate: error: unknown context label 'plant'; this model knows: animal, fruit"
    ]


def test_a_model_directory_without_a_head_behaves_as_before(tmp_path):
    tg = random_textgen(seed=2)
    tg.save(tmp_path / "plain")
    assert not (tmp_path / "plain" / "labels.json").exists()
    loaded = TextGen.load(tmp_path / "plain")
    assert loaded.labels is None and context_size(loaded.model) is None
    options = dict(n=2, temperature=0.5, max_gen_length=15, seed=5)
    assert loaded.generate(**options) == tg.generate(**options)
    with pytest.raises(UserError, match="no context head"):
        loaded.generate(**options, context="a")
    done = run_cli("generate", "--model", tmp_path / "plain", "--context", "a")
    assert done.returncode == 2 and "no context head" in done.stderr and done.stderr.count("\n") == 1


def test_stream_trace_and_interactive_follow_the_label(trained):
    _, out, _ = trained
    tg = TextGen.load(out)
    options = dict(temperature=0.5, max_gen_length=12, seed=9, context="animal")
    texts = tg.generate(n=2, **options)
    pieces = ["", ""]
    for i, piece in tg.stream(n=2, **options):
        pieces[i] += piece
    assert pieces == texts
    traces = tg.trace(n=2, top_k=3, **options)
    assert [t.text for t in traces] == texts
    # the trace's probabilities are the head's: its first step's top token is the head's argmax after <s>
    first = traces[0].steps[0]
    start = tg.vocab.windows([["<s>"]], tg.config.max_length)
    head = tg.runtime.probs(start, context=tg.labels.vector("animal")[None, :])[0]
    assert first.candidates[0][0] == tg.vocab.token(int(np.argmax(head)))
    answers = iter(["1", "1", "s"])
    written = tg.interactive(
        temperature=0.0, context="animal", ask=lambda _: next(answers), say=lambda _: None
    )
    greedy = tg.generate(temperature=0.0, max_gen_length=3, context="animal")[0]
    assert written == greedy


def test_resume_keeps_the_head(tmp_path):
    import textgen_export.training.run as command

    data = write_csv(tmp_path / "labelled.csv", rows(120))
    out = tmp_path / "model"

    def killed(*args):
        raise KeyboardInterrupt

    patch = pytest.MonkeyPatch()
    patch.setattr(command, "write_model_dir", killed)
    try:
        assert train(data, "--context", "--header", *SMALL, "--epochs", "1", "--out", out) == 130
    finally:
        patch.undo()
    assert train("--resume", out) == 0
    assert json.loads((out / "labels.json").read_text()) == ["animal", "fruit"]
    assert TextGen.load(out).generate(max_gen_length=8, seed=1, context="fruit")


def test_fine_tuning_from_a_context_model_keeps_its_head(trained, tmp_path):
    folder, out, _ = trained
    before = head_weights(out)
    plain = tmp_path / "plain.txt"
    plain.write_text("\n".join(row[0] for row in rows(80, seed=5)) + "\n", encoding="utf-8")
    text_tuned = tmp_path / "text_tuned"
    flags = ["--gen-epochs", "0", "--batch-size", "32", "--epochs", "1", "--seed", "2"]
    assert train(plain, "--from", out, *flags, "--out", text_tuned) == 0
    assert json.loads((text_tuned / "labels.json").read_text()) == ["animal", "fruit"]
    for a, b in zip(before, head_weights(text_tuned), strict=True):
        np.testing.assert_array_equal(a, b)  # trained without labels: the head rides along unchanged
    only_fruit = write_csv(tmp_path / "fruit.csv", [r for r in rows(80, seed=6) if r[1] == "fruit"])
    label_tuned = tmp_path / "label_tuned"
    assert train(only_fruit, "--context", "--header", "--from", out, *flags, "--out", label_tuned) == 0
    # the texts use a subset of the model's labels: the head keeps its labels, in their order, and trains on
    assert json.loads((label_tuned / "labels.json").read_text()) == ["animal", "fruit"]
    assert not np.array_equal(before[0], head_weights(label_tuned)[0])
    assert TextGen.load(label_tuned).generate(max_gen_length=8, seed=1, context="animal")


def test_the_drop_in_keeps_the_head_and_takes_context(trained, tmp_path, monkeypatch):
    from textgen_export import textgenrnn

    folder, _, _ = trained
    monkeypatch.chdir(tmp_path)
    textgen = textgenrnn(name="ctx")
    tiny = dict(num_epochs=1, gen_epochs=0, batch_size=32, rnn_size=16, max_length=8, dim_embeddings=8)
    textgen.train_from_file(folder / "labelled.csv", context=True, new_model=True, word_level=True, **tiny)
    assert len(textgen.model.inputs) == 1  # `.model` is the text path, as the original left it
    options = dict(n=2, return_as_list=True, temperature=0.5, max_gen_length=10, seed=4, progress=False)
    for label in ("fruit", ["animal", "fruit"]):
        texts = textgen.generate(**options, context=label)
        assert texts == textgen.textgen.generate(2, 0.5, None, 10, seed=4, context=label)
    with pytest.raises(UserError, match="unknown context label 'plant'"):
        textgen.generate(**options, context="plant")
    # the files it wrote bring the head back, as the original's files bring its model back
    assert json.loads((tmp_path / "ctx_labels.json").read_text()) == ["animal", "fruit"]
    again = textgenrnn("ctx_weights.hdf5", vocab_path="ctx_vocab.json", config_path="ctx_config.json")
    assert again.generate(**options, context="fruit") == textgen.generate(**options, context="fruit")
    textgen.save("saved.hdf5")
    again.load("saved.hdf5")
    assert again.generate(**options, context="animal") == textgen.generate(**options, context="animal")


@pytest.mark.slow
def test_the_label_steers_what_is_generated():
    """On our fruit-vs-animal corpus the head fed `fruit` writes fruit words and fed `animal` animal words, far
    above the text-only path's share; held out, the head with each text's label predicts better than the text
    path (it knows the kind of a line's first word)."""
    from textgen_export.contract.config import ModelConfig
    from textgen_export.training.corpus import new_vocabulary

    pairs = rows(600)
    texts, labels = [t for t, _ in pairs], [label for _, label in pairs]
    config = ModelConfig(word_level=True, rnn_layers=1, rnn_size=48, max_length=8, dim_embeddings=16)
    tg = TextGen.new(config, new_vocabulary(texts, config), seed=1)
    meta = tg.train(
        texts,
        context_labels=labels,
        num_epochs=8,
        batch_size=32,
        gen_epochs=0,
        train_size=0.9,
        seed=1,
        verbose=0,
    )
    assert meta["final_context_validation_bits_per_token"] < meta["final_validation_bits_per_token"]
    options = dict(n=40, temperature=0.5, max_gen_length=8, seed=5)
    text_only = tg.generate(**options)
    for label in ("fruit", "animal"):
        steered = share(tg.generate(**options, context=label), label)
        assert steered >= 0.8 and steered >= share(text_only, label) + 0.25, (label, steered)


def test_the_dataset_command_writes_the_labelled_corpus(tmp_path):
    done = run_cli("dataset", "fruit-animal", "--out", "fa.csv", "--limit", "12", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with (tmp_path / "fa.csv").open(newline="", encoding="utf-8") as f:
        table = list(csv.reader(f))
    assert table[0] == ["text", "label"] and [tuple(r) for r in table[1:]] == rows(12, both_every=6)
    assert [r[1] for r in table[1:7]] == ["fruit", "animal", "fruit", "animal", "fruit", "animal|fruit"]


def test_a_head_without_known_labels_saves_the_text_path(tmp_path):
    from textgen_export.keras.network import build_model

    base = random_textgen(seed=4)
    headed = TextGen(
        build_model(base.config, base.vocab.num_classes, context_size=2), base.vocab, base.config
    )
    headed.save(tmp_path / "model")
    assert not (tmp_path / "model" / "labels.json").exists()
    assert TextGen.load(tmp_path / "model").labels is None
