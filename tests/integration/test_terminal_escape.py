"""Model text never drives the user's terminal: `--interactive`, training's sample lines and the textgenrnn
drop-in's printed texts escape control characters when stdout is a terminal (a real pseudo-terminal here), and
give the exact text to a pipe, as `generate` does (files/text.py `shown_on`: one rule)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import REPO, export, run_cli, run_in_terminal

# What a hostile training text holds: clear screen, retitle the window (OSC ... BEL), C1 CSI, a bidi override.
HOSTILE_LINE = "\x1b[2J\x1b]0;pwned\x07\x9b31m\u202eok"
# Control characters that `for_terminal` escapes: all C0 but tab and newline, DEL, C1, bidi overrides.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# What Keras' own progress bar writes to a terminal: SGR styling (bold, colours, reset), backspace, return.
KERAS_PROGRESS_BAR = re.compile("\x1b\\[[0-9;]*m|[\b\r]")
TINY = ["--new-model", "--rnn-size", "8", "--rnn-layers", "1", "--max-length", "8", "--dim-embeddings", "8"]


def raw_controls(text: str) -> list[str]:
    return sorted({repr(c) for c in CONTROL.findall(text)})


@pytest.fixture(scope="module")
def hostile_bundle(tmp_path_factory) -> Path:
    """A char-level bundle whose four most likely next tokens are ESC, BEL, C1 CSI and a bidi override (output
    bias only, kernel zero: the ranking is known and the same at every position); `<s>` ranks below them."""
    from textgen_export.api.textgen import TextGen
    from textgen_export.contract.config import ModelConfig
    from textgen_export.contract.vocabulary import Vocabulary
    from textgen_export.keras.backend import keras

    keras.utils.set_random_seed(0)
    config = ModelConfig(rnn_size=8, rnn_layers=1, max_length=6, dim_embeddings=4)
    vocab = Vocabulary({"\x1b": 1, "\x07": 2, "\x9b": 3, "\u202e": 4, "a": 5, "<s>": 6})
    tg = TextGen.new(config, vocab)
    output = tg.model.get_layer("output")
    kernel, bias = output.get_weights()
    bias[:] = [-9, 9, 8, 7, 6, 1, 0]
    output.set_weights([kernel * 0, bias])
    return export(tg, tmp_path_factory.mktemp("hostile") / "bundle", tfjs=False)


INTERACTIVE = ["--interactive", "--top-n", "4", "--temperature", "0", "--max-length", "10"]
# Pick ESC, ESC, BEL, C1 CSI, the bidi override, then stop.
ANSWERS = b"1\n1\n2\n3\n4\ns\n"
CHOSEN = "\x1b\x1b\x07\x9b\u202e"


def test_interactive_mode_escapes_options_and_text_on_a_terminal(hostile_bundle):
    argv = [sys.executable, "-m", "textgen_export", "generate", "--bundle", str(hostile_bundle), *INTERACTIVE]
    status, shown, stderr = run_in_terminal(argv, ANSWERS)
    assert status == 0, stderr
    assert raw_controls(shown) == [], shown  # nothing but tab and newline drives the terminal
    # The options, the progress line and the final text appear in their visible escaped form.
    assert "\t1: \\x1b\n\t2: \\x07\n\t3: \\x9b\n\t4: \\u202e\n" in shown, shown
    assert "Progress: \\x1b\\x1b\\x07\\x9b\\u202e\n" in shown, shown
    assert shown.endswith("\n\\x1b\\x1b\\x07\\x9b\\u202e\n"), shown


def test_interactive_mode_gives_a_pipe_the_exact_text(hostile_bundle):
    done = run_cli("generate", "--bundle", hostile_bundle, *INTERACTIVE, input_text=ANSWERS.decode())
    assert done.returncode == 0, done.stderr
    assert f"Progress: {CHOSEN}\n" in done.stdout and done.stdout.endswith(f"> {CHOSEN}\n"), done.stdout


def test_interactive_mode_to_a_file_keeps_the_exact_text(hostile_bundle, tmp_path):
    out = tmp_path / "texts.txt"
    argv = [sys.executable, "-m", "textgen_export", "generate", "--bundle", str(hostile_bundle), *INTERACTIVE]
    status, shown, stderr = run_in_terminal([*argv, "--out", str(out)], ANSWERS)
    assert status == 0 and raw_controls(shown) == [], (shown, stderr)
    assert out.read_text(encoding="utf-8") == f"{CHOSEN}\n"


def test_attention_png_run_escapes_the_text_it_prints_on_a_terminal(hostile_bundle, tmp_path):
    png = tmp_path / "attention.png"
    args = ["generate", "--bundle", str(hostile_bundle), "--temperature", "0", "--max-length", "4"]
    status, shown, stderr = run_in_terminal(
        [sys.executable, "-m", "textgen_export", *args, "--attention-png", str(png)]
    )
    assert status == 0 and png.is_file(), stderr
    assert shown == "\\x1b\\x1b\\x1b\n", shown  # greedy: ESC (index 1, the highest bias) three times


@pytest.fixture(scope="module")
def hostile_corpus(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "hostile.txt"
    path.write_text(f"{HOSTILE_LINE}\n" * 150, encoding="utf-8")
    return path


def sample_lines(output: str) -> list[str]:
    """The lines training printed as samples: after each banner ('####', 'Temperature: T', '####'), up to the
    next banner or a '== ' marker line."""
    lines, inside, previous = [], False, ""
    for line in output.split("\n"):
        if line == "#" * 20:
            inside = previous.startswith("Temperature: ")
        elif line.startswith(("Temperature: ", "== ")):
            inside = False
        elif inside:
            lines.append(line)
        previous = line
    return lines


def test_training_samples_are_escaped_on_a_terminal_and_exact_to_a_pipe(hostile_corpus, tmp_path):
    args = ["train", str(hostile_corpus), *TINY, "--epochs", "1", "--seed", "1", "--batch-size", "64"]
    argv = [sys.executable, "-m", "textgen_export", *args, "--out", str(tmp_path / "tty")]
    status, shown, stderr = run_in_terminal(argv)
    assert status == 0, stderr
    assert "Temperature: 0.2" in shown, shown
    # Keras' progress bar styles and rewinds its line; nothing else may drive the terminal.
    assert raw_controls(KERAS_PROGRESS_BAR.sub("", shown)) == [], shown
    samples = "\n".join(sample_lines(shown))
    assert raw_controls(samples) == [] and "\\x1b" in samples, shown

    piped = run_cli(*args, "--out", tmp_path / "pipe")
    assert piped.returncode == 0, piped.stderr
    assert "\x1b" in "\n".join(sample_lines(piped.stdout)), piped.stdout  # a pipe gets the exact text


DROP_IN = """
import sys
from textgen_export import textgenrnn
model = textgenrnn(name="hostile")
model.train_from_file(
    sys.argv[1], new_model=True, num_epochs=1, gen_epochs=1, batch_size=64, rnn_size=8, rnn_layers=1,
    max_length=8, dim_embeddings=8, max_gen_length=30, seed=1,
)
print("== generate ==")
model.generate(3, temperature=0.2, max_gen_length=30, seed=1)
"""


def test_drop_in_training_samples_and_generate_are_escaped_on_a_terminal(hostile_corpus, tmp_path):
    script = tmp_path / "drop_in.py"
    script.write_text(DROP_IN, encoding="utf-8")
    argv = [sys.executable, str(script), str(hostile_corpus)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # this checkout's package; the script writes into tmp_path
    status, shown, stderr = run_in_terminal(argv, cwd=tmp_path, env=env)
    assert status == 0, stderr
    assert raw_controls(KERAS_PROGRESS_BAR.sub("", shown)) == [], shown
    samples = "\n".join(sample_lines(shown))
    generated = shown.split("== generate ==\n", 1)[1]
    for text in (samples, generated):
        assert raw_controls(text) == [] and "\\x1b" in text, shown

    piped = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, timeout=300)
    assert piped.returncode == 0, piped.stderr
    assert b"\x1b" in piped.stdout.split(b"== generate ==\n", 1)[1], piped.stdout  # a pipe: the exact text
