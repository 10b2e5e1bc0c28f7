"""The hostile-input table: each case is bad input a user (or an attacker) can hand the CLI.

Every case must end with exit status 2, exactly one line on stderr that names the problem, no traceback, no
output file left behind and nothing previously saved changed.  `tests/test_hostile_inputs.py` runs them;
`benchmarks/reliability.py` runs them too and writes benchmarks/results/reliability.json.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Case:
    id: str
    what: str
    argv: Callable[[Path, dict], list[str]]  # (tmp dir, fixtures) -> CLI arguments
    expect: str  # a piece of the one-line error
    outputs: tuple[str, ...] = field(default=())  # files (relative to tmp) that must not exist afterwards


def _write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def _legacy(tmp: Path, fx: dict, weights: bytes | None = None, vocab=None, config=None) -> list[str]:
    """generate with a legacy triple where one part is replaced by hostile content."""
    w = _write(tmp / "w.hdf5", weights) if weights is not None else fx["weights"]
    v = (
        _write(tmp / "v.json", vocab if isinstance(vocab, bytes | str) else json.dumps(vocab))
        if vocab is not None
        else fx["vocab"]
    )
    args = ["generate", "--weights", str(w), "--vocab", str(v), "--max-length", "5"]
    if config is not None:
        c = _write(tmp / "c.json", config if isinstance(config, bytes | str) else json.dumps(config))
        args += ["--config", str(c)]
    return args


def _model_dir_missing(tmp: Path, fx: dict) -> list[str]:
    folder = tmp / "model"
    folder.mkdir()
    shutil.copy(fx["vocab"], folder / "vocab.json")
    return ["generate", "--model", str(folder)]


def _gen(*extra: str) -> Callable[[Path, dict], list[str]]:
    return lambda tmp, fx: ["generate", "--max-length", "5", *extra]


CORE_CASES = [
    Case(
        "weights-missing",
        "weights file does not exist",
        lambda t, fx: ["generate", "--weights", str(t / "nope.hdf5"), "--vocab", str(fx["vocab"])],
        "not found",
    ),
    Case(
        "weights-zero-byte", "0-byte .hdf5", lambda t, fx: _legacy(t, fx, weights=b""), "not a readable HDF5"
    ),
    Case(
        "weights-truncated",
        "first half of the pretrained .hdf5",
        lambda t, fx: _legacy(t, fx, weights=fx["weights"].read_bytes()[:700_000]),
        "weights file",
    ),
    Case(
        "weights-not-hdf5",
        "a text file named .hdf5",
        lambda t, fx: _legacy(t, fx, weights=b"hello\n" * 100),
        "not a readable HDF5",
    ),
    Case(
        "weights-vs-vocab",
        "weights whose shapes disagree with the vocab",
        lambda t, fx: _legacy(t, fx, vocab={"a": 1, "b": 2, "<s>": 3}),
        "layer 'embedding' has shape",
    ),
    Case(
        "weights-vs-config",
        "bidirectional config for unidirectional weights",
        lambda t, fx: _legacy(t, fx, config={"rnn_bidirectional": True}),
        "rnn_bidirectional",
    ),
    Case(
        "weights-vs-config-size",
        "rnn_size in the config disagrees with the weights",
        lambda t, fx: _legacy(t, fx, config={"rnn_size": 64}),
        "layer 'rnn_1' has shape",
    ),
    Case(
        "vocab-not-object",
        "vocab JSON is a list",
        lambda t, fx: _legacy(t, fx, vocab=["a", "b"]),
        "must be a JSON object",
    ),
    Case(
        "vocab-duplicate-index",
        "two tokens share an index",
        lambda t, fx: _legacy(t, fx, vocab={"a": 1, "b": 1}),
        "used twice",
    ),
    Case(
        "vocab-gaps",
        "indices with gaps",
        lambda t, fx: _legacy(t, fx, vocab={"a": 1, "b": 5}),
        "exactly 1..2",
    ),
    Case(
        "vocab-non-integer-index",
        "an index that is a string",
        lambda t, fx: _legacy(t, fx, vocab={"a": "1"}),
        "must be an integer",
    ),
    Case(
        "vocab-huge-claim",
        "a vocab claiming index 10^7",
        lambda t, fx: _legacy(t, fx, vocab={"a": 1, "b": 10_000_000}),
        "exactly 1..2",
    ),
    Case(
        "vocab-not-json",
        "vocab file is binary garbage",
        lambda t, fx: _legacy(t, fx, vocab=b"\x00\xff\xfe" * 50),
        "not valid JSON",
    ),
    Case("vocab-empty-file", "0-byte vocab", lambda t, fx: _legacy(t, fx, vocab=b""), "not valid JSON"),
    Case(
        "config-negative",
        "negative rnn_size",
        lambda t, fx: _legacy(t, fx, config={"rnn_size": -1}),
        "rnn_size must be an integer from 1",
    ),
    Case(
        "config-absurd",
        "rnn_layers of 10^9",
        lambda t, fx: _legacy(t, fx, config={"rnn_layers": 10**9}),
        "rnn_layers must be an integer from 1",
    ),
    Case(
        "config-wrong-type",
        "max_length as a string",
        lambda t, fx: _legacy(t, fx, config={"max_length": "40"}),
        "max_length must be an integer",
    ),
    Case(
        "config-not-object",
        "config JSON is a number",
        lambda t, fx: _legacy(t, fx, config="42"),
        "config must be a JSON object",
    ),
    Case("temperature-nan", "temperature NaN", _gen("--temperature", "nan"), "temperature must be between"),
    Case(
        "temperature-negative",
        "temperature -0.5",
        _gen("--temperature", "-0.5"),
        "temperature must be between",
    ),
    Case(
        "temperature-huge", "temperature 1e30", _gen("--temperature", "1e30"), "temperature must be between"
    ),
    Case(
        "prefix-huge",
        "a prefix of 10^6 characters",
        lambda t, fx: ["generate", "--prefix", "a" * 1_000_000],
        "prefix is 1000000 characters",
    ),
    Case(
        "max-gen-length-zero",
        "max_gen_length 0",
        lambda t, fx: ["generate", "--max-length", "0"],
        "max_gen_length must be from 1",
    ),
    Case(
        "max-gen-length-huge",
        "max_gen_length 10^9",
        lambda t, fx: ["generate", "--max-length", str(10**9)],
        "max_gen_length must be from 1",
    ),
    Case(
        "top-n-zero",
        "interactive with top_n 0",
        lambda t, fx: ["generate", "--interactive", "--top-n", "0"],
        "top_n must be",
    ),
    Case(
        "out-unwritable",
        "--out inside a read-only filesystem",
        lambda t, fx: ["generate", "--max-length", "5", "--out", "/proc/textgen-export-test/out.txt"],
        "cannot",
    ),
    Case(
        "model-dir-missing",
        "--model pointing nowhere",
        lambda t, fx: ["generate", "--model", str(t / "none")],
        "model directory not found",
    ),
    Case(
        "model-dir-incomplete", "model directory without weights", _model_dir_missing, "has no weights.hdf5"
    ),
]

CASES: list[Case] = list(CORE_CASES)
