"""Helpers the tests share (import them with `from helpers import ...`): paths, the CLI in a subprocess,
tiny random models, exporting, and the Node/terminal runners.  Fixtures live in conftest.py."""

from __future__ import annotations

import hashlib
import json
import os
import pty
import shutil
import subprocess
import sys
import tempfile
import termios
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

TESTS = Path(__file__).resolve().parent


DATA = TESTS / "data"


REPO = TESTS.parent


WEB_DEMO = REPO / "web_demo"


def run_cli(
    *args,
    input_text: str | None = None,
    timeout: float = 300,
    cwd: Path = REPO,
    env=None,
    module: str = "textgen_export",
):
    """`python -m textgen_export ARGS` (or another `module`: the benchmark lab's `benchmarks`) in a subprocess,
    as a user runs it (stdout/stderr captured as text)."""
    return subprocess.run(
        [sys.executable, "-m", module, *map(str, args)],
        capture_output=True,
        text=True,
        input=input_text,
        cwd=cwd,
        env=env,
        timeout=timeout,
    )


def run_python(code: str, timeout: float = 300):
    """A Python snippet in a fresh interpreter (so what it imports is what a user's app would import)."""
    import textwrap

    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=timeout,
    )


def random_textgen(seed: int = 0, **config_changes):
    """A small untrained model with random weights over a char (or word) vocabulary built from a fixed text."""
    from textgen_export.api.textgen import TextGen
    from textgen_export.contract.config import ModelConfig
    from textgen_export.contract.vocabulary import Vocabulary
    from textgen_export.keras.backend import keras

    keras.utils.set_random_seed(seed)
    config = ModelConfig(**{"rnn_size": 16, "max_length": 12, "dim_embeddings": 8, **config_changes})
    texts = [
        "The quick brown fox jumps over the lazy dog.",
        "Pack my box with five dozen liquor jugs!",
        "How vexingly quick daft zebras jump; (sphinx) of black quartz, judge my vow?",
    ]
    vocab = Vocabulary.from_texts(texts, config.max_words, config.word_level, config.single_text)
    return TextGen.new(config, vocab)


