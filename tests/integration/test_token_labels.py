"""Text no font or terminal shows by itself: `--attention-png` draws CJK with a font that holds it or as code points
(never empty boxes, never a warning), and interactive mode names invisible tokens (␣, ZWJ, VS16) instead of showing
blank options.  Run as a user does: the CLI on a model trained on such text, from the user's folder."""

from __future__ import annotations

import re
import sys

import pytest

from helpers import run_cli, run_in_terminal

TEXTS = [
    "你好世界。今天天气很好。我们去公园散步吧！",
    "中文文本生成测试。👍\u200d\ufe0f🏽",
    "hello ｗｏｒｌｄ",
]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A user's folder with `model/`: a small random char model whose vocabulary is TEXTS' characters."""
    from textgen_export.api.textgen import TextGen
    from textgen_export.contract.config import ModelConfig
    from textgen_export.contract.vocabulary import Vocabulary
    from textgen_export.keras.backend import keras

    keras.utils.set_random_seed(0)
    config = ModelConfig(rnn_size=16, max_length=12, dim_embeddings=8)
    vocab = Vocabulary.from_texts(TEXTS, config.max_words, config.word_level, config.single_text)
    folder = tmp_path_factory.mktemp("user")
    TextGen.new(config, vocab).save(folder / "model")
    return folder


def test_token_labels_name_what_draws_nothing():
    from textgen_export.contract.display import token_label

    shown = {
        t: token_label(t) for t in [" ", "\n", "\u200d", "\ufe0f", "\u0301", "\u2061", "  ", "你", "<s>"]
    }
    assert shown == {
        " ": "␣",
        "\n": "↵",
        "\u200d": "ZWJ",
        "\ufe0f": "VS16",
        "\u0301": "⟨U+0301⟩",
        "\u2061": "⟨U+2061⟩",
        "  ": "␣␣",
        "你": "你",
        "<s>": "<s>",
    }
    assert token_label("\x1b") == "\x1b" and token_label("\u202e") == "\u202e"  # escaped by the terminal rule


def test_attention_png_draws_cjk_without_warnings(workdir):
    done = run_cli(
        "generate", "--model", "model/", "--prefix", "你好", "--seed", "3", "--max-length", "12",
        "--attention-png", "attention.png", cwd=workdir,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"wrote attention\.png \(\d+ generated tokens × window 12\)\n", done.stderr), (
        done.stderr
    )
    assert (workdir / "attention.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_fonts_draw_each_character_or_name_its_code_point():
    from matplotlib import font_manager

    from textgen_export.sampling.glyphs import PlotFonts, _charmap

    fonts = PlotFonts(["你好", "ｗ", "abc"])
    for char in "你好ｗabc":
        label = fonts.label(char)
        if label == char:  # drawn: some font on the family list, not a placeholder font, holds it
            held = [
                e
                for e in font_manager.fontManager.ttflist
                if e.name in fonts.families and ord(char) in _charmap(e.fname)
            ]
            default = font_manager.findfont(font_manager.FontProperties(family=["sans-serif"]))
            assert held or ord(char) in _charmap(default), char
        else:
            assert label == f"⟨U+{ord(char):04X}⟩"
    assert not any(f.startswith("Last Resort") for f in fonts.families)


def test_interactive_options_name_invisible_tokens_on_a_terminal(workdir):
    argv = [
        sys.executable, "-m", "textgen_export", "generate", "--model", "model/", "--interactive",
        "--top-n", "60", "--temperature", "0", "--max-length", "4",
    ]  # fmt: skip
    status, shown, stderr = run_in_terminal(argv, b"s\n", cwd=workdir)
    assert status == 0, stderr
    options = re.findall(r"^\t\d+: (.*)$", shown, flags=re.M)
    assert len(options) >= 30, shown
    assert all(o.strip() for o in options), options  # no blank option
    assert {"ZWJ", "VS16", "␣"} <= set(options), options
