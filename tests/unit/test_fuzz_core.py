"""Property tests (hypothesis): vocabulary round-trip, window encoding, JSON and weight-file readers."""

import json

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from textgen_export.contract.config import ModelConfig
from textgen_export.contract.tokens import detokenize, tokenize
from textgen_export.contract.vocabulary import Vocabulary
from textgen_export.errors import UserError
from textgen_export.keras.h5_weights import read_weights

texts = st.lists(st.text(max_size=40), min_size=1, max_size=5)


@given(texts, st.booleans(), st.integers(1, 50))
@settings(max_examples=60, deadline=None)
def test_vocabulary_json_round_trip(tmp_path_factory, corpus, word_level, max_words):
    assume(any(tokenize(t, word_level) for t in corpus))
    vocab = Vocabulary.from_texts(corpus, max_words, word_level)
    path = tmp_path_factory.mktemp("v") / "vocab.json"
    vocab.save(path)
    again = Vocabulary.load(path, word_level)
    assert again.token_to_index == vocab.token_to_index
    assert sorted(vocab.token_to_index.values()) == list(range(1, len(vocab) + 1))


@given(
    st.lists(st.lists(st.sampled_from(["a", "b", "c", "zz"]), max_size=30), min_size=1, max_size=4),
    st.integers(1, 20),
)
@settings(max_examples=80, deadline=None)
def test_windows_are_last_tokens_left_padded(token_lists, length):
    vocab = Vocabulary({"a": 1, "b": 2, "c": 3})
    windows = vocab.windows(token_lists, length)
    for row, tokens in zip(windows, token_lists, strict=True):
        ids = [vocab.token_to_index.get(t, 0) for t in tokens][-length:]
        assert row.tolist() == [0] * (length - len(ids)) + ids


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60))
@settings(max_examples=100, deadline=None)
def test_char_level_tokenize_detokenize_is_identity(text):
    assert detokenize(tokenize(text, False), False) == text


@given(st.binary(max_size=200))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_json_readers_never_crash_on_random_bytes(tmp_path, data):
    path = tmp_path / "x.json"
    path.write_bytes(data)
    for load in (lambda: ModelConfig.load(path), lambda: Vocabulary.load(path)):
        try:
            load()
        except UserError as exc:
            assert "\n" not in str(exc)


@given(
    st.dictionaries(
        st.text(max_size=5), st.one_of(st.integers(-3, 10), st.text(max_size=3), st.none()), max_size=8
    )
)
@settings(max_examples=100, deadline=None)
def test_vocab_validation_accepts_only_dense_indices(mapping):
    try:
        vocab = Vocabulary(mapping)
    except UserError:
        ints = all(isinstance(v, int) and not isinstance(v, bool) for v in mapping.values())
        dense = ints and sorted(mapping.values()) == list(range(1, len(mapping) + 1))
        assert not (mapping and dense), f"a valid vocabulary was refused: {mapping}"
        return
    assert sorted(vocab.token_to_index.values()) == list(range(1, len(mapping) + 1))


@pytest.fixture(scope="module")
def small_weights_file(tmp_path_factory):
    from helpers import random_textgen
    from textgen_export.keras.h5_weights import write_weights

    tg = random_textgen(seed=3)
    path = tmp_path_factory.mktemp("w") / "w.hdf5"
    write_weights(tg.model, path)
    return path.read_bytes()


@given(st.data())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_mutated_weight_files_fail_cleanly(tmp_path, small_weights_file, data):
    blob = bytearray(small_weights_file)
    for _ in range(data.draw(st.integers(1, 20))):
        blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(len(blob) // 2, len(blob)))
    path = tmp_path / "m.hdf5"
    path.write_bytes(bytes(blob[:cut]))
    try:
        weights = read_weights(path)
    except UserError as exc:
        assert "\n" not in str(exc)
    else:
        assert all(isinstance(a, np.ndarray) for arrays in weights.values() for a in arrays)


def test_huge_claimed_dataset_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.hdf5"
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = np.array([b"embedding"])
        group = f.create_group("embedding")
        group.attrs["weight_names"] = np.array([b"embedding/embeddings:0"])
        group.create_dataset(
            "embedding/embeddings:0", shape=(10**7, 10**3), dtype="f4"
        )  # sparse, never written
    with pytest.raises(UserError, match="too large"):
        read_weights(path)


def test_config_rejects_absurd_sizes(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"rnn_size": -5}), encoding="utf-8")
    with pytest.raises(UserError, match="rnn_size must be an integer from 1 to 4096"):
        ModelConfig.load(path)
