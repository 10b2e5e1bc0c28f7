"""Fidelity: the Keras model against the original textgenrnn's outputs and against the float64 numpy oracle."""

import numpy as np
import pytest

from helpers import random_textgen
from textgen_export.contract.tokens import META_TOKEN
from textgen_export.keras import oracle
from textgen_export.keras.h5_weights import read_weights


def test_pretrained_probabilities_match_the_original_textgenrnn(pretrained_textgen, reference):
    values = reference["probs"]["values"]
    probs = pretrained_textgen.probs(list(values))
    for row, expected in zip(probs, values.values(), strict=True):
        assert np.abs(row - np.asarray(expected)).max() <= 1e-5


@pytest.mark.parametrize(
    "prefix", ["", "The", "Show HN: ", "Why I", "[Serious] ", "Ask HN: How do", "My dog"]
)
def test_pretrained_greedy_text_is_identical_to_the_original(pretrained_textgen, reference, prefix):
    text = pretrained_textgen.generate(temperature=0.0, prefix=prefix or None, max_gen_length=120)[0]
    assert text == reference["greedy"]["texts"][prefix]


def test_oracle_matches_original_on_pretrained_weights(pretrained_files, pretrained_textgen, reference):
    weights = read_weights(pretrained_files["weights"])
    values = reference["probs"]["values"]
    windows = pretrained_textgen.vocab.windows([[META_TOKEN, *k] for k in values], 40)
    probs, attention = oracle.forward(weights, pretrained_textgen.config, windows)
    assert np.abs(probs - np.asarray(list(values.values()))).max() <= 1e-5
    assert np.allclose(attention.sum(axis=1), 1.0, atol=1e-5)


def _keras_vs_oracle(tg, rows=6, seed=3):
    rng = np.random.default_rng(seed)
    windows = rng.integers(0, tg.vocab.num_classes, size=(rows, tg.config.max_length)).astype(np.int32)
    windows[0, :5] = 0  # left padding, as real windows have
    weights = {layer.name: layer.get_weights() for layer in tg.model.layers if layer.weights}
    expected, _ = oracle.forward(weights, tg.config, windows)
    return np.abs(tg.runtime.probs(windows) - expected).max()


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"rnn_layers": 1},
        {"rnn_layers": 3},
        {"rnn_bidirectional": True},
        {"rnn_bidirectional": True, "rnn_layers": 3},
        {"word_level": True},
    ],
    ids=["char-2", "char-1", "char-3", "bidi-2", "bidi-3", "word-2"],
)
def test_keras_matches_oracle_on_random_models(changes):
    tg = random_textgen(seed=11, **changes)
    assert _keras_vs_oracle(tg) <= 1e-5


def test_keras_matches_oracle_on_pretrained_real_text_windows(pretrained_textgen):
    # Real text windows (uniformly random token soup drives float32 further from float64, ~1.6e-5).
    texts = [
        "Show HN: I built a thing",
        "What is the best way to learn",
        "TIL that the moon",
        "Why do cats purr?",
        "My dog ate my homework and then my laptop",
        "[Serious] Reddit, what would you do if the sky",
    ]
    tg = pretrained_textgen
    windows = tg.vocab.windows([[META_TOKEN, *t] for t in texts], tg.config.max_length)
    weights = {layer.name: layer.get_weights() for layer in tg.model.layers if layer.weights}
    expected, _ = oracle.forward(weights, tg.config, windows)
    assert np.abs(tg.runtime.probs(windows) - expected).max() <= 1e-5
