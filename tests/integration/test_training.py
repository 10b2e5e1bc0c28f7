"""`textgen-export train`: every model kind trains an epoch, reloads from its directory and generates; bad input
is one line, exit 2, nothing written."""

from __future__ import annotations

import csv
import json

import pytest

from textgen_export.api.textgen import TextGen
from textgen_export.cli import main
from textgen_export.datasets.python_docstrings import harvest

TINY = [
    "--rnn-size",
    "16",
    "--max-length",
    "10",
    "--dim-embeddings",
    "8",
    "--epochs",
    "1",
    "--gen-epochs",
    "0",
]


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return harvest(limit=60)


@pytest.fixture
def corpus(tmp_path, lines):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def train(*args) -> int:
    try:
        return main(["train", *map(str, args)])
    except SystemExit as exc:  # argparse errors
        return exc.code


def reload_and_generate(folder) -> TextGen:
    tg = TextGen.load(folder)
    texts = tg.generate(n=2, temperature=0.5, max_gen_length=30, seed=1)
    assert len(texts) == 2 and all(isinstance(t, str) for t in texts)
    assert texts == TextGen.load(folder).generate(n=2, temperature=0.5, max_gen_length=30, seed=1)
    return tg


@pytest.mark.parametrize(
    "flags, config_keys",
    [
        ([], {"word_level": False, "rnn_layers": 2}),
        (["--word-level"], {"word_level": True}),
        (["--bidirectional", "--dropout", "0.2"], {"rnn_bidirectional": True}),
        (["--rnn-layers", "3"], {"rnn_layers": 3}),
    ],
    ids=["char", "word", "bidirectional", "3-layer"],
)
def test_new_models_train_reload_and_generate(corpus, tmp_path, flags, config_keys, capsys):
    out = tmp_path / "model"
    assert (
        train(corpus, "--new-model", *TINY, *flags, "--train-size", "0.9", "--batch-size", "32", "--out", out)
        == 0
    )
    tg = reload_and_generate(out)
    for key, value in {**config_keys, "rnn_size": 16, "max_length": 10}.items():
        assert tg.config.to_dict()[key] == value
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["epochs"] == 1 and len(meta["train_loss"]) == 1
    assert len(meta["validation_bits_per_token"]) == 1 and meta["final_validation_bits_per_token"] > 0
    assert meta["corpus"]["documents"] == 60
    assert "validation loss" in capsys.readouterr().err


def test_context_model_trains_and_keeps_its_context_head(tmp_path, lines):
    path = tmp_path / "labelled.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows([line, "long" if len(line) > 50 else "short"] for line in lines)
    out = tmp_path / "model"
    assert train(path, "--context", "--header", "--new-model", *TINY, "--batch-size", "32", "--out", out) == 0
    tg = reload_and_generate(out)
    assert len(tg.model.inputs) == 2 and len(tg.model.outputs) == 2
    assert tg.labels.names == ["long", "short"]
    assert json.loads((out / "metadata.json").read_text())["context_labels"] == ["long", "short"]


def test_largetext_model_is_single_text(tmp_path, lines):
    path = tmp_path / "large.txt"
    path.write_text(" ".join(lines), encoding="utf-8")
    out = tmp_path / "model"
    assert train(path, "--largetext", "--new-model", *TINY, "--batch-size", "64", "--out", out) == 0
    tg = reload_and_generate(out)
    assert tg.config.single_text and "<s>" not in tg.vocab.token_to_index
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["corpus"]["training_sequences"] == len(" ".join(lines)) - 10  # every full window


def test_fine_tuning_keeps_the_source_vocabulary_and_checkpoints(corpus, tmp_path):
    first = tmp_path / "first"
    assert train(corpus, "--new-model", *TINY, "--batch-size", "32", "--out", first) == 0
    second = tmp_path / "second"
    args = ["--from", first, "--epochs", "2", "--save-epochs", "1", "--gen-epochs", "0", "--batch-size", "32"]
    assert train(corpus, *args, "--seed", "3", "--out", second) == 0
    assert json.loads((second / "vocab.json").read_text()) == json.loads((first / "vocab.json").read_text())
    assert (tmp_path / "second_epoch1" / "weights.hdf5").is_file()  # checkpoint, not after the last epoch
    assert not (tmp_path / "second_epoch2").exists()
    meta = json.loads((second / "metadata.json").read_text())
    assert meta["epochs"] == 2 and meta["learning_rate"] == pytest.approx([4e-3, 2e-3])


