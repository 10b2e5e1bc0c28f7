"""The training data path: corpus encoding and tf.data windows equal a naive construction, pair for pair."""

from __future__ import annotations

import numpy as np
import pytest

from textgen_export.contract.config import ModelConfig
from textgen_export.contract.labels import ContextLabels
from textgen_export.contract.tokens import META_TOKEN, tokenize
from textgen_export.contract.vocabulary import Vocabulary
from textgen_export.training.corpus import build_corpus, new_vocabulary, text_chunks, token_chunks
from textgen_export.training.options import TrainOptions
from textgen_export.training.prepare import prepare, split_positions
from textgen_export.training.schedule import linear_decay
from textgen_export.training.tfdata import WindowSource, dataset

TEXTS = ["ab", "hello world", "x", "abracadabra, said the zebra!", "Élan vital ☃"]


def naive_pairs(texts, vocab, max_length, single_text):
    """docs/design.md §3 literally: every position's window (left-padded) and the next token, OOV targets skipped."""
    pairs = []
    for text in texts:
        tokens = tokenize(text, vocab.word_level)
        seq = tokens if single_text else [META_TOKEN, *tokens, META_TOKEN]
        for j in range(len(seq) - 1):
            window = seq[max(0, j + 1 - max_length) : j + 1]
            if single_text and j + 1 < max_length:
                continue  # would contain padding
            target = vocab.token_to_index.get(seq[j + 1], 0)
            if target == 0:
                continue
            ids = vocab.encode(window)
            pairs.append((tuple([0] * (max_length - len(ids)) + ids), target))
    return sorted(pairs)


def pipeline_pairs(texts, vocab, max_length, single_text, batch_size=7):
    corpus = build_corpus(texts, vocab, max_length, single_text)
    source = WindowSource(corpus)
    pairs = []
    for windows, targets in dataset(source, corpus.positions, batch_size, shuffle=True, seed=3):
        pairs += [
            (tuple(int(v) for v in w), int(t)) for w, t in zip(windows.numpy(), targets.numpy(), strict=True)
        ]
    return sorted(pairs)


@pytest.mark.parametrize("word_level", [False, True])
@pytest.mark.parametrize("single_text", [False, True])
@pytest.mark.parametrize("max_words", [10000, 6])  # 6: most tokens are out of vocabulary (index 0)
def test_windows_equal_the_naive_construction(word_level, single_text, max_words):
    config = ModelConfig(max_length=5, word_level=word_level, single_text=single_text, max_words=max_words)
    vocab = new_vocabulary(TEXTS, config)
    assert pipeline_pairs(TEXTS, vocab, 5, single_text) == naive_pairs(TEXTS, vocab, 5, single_text)


def test_fine_tuning_vocabulary_keeps_unknown_chars_as_padding():
    vocab = Vocabulary({"a": 1, "b": 2, META_TOKEN: 3})
    texts = ["abcab", "cc", "ba"]
    assert pipeline_pairs(texts, vocab, 3, False) == naive_pairs(texts, vocab, 3, False)


def test_new_vocabulary_equals_from_texts_even_across_chunks(monkeypatch):
    import textgen_export.training.corpus as corpus_module

    monkeypatch.setattr(corpus_module, "CHUNK_CHARS", 7)  # many chunk boundaries inside the texts
    for word_level in (False, True):
        config = ModelConfig(word_level=word_level)
        expected = Vocabulary.from_texts(TEXTS, config.max_words, word_level)
        assert new_vocabulary(TEXTS, config).token_to_index == expected.token_to_index
        for text in TEXTS:
            assert "".join(text_chunks(text, word_level)) == text
            flat = [t for chunk in token_chunks([text], word_level) for t in chunk]
            assert flat == tokenize(text, word_level)
        vocab = expected
        assert pipeline_pairs(TEXTS, vocab, 4, False) == naive_pairs(TEXTS, vocab, 4, False)


def test_context_labels_follow_their_document():
    config = ModelConfig(max_length=4)
    vocab = new_vocabulary(TEXTS, config)
    corpus = build_corpus(TEXTS, vocab, 4, False)
    labels = np.array([0, 1, 2, 0, 1], dtype=np.int32)
    source = WindowSource(corpus, np.eye(3, dtype=np.float32)[labels])
    got = []
    for (_windows, onehot), (targets, same) in dataset(source, corpus.positions, 5, shuffle=False):
        assert np.array_equal(targets, same)  # both outputs learn the next token
        assert np.all(onehot.numpy().sum(axis=1) == 1)
        got += onehot.numpy().argmax(axis=1).tolist()
    # Unshuffled, pairs come in document order: document k gives len(tokens) + 1 pairs, all labelled k.
    assert got == labels.repeat([len(t) + 1 for t in TEXTS]).tolist()


def test_several_labels_per_text_train_as_multi_hot():
    config = ModelConfig(max_length=4)
    vocab = new_vocabulary(TEXTS, config)
    options = TrainOptions(batch_size=2)
    prepared = prepare(TEXTS, vocab, config, options, ["b", "a|b", ["c"], "a", "c|a"])
    assert prepared.labels.names == ["a", "b", "c"]
    assert prepared.context.tolist() == [[0, 1, 0], [1, 1, 0], [0, 0, 1], [1, 0, 0], [1, 0, 1]]
    kept = prepare(TEXTS, vocab, config, options, ["b"] * 5, keep_labels=ContextLabels(["b", "a"]))
    assert kept.labels.names == ["b", "a"] and kept.context.tolist() == [[1, 0]] * 5  # the model's own order
    fresh = prepare(TEXTS, vocab, config, options, ["z"] * 5, keep_labels=ContextLabels(["b", "a"]))
    assert fresh.labels.names == ["z"]


def test_compact_dtypes_and_one_token_array():
    vocab = new_vocabulary(TEXTS, ModelConfig())
    corpus = build_corpus(TEXTS, vocab, 40, False)
    assert corpus.ids.dtype == np.uint16 and corpus.positions.dtype == np.uint32
    assert corpus.num_tokens == sum(len(t) + 2 for t in TEXTS) == len(corpus.ids) - 40


def test_split_is_a_partition_and_reshuffling_keeps_the_pairs():
    positions = np.arange(100, dtype=np.uint32)
    train, val = split_positions(positions, 0.9, 0)
    assert len(train) == 90 and len(val) == 10
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(100))
    full, none = split_positions(np.arange(10, dtype=np.uint32), 1.0, 0)
    assert len(full) == 10 and len(none) == 0


def test_learning_rate_decays_linearly_per_epoch():
    rate = linear_decay(4)
    assert [rate(e) for e in range(4)] == pytest.approx([4e-3, 3e-3, 2e-3, 1e-3])
