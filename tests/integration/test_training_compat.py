"""The textgenrnn training API, used the way its README does, writes the files the original wrote."""

from __future__ import annotations

import csv
import json

import pytest

from textgen_export import textgenrnn
from textgen_export.datasets.python_docstrings import harvest

TINY = dict(rnn_size=16, max_length=10, dim_embeddings=8, num_epochs=1, gen_epochs=0, batch_size=32)


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return harvest(limit=50)


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the original writes {name}_weights.hdf5 into the working directory
    return tmp_path


def test_readme_fine_tune_from_file(in_tmp, lines, capsys, pretrained_files):
    (in_tmp / "file.txt").write_text("\n".join(lines), encoding="utf-8")
    textgen = textgenrnn()
    before = textgen.model.get_layer("output").get_weights()[1].copy()
    textgen.train_from_file("file.txt", num_epochs=1, max_gen_length=20)
    out = capsys.readouterr().out
    assert out.count("Temperature: ") == 3  # samples at 0.2, 0.5, 1.0 after the epoch
    assert (in_tmp / "textgenrnn_weights.hdf5").is_file()
    assert len(textgen.vocab) == 464  # fine-tuning keeps the pretrained vocabulary
    assert (textgen.model.get_layer("output").get_weights()[1] != before).any()
    texts = textgen.generate(2, return_as_list=True, temperature=0.5, max_gen_length=40, seed=1)
    assert len(texts) == 2
    reloaded = textgenrnn("textgenrnn_weights.hdf5", vocab_path=str(pretrained_files["vocab"]))
    assert reloaded.generate(2, return_as_list=True, temperature=0.5, max_gen_length=40, seed=1) == texts


def test_train_new_model_writes_weights_vocab_config_and_reloads(in_tmp, lines):
    textgen = textgenrnn()
    textgen.train_new_model(lines, name="tiny", train_size=0.9, save_epochs=1, **{**TINY, "num_epochs": 2})
    for suffix in ("weights.hdf5", "vocab.json", "config.json", "weights_epoch_1.hdf5"):
        assert (in_tmp / f"tiny_{suffix}").is_file(), suffix
    assert json.loads((in_tmp / "tiny_config.json").read_text())["rnn_size"] == 16
    assert textgen.config["name"] == "tiny" and textgen.textgen.metadata["epochs"] == 2
    assert len(textgen.textgen.metadata["validation_bits_per_token"]) == 2
    texts = textgen.generate(3, return_as_list=True, temperature=0.5, max_gen_length=30, seed=4)
    again = textgenrnn("tiny_weights.hdf5", vocab_path="tiny_vocab.json", config_path="tiny_config.json")
    assert again.generate(3, return_as_list=True, temperature=0.5, max_gen_length=30, seed=4) == texts


def test_context_csv_largetext_word_level_and_multi_gpu(in_tmp, lines):
    with open("labelled.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows([line, str(len(line) % 3)] for line in lines)
    textgen = textgenrnn()
    textgen.train_from_file("labelled.csv", context=True, new_model=True, name="ctx", **TINY)
    assert len(textgen.model.inputs) == 1  # text-only model after context training
    assert textgen.generate(1, return_as_list=True, max_gen_length=20, seed=1)

    (in_tmp / "large.txt").write_text(" ".join(lines), encoding="utf-8")
    textgen.train_from_largetext_file("large.txt", name="big", word_level=True, multi_gpu=True, **TINY)
    assert textgen.config["single_text"] and textgen.config["word_level"]
    assert (in_tmp / "big_weights.hdf5").is_file()
    assert textgen.generate(1, return_as_list=True, max_gen_length=20, seed=1)

    textgen.train_on_texts(
        lines,
        **{k: v for k, v in TINY.items() if k not in ("rnn_size", "max_length", "dim_embeddings")},
        dropout=0.1,
    )
    assert textgen.config["name"] == "big"  # fine-tuning keeps the model (and its vocabulary)


def test_bad_arguments_raise_user_errors(in_tmp, lines):
    from textgen_export.errors import UserError

    textgen = textgenrnn()
    with pytest.raises(UserError, match="context labels for"):
        textgen.train_on_texts(lines, context_labels=["a"], num_epochs=1)
    with pytest.raises(UserError, match="fewer than batch_size"):
        textgen.train_new_model(["hi"], **TINY)
    assert list(in_tmp.iterdir()) == []  # nothing written before validation passed
