"""`textgen-export train` as users name and feed it: file names and --name with spaces or accents, any integer
seed `generate` takes, an epoch count a checkpoint can resume, files that are not regular files."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from helpers import run_cli, run_python
from textgen_export.contract.config import ModelConfig

TINY = ["--new-model", "--rnn-size", "8", "--rnn-layers", "1", "--max-length", "10", "--dim-embeddings", "8"]
TINY += ["--epochs", "1", "--gen-epochs", "0", "--batch-size", "16"]


def lines(n: int = 60, seed: int = 1) -> str:
    rng = random.Random(seed)
    words = "the quick brown fox jumps over lazy dog and cat".split()
    return "\n".join(" ".join(rng.choice(words) for _ in range(6)) for _ in range(n)) + "\n"


def train(cwd: Path, *args, timeout: float = 300):
    """The CLI in a subprocess from `cwd`, relative paths, as a user types it."""
    return run_cli("train", *args, cwd=cwd, timeout=timeout)


@pytest.mark.parametrize(
    "file, name, expected",
    [
        ("my corpus.txt", None, "my corpus"),  # the default name: the file's stem, spaces kept
        ("é.txt", "My model ✓", "My model ✓"),
    ],
)
def test_any_file_name_and_any_name_train_and_keep_the_users_name(tmp_path, file, name, expected):
    (tmp_path / file).write_text(lines(), encoding="utf-8")
    result = train(tmp_path, file, *TINY, *(["--name", name] if name else []), "--out", "out model")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert ModelConfig.load(tmp_path / "out model" / "config.json").name == expected
    generated = run_cli("generate", "--model", "out model", "-n", "1", "--seed", "1", cwd=tmp_path)
    assert generated.returncode == 0 and generated.stdout.strip(), generated.stderr


def test_the_drop_in_trains_a_model_named_with_spaces(tmp_path):
    """textgenrnn(name=...) names its files; a name Keras cannot take as a scope still trains."""
    (tmp_path / "texts.txt").write_text(lines(), encoding="utf-8")
    done = run_python(
        f"""
        import os
        os.chdir({str(tmp_path)!r})
        from textgen_export import textgenrnn
        tg = textgenrnn(name="my model é")
        tg.train_from_file("texts.txt", new_model=True, num_epochs=1, gen_epochs=0, rnn_size=8, rnn_layers=1,
                           max_length=10, dim_embeddings=8, batch_size=16, verbose=0)
        print(tg.generate(1, temperature=0.2, return_as_list=True, max_gen_length=10))
        """
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "my model é_weights.hdf5").is_file()
    assert json.loads((tmp_path / "my model é_config.json").read_text())["name"] == "my model é"
