"""The JS trainer (web_demo/src/training/, `node web_demo/src/train.mjs`) against Python's `train`.

Data: for the same file, vocabulary, config, train_size and seed, Node's token array, target positions, train
/ validation split and windows equal Python's element for element (char and word level, line and largetext
mode, unknown characters, CRLF, blank lines, a header, negative and 64-bit seeds).
"""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

from helpers import WEB_DEMO, node_ready

pytestmark = [pytest.mark.node, pytest.mark.slow]

CORPUS = (
    "Title line\r\n"
    "The quick brown fox jumps over the lazy dog.\r\n"
    "\n"
    "   \n"
    "Pack my box with five dozen liquor jugs! 🦊 naïve café\n"
    "How vexingly quick daft zebras jump; (sphinx) of black quartz, judge my vow?\n"
    "short\n"
    "Ünïcødé ✓ and a tab\there, a word-level test: don't stop.\n"
)
# the vocabulary leaves out some characters of CORPUS, so unknown targets are skipped and windows hold zeros
VOCAB_TEXTS = ["The quick brown fox jumps over the lazy dog.", "Pack my box with five dozen liquor jugs!"]

CASES = {
    "char": ({"word_level": False, "max_length": 12, "single_text": False}, False, 0.8, "42", 4),
    "char-header": ({"word_level": False, "max_length": 40, "single_text": False}, True, 0.5, "-5", 8),
    "word": ({"word_level": True, "max_length": 6, "single_text": False}, False, 0.7, str(2**64 - 1), 2),
    "largetext": ({"word_level": False, "max_length": 10, "single_text": True}, False, 0.9, "7", 16),
    "no-validation": ({"word_level": False, "max_length": 5, "single_text": False}, False, 1.0, "3", 1),
}


def python_prepared(path, config_dict: dict, header: bool, train_size: float, seed: str, batch_size: int):
    from textgen_export.contract.config import ModelConfig
    from textgen_export.contract.vocabulary import Vocabulary
    from textgen_export.training.options import TrainOptions
    from textgen_export.training.prepare import prepare
    from textgen_export.training.tfdata import WindowSource
    from textgen_export.training.texts import read_largetext, read_texts

    config = ModelConfig(**config_dict)
    vocab = Vocabulary.from_texts(VOCAB_TEXTS, config.max_words, config.word_level, config.single_text)
    texts = [read_largetext(path)] if config.single_text else read_texts(path, header=header)
    options = TrainOptions(train_size=train_size, seed=int(seed), batch_size=batch_size)
    prepared = prepare(texts, vocab, config, options)
    windows, targets = WindowSource(prepared.corpus).pairs(prepared.train)
    return vocab, config, prepared, windows, targets


@pytest.mark.parametrize("case", list(CASES))
def test_node_prepares_the_same_windows_targets_and_split(case, tmp_path):
    config_dict, header, train_size, seed, batch_size = CASES[case]
    path = tmp_path / "corpus.txt"
    path.write_text(CORPUS, encoding="utf-8", newline="")
    vocab, config, prepared, windows, targets = python_prepared(
        path, config_dict, header, train_size, seed, batch_size
    )
    spec = tmp_path / "spec.json"
    spec.write_text(
        json.dumps(
            {
                "vocab": vocab.token_to_index,
                "config": config.to_dict(),
                "file": str(path),
                "header": header,
                "train_size": train_size,
                "seed": seed,
                "batch_size": batch_size,
            }
        ),
        encoding="utf-8",
    )
    done = subprocess.run(
        [node_ready(), "test/prepare_twin.mjs", str(spec)], cwd=WEB_DEMO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    node = json.loads(done.stdout)
    assert node["ids"] == prepared.corpus.ids.tolist()
    assert node["doc_starts"] == prepared.corpus.doc_starts.tolist()
    assert node["train"] == prepared.train.tolist()
    assert node["validation"] == prepared.validation.tolist()
    assert node["windows"] == windows.reshape(-1).tolist()
    assert node["targets"] == targets.tolist()
    # the case tests what it claims: unknown targets skipped, a split made (or not)
    assert 0 in prepared.corpus.ids[config.max_length :].tolist()
    assert (len(prepared.validation) > 0) == (train_size < 1)
    assert np.all(prepared.corpus.ids[prepared.train] != 0)
