"""The clean API's `TextGen.train`: trains in place, returns figures, and the model generates and saves."""

from __future__ import annotations

import pytest

from textgen_export.api.textgen import TextGen
from textgen_export.contract.config import ModelConfig
from textgen_export.contract.vocabulary import Vocabulary

TEXTS = [f"the {w} sat on the mat number {i}" for i, w in enumerate(["cat", "dog", "bird", "fox"] * 8)]


def tiny() -> TextGen:
    config = ModelConfig(rnn_layers=1, rnn_size=16, max_length=10, dim_embeddings=8)
    return TextGen.new(config, Vocabulary.from_texts(TEXTS, config.max_words, config.word_level))


def test_train_lowers_the_loss_and_the_model_generates_and_reloads(tmp_path):
    tg = tiny()
    figures = tg.train(TEXTS, num_epochs=3, batch_size=32, train_size=0.8, gen_epochs=0, verbose=0, seed=1)
    bits = figures["validation_bits_per_token"]
    assert len(bits) == 3 and bits[-1] < bits[0]
    assert tg.generate(n=2, max_gen_length=20, seed=3)[0] != ""
    tg.save(tmp_path / "model")
    again = TextGen.load(tmp_path / "model")
    assert again.generate(temperature=0, max_gen_length=20) == tg.generate(temperature=0, max_gen_length=20)


def test_unknown_or_bad_options_are_value_errors():
    with pytest.raises(ValueError, match="unknown training option"):
        tiny().train(TEXTS, epochs=3)
    with pytest.raises(ValueError, match="train_size"):
        tiny().train(TEXTS, train_size=1.5)