def node_ready() -> str:
    """The node binary; fails (CI must not skip these tests) when node or the npm packages are missing."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed (the Node parity tests need Node 20+)")
    if not (WEB_DEMO / "node_modules" / "@tensorflow" / "tfjs").is_dir():
        pytest.fail("web_demo/node_modules is missing: run `make node-deps` (npm ci in web_demo/)")
    return node


def export(textgen, folder: Path, onnx: bool = True, tfjs: bool = True, quantize: str | None = None) -> Path:
    from textgen_export.export.writer import export_bundle

    export_bundle(
        textgen.model,
        textgen.vocab,
        textgen.config,
        folder,
        onnx=onnx,
        tfjs=tfjs,
        quantize=quantize,
        log=lambda _: None,
        labels=textgen.head_labels(),  # a context model's head goes into the bundle too
    )
    return folder


def copy_bundle(bundle: Path, folder: Path) -> Path:
    """A copy of a shared (session fixture's) bundle at `folder`, for a test that changes it or adds files."""
    shutil.copytree(bundle, folder)
    return folder


def context_textgen(seed: int = 0, labels=("animal", "fruit", "plant"), **config_changes):
    """`random_textgen` with a random context head over `labels` (a word-level model by default)."""
    from textgen_export.api.textgen import TextGen
    from textgen_export.contract.labels import ContextLabels
    from textgen_export.keras.backend import keras
    from textgen_export.keras.network import build_model

    base = random_textgen(seed=seed, **{"word_level": True, "max_length": 8, **config_changes})
    keras.utils.set_random_seed(seed + 100)
    model = build_model(base.config, base.vocab.num_classes, context_size=len(labels))
    for layer in model.layers:
        if layer.weights and layer.name != "context_output":
            layer.set_weights(base.model.get_layer(layer.name).get_weights())
    return TextGen(model, base.vocab, base.config, labels=ContextLabels(list(labels)))


def probe(bundle: Path) -> dict:
    return json.loads((bundle / "parity" / "probe.json").read_text(encoding="utf-8"))


def run_parity(
    bundle: Path, runtime: str, windows: list, jobs: list[dict], tmp: Path, fast: bool = True
) -> dict:
    """Run web_demo/test/parity.mjs: one runtime, one bundle; returns its JSON output.
    `fast=False` keeps ONNX Runtime off the padding fast path (model.onnx for every call)."""
    spec = tmp / f"spec-{runtime}-{fast}.json"
    spec.write_text(json.dumps({"windows": windows, "jobs": jobs, "fast": fast}), encoding="utf-8")
    done = subprocess.run(
        [node_ready(), "test/parity.mjs", str(bundle), runtime, str(spec)],
        cwd=WEB_DEMO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{runtime} on {bundle.name} failed:\n{done.stderr[-3000:]}"
    return json.loads(done.stdout)


def run_in_terminal(
    argv: list[str], answers: bytes = b"", cwd: Path = REPO, env=None, timeout: float = 300
) -> tuple[int, str, str]:
    """Run `argv` with stdin and stdout on one pseudo-terminal, as at a shell; `answers` are typed into it.
    Output post-processing and echo are off, so the bytes read are exactly those the program wrote.
    Returns (status, terminal output decoded as UTF-8, stderr)."""
    leader, follower = pty.openpty()
    attrs = termios.tcgetattr(follower)
    attrs[1] &= ~termios.OPOST  # no "\n" -> "\r\n"
    attrs[3] &= ~termios.ECHO
    termios.tcsetattr(follower, termios.TCSANOW, attrs)
    stderr = tempfile.TemporaryFile()  # a file, not a pipe: a chatty stderr cannot block the child
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=follower, stdout=follower, stderr=stderr)
    os.close(follower)
    os.write(leader, answers)  # the line discipline holds the lines until the program reads them
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    status = proc.wait(timeout=timeout)
    stderr.seek(0)
    return status, b"".join(chunks).decode("utf-8"), stderr.read().decode("utf-8", "replace")


def node_cli(*args, timeout: float = 120) -> subprocess.CompletedProcess:
    """The Node CLI (web_demo/src/cli.mjs) run from web_demo, output captured as text."""
    return subprocess.run(
        [node_ready(), "src/cli.mjs", *map(str, args)],
        cwd=WEB_DEMO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def resign(folder: Path, drop: tuple[str, ...] = (), add: tuple[str, ...] = ()) -> None:
    """Update the manifest's checksums as an attacker would, so only the new checks stand in the way."""
    manifest = json.loads((folder / "manifest.json").read_text())
    names = [n for n in manifest["files"] if n not in drop] + list(add)
    manifest["files"] = {
        n: {
            "size": (folder / n).stat().st_size,
            "sha256": hashlib.sha256((folder / n).read_bytes()).hexdigest(),
        }
        if (folder / n).is_file()
        else {"size": 0, "sha256": ""}
        for n in names
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))


class ApiServer:
    """`textgen-export serve BUNDLE --api --port 0` in a subprocess, run from `cwd` with a relative bundle path as a
    user types it; `url` once it listens.  Leaving the `with` block sends Ctrl-C and waits for the exit."""

    def __init__(self, bundle: Path, *args: str, cwd: Path | None = None):
        cwd = cwd or bundle.parent
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "textgen_export",
                "serve",
                os.path.relpath(bundle, cwd),
                "--api",
                "--port",
                "0",
                *args,
            ],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self.process.stdout.readline()
        if " at http://" not in line:
            self.process.kill()
            raise AssertionError(f"the server did not start: {line!r} {self.process.stderr.read()!r}")
        self.url = line.split(" at ", 1)[1].split("/ ", 1)[0]

    def stop(self, timeout: float = 120) -> tuple[int, str, str]:
        """Ctrl-C, then the exit status and what it printed after the first line."""
        if self.process.poll() is None:
            self.process.send_signal(2)
        out, err = self.process.communicate(timeout=timeout)
        return self.process.returncode, out, err

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            self.stop()
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


def add_private_files(folder: Path) -> Path:
    """Files a server must never publish, beside a bundle's own: a .git folder, a .env, unlisted notes."""
    (folder / ".git").mkdir()
    (folder / ".git" / "config").write_text("[remote] url = secret\n")
    (folder / ".env").write_text("TOKEN=secret\n")
    (folder / "notes.txt").write_text("private notes\n")
    return folder
