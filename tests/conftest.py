"""Shared fixtures: the pretrained model (fetched once at set-up), reference figures, tiny random models."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).parent.parent


@pytest.fixture(scope="session")
def reference() -> dict:
    """Outputs of the original textgenrnn with its pretrained weights (tests/data/textgenrnn_reference.json)."""
    return json.loads((DATA / "textgenrnn_reference.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def pretrained_files() -> dict:
    from textgen_export import pretrained

    return pretrained.paths()


@pytest.fixture(scope="session")
def pretrained_textgen():
    from textgen_export.textgen import TextGen

    return TextGen.pretrained()


def random_textgen(seed: int = 0, **config_changes):
    """A small untrained model with random weights over a char (or word) vocabulary built from a fixed text."""
    from textgen_export.config import ModelConfig
    from textgen_export.quiet_tf import keras
    from textgen_export.textgen import TextGen
    from textgen_export.vocabulary import Vocabulary

    keras.utils.set_random_seed(seed)
    config = ModelConfig(**{"rnn_size": 16, "max_length": 12, "dim_embeddings": 8, **config_changes})
    texts = [
        "The quick brown fox jumps over the lazy dog.",
        "Pack my box with five dozen liquor jugs!",
        "How vexingly quick daft zebras jump; (sphinx) of black quartz, judge my vow?",
    ]
    vocab = Vocabulary.from_texts(texts, config.max_words, config.word_level, config.single_text)
    return TextGen.new(config, vocab)


@pytest.fixture
def tiny_textgen():
    return random_textgen()
