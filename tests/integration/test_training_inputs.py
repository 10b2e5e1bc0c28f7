"""`textgen-export train` as users name and feed it: file names and --name with spaces or accents, any integer
seed `generate` takes, an epoch count a checkpoint can resume, files that are not regular files."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import REPO, run_cli, run_python
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


def weights_of(folder: Path):
    from textgen_export import TextGen

    return TextGen.load(folder).model.get_weights()


def test_every_seed_generate_takes_trains_folded_as_generate_folds_it(tmp_path, monkeypatch):
    """generate folds any integer seed modulo 2**64 (sampling.rng.fold_seed); train folds it the same way, so
    -1 and 2**64 - 1 train the same weights, and 10**30 (given to the CLI in a subprocess) those of its fold."""
    from textgen_export.cli import main
    from textgen_export.sampling.rng import fold_seed

    (tmp_path / "corpus.txt").write_text(lines(), encoding="utf-8")
    result = train(tmp_path, "corpus.txt", *TINY, "--seed", str(10**30), "--out", "huge")
    assert result.returncode == 0, result.stderr
    monkeypatch.chdir(tmp_path)
    for name, seed in (("minus", -1), ("top", 2**64 - 1), ("folded", fold_seed(10**30)), ("2^32", 2**32)):
        assert main(["train", "corpus.txt", *TINY, "--seed", str(seed), "--out", name]) == 0, name
    for a, b in (("minus", "top"), ("huge", "folded")):
        for x, y in zip(weights_of(tmp_path / a), weights_of(tmp_path / b), strict=True):
            assert abs(x - y).max() < 1e-6, (a, b)


def test_a_2_gb_binary_file_is_refused_from_its_first_megabyte(tmp_path):
    """A sparse 2 GB file of NUL bytes: refused as binary with one line, under a 1.5 GB address-space limit
    (reading it whole would need 2 GB and more)."""
    import resource

    (tmp_path / "big.bin").touch()
    os.truncate(tmp_path / "big.bin", 2 * 1024**3)

    def limit_memory():
        resource.setrlimit(resource.RLIMIT_AS, (1536 * 1024**2, 1536 * 1024**2))

    result = subprocess.run(
        [sys.executable, "-m", "textgen_export", "train", "big.bin", *TINY, "--out", "model"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO), "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
        preexec_fn=limit_memory,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "looks binary" in result.stderr, result.stderr
    assert "first 1,048,573 bytes" in result.stderr and not (tmp_path / "model").exists()


def test_a_write_failure_in_the_first_epoch_leaves_nothing_that_blocks_the_next_run(tmp_path):
    """A file-size limit (as a full disk) makes the first checkpoint fail: one line, exit 2, and no partial
    OUT/checkpoint/ that would make the next run refuse --out."""
    import resource

    (tmp_path / "corpus.txt").write_text(lines(), encoding="utf-8")

    def limit_file_size():  # config.json and vocab.json fit; the weights of the checkpoint do not
        resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))

    result = subprocess.run(
        [sys.executable, "-m", "textgen_export", "train", "corpus.txt", *TINY, "--out", "model"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        preexec_fn=limit_file_size,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2, result.stderr
    assert "too large" in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert not (tmp_path / "model").exists()


def mapped(pid: int, library: str) -> bool:
    try:
        return library in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def ctrl_c_as_in_a_shell() -> None:
    """The child starts with SIGINT neither ignored nor blocked, as a shell starts a command (this test
    process, which has run TensorFlow, need not be in that state, and a child inherits both)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@pytest.mark.parametrize("library", ["numpy", "tensorflow"])
def test_ctrl_c_while_starting_is_one_line(tmp_path, library):
    """Ctrl-C while the commands load (numpy being mapped) or while TensorFlow loads: one line, no traceback."""
    (tmp_path / "corpus.txt").write_text(lines(), encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "textgen_export", "train", "corpus.txt", *TINY, "--out", "model"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ctrl_c_as_in_a_shell,
    )
    deadline = time.monotonic() + 120
    while not mapped(proc.pid, library) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    for _press in range(10):  # a library's bare `except:` can swallow one Ctrl-C while importing: press again
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=5)
            break
        except subprocess.TimeoutExpired:
            continue
    else:
        proc.kill()
        raise AssertionError("Ctrl-C did not end the run")
    assert "Traceback" not in err, err
    assert proc.returncode == 130 and err.strip().endswith("interrupted"), err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "model").exists(), err
