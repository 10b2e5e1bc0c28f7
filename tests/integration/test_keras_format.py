"""The model saves and loads in Keras 3's native `.keras` format (custom attention layer included, safe mode)."""

import numpy as np
import pytest

from helpers import random_textgen
from textgen_export.keras.backend import keras


@pytest.mark.parametrize("changes", [{}, {"rnn_bidirectional": True}])
def test_keras_format_round_trip_in_safe_mode(tmp_path, changes):
    tg = random_textgen(seed=21, **changes)
    path = tmp_path / "model.keras"
    tg.model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    windows = np.arange(2 * tg.config.max_length, dtype=np.int32).reshape(2, -1) % tg.vocab.num_classes
    np.testing.assert_allclose(loaded(windows), tg.model(windows), atol=1e-7)
    assert loaded.get_layer("attention").__class__.__name__ == "AttentionWeightedAverage"


def test_attention_weights_output_sums_to_one():
    from textgen_export.keras.network import build_model

    tg = random_textgen(seed=1)
    model = build_model(tg.config, tg.vocab.num_classes, return_attention=True)
    model.set_weights(tg.model.get_weights())
    windows = np.ones((3, tg.config.max_length), dtype=np.int32)
    probs, attention = model(windows)
    np.testing.assert_allclose(np.asarray(probs), np.asarray(tg.model(windows)), atol=1e-7)
    np.testing.assert_allclose(np.asarray(attention).sum(axis=1), 1.0, atol=1e-5)