BAD_INPUTS = {
    "empty": (b"", [], "is empty"),
    "blank": (b"\n  \n\t\n", [], "only blank lines"),
    "binary": (bytes(range(256)) * 8, [], "looks binary"),
    "csv-columns": (b"text,label\na,b\nc\nd,e\n", ["--context"], "line 3"),
    "context-label-missing": (b"hello,x\nworld,\n", ["--context"], "label"),
    "too-few": (b"ab\ncd\n", ["--batch-size", "128"], "fewer than --batch-size 128"),
}


@pytest.mark.parametrize("name", BAD_INPUTS)
def test_bad_input_is_one_line_exit_2_nothing_written(name, tmp_path, capsys):
    data, flags, words = BAD_INPUTS[name]
    path = tmp_path / "input.txt"
    path.write_bytes(data)
    out = tmp_path / "model"
    assert train(path, *flags, "--new-model", *TINY, "--out", out) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err and "Traceback" not in err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["input.txt"]


def test_invalid_utf8_is_replaced_with_a_warning(tmp_path, lines):
    from textgen_export.training.texts import read_texts

    path = tmp_path / "mixed.txt"
    path.write_bytes("\n".join(lines).encode() + b"\nbad \xff\xfe bytes\n")
    warnings = []
    texts = read_texts(path, header=False, warn=warnings.append)
    assert texts[-1] == "bad \ufffd\ufffd bytes"
    assert len(warnings) == 1 and "2 invalid UTF-8" in warnings[0]


def test_unwritable_out_and_misused_flags(corpus, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert train(corpus, "--new-model", *TINY, "--out", blocker / "model") == 2
    assert train(corpus, "--rnn-size", "16", "--out", tmp_path / "m") == 2  # architecture needs --new-model
    assert train(corpus, "--train-size", "1.5", "--out", tmp_path / "m") == 2
    assert train(corpus, "--patience", "2", "--out", tmp_path / "m") == 2  # needs a validation split
    assert train(corpus, "--new-model", *TINY, "--out", blocker) == 2  # a file, not a directory
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("mine")
    assert train(corpus, "--new-model", *TINY, "--out", precious) == 2  # never replace a non-model directory
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 6 and all("error:" in line for line in err)
    assert "--new-model" in err[1] and "--train-size" in err[2] and "validation" in err[3]
    assert "not a model directory" in err[5] and (precious / "notes.txt").read_text() == "mine"
    assert not (tmp_path / "m").exists()


def test_early_stopping_reports_the_epoch_whose_weights_are_kept(lines):
    from textgen_export.contract.config import ModelConfig
    from textgen_export.training.corpus import new_vocabulary
    from textgen_export.training.options import TrainOptions

    config = ModelConfig(rnn_size=8, max_length=10, dim_embeddings=8)
    tg = TextGen.new(config, new_vocabulary(lines, config))
    options = TrainOptions(
        num_epochs=3, batch_size=64, train_size=0.8, patience=1, gen_epochs=0, verbose=0, seed=2
    )
    meta = tg.train(lines, options=options)
    assert 1 <= meta["epochs"] <= 3 and len(meta["validation_bits_per_token"]) == meta["epochs"]
    assert meta["final_validation_bits_per_token"] == min(meta["validation_bits_per_token"])
    assert meta["initial_validation_bits_per_token"] > meta["final_validation_bits_per_token"]
    assert tg.metadata is meta and len(tg.model.inputs) == 1  # trained text-only model left in place


def test_steps_per_epoch_cycles_the_data_and_a_validation_sample(corpus, tmp_path):
    out = tmp_path / "model"
    flags = ["--steps-per-epoch", "60", "--epochs", "2", "--train-size", "0.5", "--batch-size", "32"]
    assert train(corpus, "--new-model", *TINY[:-4], "--gen-epochs", "0", *flags, "--out", out) == 0
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["epochs"] == 2 and len(meta["validation_bits_per_token"]) == 2
    assert meta["corpus"]["training_sequences"] < 60 * 32 * 2  # the epochs went round the data more than once
