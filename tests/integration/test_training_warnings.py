"""Corpora a model trains on without learning them get a warning before training: fine-tuning on text mostly
outside the model's vocabulary (CJK for the English pretrained model), word level on text without spaces."""

from __future__ import annotations

import random

from helpers import run_cli
from textgen_export.contract.config import ModelConfig
from textgen_export.contract.vocabulary import Vocabulary
from textgen_export.datasets.python_docstrings import harvest
from textgen_export.keras import pretrained
from textgen_export.training.corpus_checks import corpus_warnings

CJK = "今天天气很好我们去公园散步吧他说这是一个好主意明天也许会下雨所以要带伞"


def cjk_lines(n: int = 60) -> str:
    rng = random.Random(4)
    return "\n".join("".join(rng.choice(CJK) for _ in range(20)) + "。" for _ in range(n)) + "\n"


def test_fine_tuning_on_text_outside_the_vocabulary_warns_before_training(tmp_path):
    (tmp_path / "中文.txt").write_text(cjk_lines(), encoding="utf-8")
    args = [
        "--epochs",
        "1",
        "--steps-per-epoch",
        "2",
        "--gen-epochs",
        "0",
        "--batch-size",
        "16",
        "--out",
        "m",
    ]
    result = run_cli("train", "中文.txt", *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    warning = next(i for i, line in enumerate(lines) if line.startswith("warning:"))
    assert "% of the characters" in lines[warning] and "--new-model" in lines[warning], lines[warning]
    assert int(lines[warning].split("%")[0].split()[-1]) >= 90
    assert warning < next(i for i, line in enumerate(lines) if line.startswith("wrote"))


def test_word_level_on_text_without_spaces_warns_and_suggests_characters(tmp_path):
    (tmp_path / "中文.txt").write_text(cjk_lines(), encoding="utf-8")
    tiny = ["--rnn-size", "8", "--rnn-layers", "1", "--max-length", "5", "--dim-embeddings", "8"]
    args = ["--new-model", "--word-level", *tiny, "--epochs", "1", "--gen-epochs", "0", "--batch-size", "4"]
    result = run_cli("train", "中文.txt", *args, "--out", "m", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "occur only once" in warnings[0] and "--word-level" in warnings[0], warnings


def test_english_text_gets_no_warning():
    """The pretrained vocabulary holds English text; docstrings' words recur (a small corpus: 13 % once)."""
    texts = harvest(limit=200)
    files = pretrained.paths()
    vocab = Vocabulary.load(files["vocab"], word_level=False)
    assert corpus_warnings(texts, vocab, fine_tuning=True, new_word_level=False) == []
    words = Vocabulary.from_texts(texts, 10000, True, False)
    assert corpus_warnings(texts, words, fine_tuning=False, new_word_level=True) == []
    assert ModelConfig.load(files["config"]).word_level is False
