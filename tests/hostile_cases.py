"""The hostile-input table: each case is bad input a user (or an attacker) can hand the CLI.

Every case must end with exit status 2, exactly one line on stderr that names the problem, no traceback, no
output file left behind and nothing previously saved changed.  `tests/integration/test_hostile_inputs.py` runs them;
`make reliability` counts them (benchmarks/reliability.py, from the JUnit report).  API_CASES are the
same promise for the Python API (one-line `UserError`).

tests/HOSTILE_INPUTS.md lists every case; regenerate it after changing this file with

    .venv/bin/python tests/hostile_cases.py

(tests/integration/test_hostile_inputs.py fails while the two disagree).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


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
        "--max-length must be from 1",
    ),
    Case(
        "max-gen-length-huge",
        "max_gen_length 10^9",
        lambda t, fx: ["generate", "--max-length", str(10**9)],
        "--max-length must be from 1",
    ),
    Case(
        "top-n-zero",
        "interactive with top_n 0",
        lambda t, fx: ["generate", "--interactive", "--top-n", "0"],
        "--top-n must be",
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


# -- helpers for the cases below ----------------------------------------------------------------------------------

TINY_TRAIN = ["--new-model", "--rnn-size", "16", "--max-length", "10", "--dim-embeddings", "8"]
TINY_TRAIN += ["--epochs", "1", "--gen-epochs", "0", "--batch-size", "4"]
CORPUS = "".join(f"line {i}: the quick brown fox jumps over the lazy dog\n" for i in range(40))


def _readonly(tmp: Path) -> Path:
    """A place where nothing can be created: a read-only directory (0o555).  Permissions do not stop root, so
    as root it is a regular file instead, and creating anything "inside" it fails just the same."""
    path = tmp / "readonly"
    if os.geteuid() == 0:
        path.write_text("a regular file, not a directory\n")
    else:
        path.mkdir()
        path.chmod(0o555)
    return path


def _train(data: bytes | str, *flags: str) -> Callable[[Path, dict], list[str]]:
    """train on `data` with tiny new-model options (hostile `flags` come last, so they win)."""
    return lambda tmp, fx: [
        "train",
        str(_write(tmp / "input.txt", data)),
        *TINY_TRAIN,
        *flags,
        "--out",
        str(tmp / "model"),
    ]


def _train_out(out: Callable[[Path], Path]) -> Callable[[Path, dict], list[str]]:
    return lambda tmp, fx: [
        "train",
        str(_write(tmp / "input.txt", CORPUS)),
        *TINY_TRAIN,
        "--out",
        str(out(tmp)),
    ]


def _model_dir(tmp: Path, fx: dict, files: dict[str, bytes | str | None] | None = None) -> Path:
    """A copy of the tiny model directory with some files replaced (None deletes one)."""
    folder = tmp / "model"
    shutil.copytree(fx["model_dir"], folder)
    for name, data in (files or {}).items():
        if data is None:
            (folder / name).unlink()
        else:
            _write(folder / name, data)
    return folder


def _gen_model(files: Callable[[dict], dict[str, bytes | str | None]]) -> Callable[[Path, dict], list[str]]:
    return lambda tmp, fx: ["generate", "--model", str(_model_dir(tmp, fx, files(fx))), "--max-length", "5"]


def _half(path: Path) -> bytes:
    data = path.read_bytes()
    return data[: len(data) // 2]


def _sha256(path: Path) -> dict:
    import hashlib

    return {"size": path.stat().st_size, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def _bundle(tmp: Path, fx: dict, edit: Callable[[Path], Any] | None = None, resign: bool = False) -> Path:
    """A copy of the tiny bundle, damaged by `edit`; with `resign` the manifest's checksums are updated to
    match, as an attacker (or a careless hand edit) would, so the damage reaches the file's own reader."""
    folder = tmp / "bundle"
    shutil.copytree(fx["bundle"], folder)
    if edit is not None:
        edit(folder)
    if resign:
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["files"] = {
            name: _sha256(folder / name) for name in manifest["files"] if (folder / name).is_file()
        }
        (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def _edit_json(name: str, change: Callable[[Any], Any]) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        path = folder / name
        path.write_text(json.dumps(change(json.loads(path.read_text()))))

    return edit


def _set(key: str, value: Any) -> Callable[[dict], dict]:
    return lambda data: {**data, key: value}


def _put(name: str, data: bytes | Callable[[Path], bytes] | None) -> Callable[[Path], None]:
    """Replace a bundle file with `data` (or a function of its path), or delete it (None)."""

    def edit(folder: Path) -> None:
        path = folder / name
        if data is None:
            path.unlink()
        else:
            path.write_bytes(data(path) if callable(data) else data)

    return edit


def _flip_byte(path: Path) -> bytes:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    return bytes(data)


def _validate(edit=None, resign=False) -> Callable[[Path, dict], list[str]]:
    return lambda tmp, fx: ["validate", str(_bundle(tmp, fx, edit, resign))]


def _gen_bundle(edit=None, resign=False) -> Callable[[Path, dict], list[str]]:
    return lambda tmp, fx: ["generate", "--bundle", str(_bundle(tmp, fx, edit, resign)), "--max-length", "5"]


def _foreign_dir(tmp: Path) -> Path:
    """A directory of someone's own files (not a model directory or bundle)."""
    folder = tmp / "documents"
    _write(folder / "notes.txt", "my notes, which must survive\n")
    return folder


def _export_over_bundle(src: Callable[[Path, dict], list[str]]) -> Callable[[Path, dict], list[str]]:
    """export a bad source with --out at an existing good bundle (which must stay byte-identical)."""

    def argv(tmp: Path, fx: dict) -> list[str]:
        bundle = _bundle(tmp, fx)
        return ["export", *src(tmp, fx), "--out", str(bundle)]

    return argv


# -- train: input files --------------------------------------------------------------------------------------------

TRAIN_CASES = [
    Case("train-zero-byte", "0-byte training file", _train(b""), "is empty", ("model",)),
    Case(
        "train-blank-only",
        "only blank lines and whitespace",
        _train("\n  \n\t\n\n"),
        "only blank lines",
        ("model",),
    ),
    Case(
        "train-header-only",
        "--header and nothing after it",
        _train("text\n", "--header"),
        "has no text",
        ("model",),
    ),
    Case(
        "train-largetext-blank",
        "--largetext file of whitespace",
        _train(" \n\n \t", "--largetext"),
        "only whitespace",
        ("model",),
    ),
    Case(
        "train-binary",
        "a binary file (every byte value)",
        _train(bytes(range(256)) * 8),
        "looks binary",
        ("model",),
    ),
    Case(
        "train-latin1",
        "Latin-1 (not UTF-8) text",
        _train("Crème brûlée à la française, déjà vu\n".encode("latin-1") * 50),
        "not UTF-8",
        ("model",),
    ),
    Case("train-utf16", "UTF-16 text", _train(CORPUS.encode("utf-16")), "not UTF-8", ("model",)),
    Case(
        "train-huge-line",
        "one line of 2·10^6 characters (not --largetext)",
        _train("ab" * 1_000_000 + "\nshort line\n"),
        "--largetext",
        ("model",),
    ),
    Case(
        "train-csv-ragged",
        "--csv whose rows have different numbers of columns",
        _train("a,b\nc\nd,e\n", "--csv"),
        "line 2: CSV row has 1 column(s), expected 2",
        ("model",),
    ),
    Case(
        "train-context-ragged",
        "--context CSV with a 3-column row",
        _train("hello,greeting\nbye,farewell,extra\n", "--context"),
        "line 2: CSV row has 3 column(s), expected 2",
        ("model",),
    ),
    Case(
        "train-context-one-column",
        "--context CSV with one column",
        _train("just text\nmore text\n", "--context"),
        "needs 2",
        ("model",),
    ),
    Case(
        "train-context-label-empty",
        "--context CSV with an empty label",
        _train("hello,greeting\nbye,\n", "--context"),
        "context label",
        ("model",),
    ),
    Case(
        "train-file-missing",
        "training file does not exist",
        lambda t, fx: ["train", str(t / "nope.txt"), *TINY_TRAIN, "--out", str(t / "model")],
        "training file not found",
        ("model",),
    ),
    Case(
        "train-file-is-dir",
        "a directory as the training file",
        lambda t, fx: ["train", str(t), *TINY_TRAIN, "--out", str(t / "model")],
        "is a directory",
        ("model",),
    ),
    Case(
        "train-size-negative",
        "--new-model --rnn-size -4",
        _train(CORPUS, "--rnn-size", "-4"),
        "rnn_size must be an integer from 1",
        ("model",),
    ),
    Case(
        "train-size-absurd",
        "--new-model --max-length 10^6",
        _train(CORPUS, "--max-length", "1000000"),
        "max_length must be an integer from 1",
        ("model",),
    ),
    Case(
        "train-batch-zero",
        "--batch-size 0",
        _train(CORPUS, "--batch-size", "0"),
        "--batch-size must be",
        ("model",),
    ),
    Case(
        "train-train-size",
        "--train-size 1.5",
        _train(CORPUS, "--train-size", "1.5"),
        "--train-size must be in",
        ("model",),
    ),
    Case(
        "train-from-incomplete",
        "--from a model directory without weights",
        lambda t, fx: [
            "train",
            str(_write(t / "input.txt", CORPUS)),
            "--from",
            str(_model_dir(t, fx, {"weights.hdf5": None})),
            "--epochs",
            "1",
            "--out",
            str(t / "out"),
        ],
        "has no weights.hdf5",
        ("out",),
    ),
]

# -- model files: model directories and legacy files ---------------------------------------------------------------

MODEL_CASES = [
    Case(
        "model-dir-weights-truncated",
        "model directory whose weights.hdf5 is cut in half",
        _gen_model(lambda fx: {"weights.hdf5": _half(fx["model_dir"] / "weights.hdf5")}),
        "weights file",
    ),
    Case(
        "model-dir-weights-zero-byte",
        "model directory whose weights.hdf5 is 0 bytes",
        _gen_model(lambda fx: {"weights.hdf5": b""}),
        "not a readable HDF5",
    ),
    Case(
        "model-dir-truncated-keras",
        "model directory holding a truncated model.keras instead of weights.hdf5",
        _gen_model(lambda fx: {"weights.hdf5": None, "model.keras": b"PK\x03\x04" + b"\x00" * 100}),
        "has no weights.hdf5",
    ),
    Case(
        "model-dir-weights-vs-vocab",
        "model directory with another model's vocab",
        _gen_model(lambda fx: {"vocab.json": fx["vocab"].read_bytes()}),
        "layer 'embedding' has shape",
    ),
    Case(
        "model-dir-weights-vs-config",
        "model directory whose config says 3 layers, weights have 2",
        _gen_model(lambda fx: {"config.json": json.dumps({**_config(fx), "rnn_layers": 3})}),
        "layer 'attention' has shape",
    ),
    Case(
        "model-dir-config-negative",
        "model directory config with max_length -3",
        _gen_model(lambda fx: {"config.json": json.dumps({**_config(fx), "max_length": -3})}),
        "max_length must be an integer from 1",
    ),
    Case(
        "model-dir-config-absurd",
        "model directory config with dim_embeddings 10^6",
        _gen_model(lambda fx: {"config.json": json.dumps({**_config(fx), "dim_embeddings": 10**6})}),
        "dim_embeddings must be an integer from 1",
    ),
    Case(
        "model-dir-vocab-not-object",
        "model directory vocab.json is a string",
        _gen_model(lambda fx: {"vocab.json": '"abc"'}),
        "must be a JSON object",
    ),
    Case(
        "vocab-duplicate-key",
        "vocab JSON naming the same token twice",
        lambda t, fx: _legacy(t, fx, vocab='{"a": 1, "b": 2, "a": 3}'),
        "exactly 1..2",
    ),
    Case(
        "vocab-null-index",
        "an index that is null",
        lambda t, fx: _legacy(t, fx, vocab={"a": None}),
        "must be an integer",
    ),
    Case(
        "vocab-float-index",
        "an index that is 1.5",
        lambda t, fx: _legacy(t, fx, vocab={"a": 1.5}),
        "must be an integer",
    ),
    Case("vocab-empty-object", "vocab JSON {}", lambda t, fx: _legacy(t, fx, vocab={}), "vocab is empty"),
    Case(
        "config-zero-length",
        "max_length 0",
        lambda t, fx: _legacy(t, fx, config={"max_length": 0}),
        "max_length must be an integer from 1",
    ),
]


def _config(fx: dict) -> dict:
    return json.loads((fx["model_dir"] / "config.json").read_text())


# -- bundles: validate and generate --bundle -----------------------------------------------------------------------

BUNDLE_CASES = [
    Case(
        "bundle-missing-dir",
        "validate a directory that does not exist",
        lambda t, fx: ["validate", str(t / "none")],
        "bundle directory not found",
    ),
    Case(
        "bundle-no-manifest",
        "bundle without manifest.json",
        _validate(_put("manifest.json", None)),
        "manifest file not found",
    ),
    Case(
        "bundle-manifest-not-json",
        "manifest.json cut off mid-way",
        _validate(_put("manifest.json", lambda p: p.read_bytes()[:40])),
        "not valid JSON",
    ),
    Case(
        "bundle-format-version",
        "manifest format_version 99",
        _validate(_edit_json("manifest.json", _set("format_version", 99))),
        "format version 99 is not supported",
    ),
    Case(
        "bundle-foreign-manifest",
        "manifest.json of another tool",
        _validate(_edit_json("manifest.json", _set("format", "something-else"))),
        "not a textgen-export bundle manifest",
    ),
    Case(
        "bundle-missing-file",
        "vocab.json deleted",
        _validate(_put("vocab.json", None)),
        "is missing vocab.json",
    ),
    Case(
        "bundle-tampered-onnx",
        "one byte of model.onnx changed",
        _validate(_put("model.onnx", _flip_byte)),
        "does not match its checksum",
    ),
    Case(
        "bundle-tampered-vocab",
        "vocab.json edited (generate --bundle)",
        _gen_bundle(_edit_json("vocab.json", _set("zz", 10_000))),
        "does not match its checksum",
    ),
    Case(
        "bundle-onnx-truncated",
        "model.onnx cut in half",
        _validate(_put("model.onnx", _half)),
        "does not match its checksum",
    ),
    Case(
        "bundle-onnx-truncated-resigned",
        "model.onnx cut in half, manifest checksums updated to match",
        _validate(_put("model.onnx", _half), resign=True),
        "is not a loadable ONNX model",
    ),
    Case(
        "bundle-onnx-zero-byte-resigned",
        "model.onnx of 0 bytes, manifest updated (generate --bundle)",
        _gen_bundle(_put("model.onnx", b""), resign=True),
        "is not a loadable ONNX model",
    ),
    Case(
        "bundle-unsafe-path",
        "manifest listing ../outside.txt",
        _validate(
            _edit_json("manifest.json", lambda m: {**m, "files": {**m["files"], "../outside.txt": {}}})
        ),
        "unsafe path",
    ),
    Case(
        "bundle-vocab-vs-model",
        "vocab.json with an extra token, manifest updated",
        _validate(_edit_json("vocab.json", lambda v: {**v, "zz": len(v) + 1}), resign=True),
        "vocab.json gives",
    ),
    Case(
        "bundle-config-absurd",
        "config.json rnn_size 10^9, manifest updated",
        _validate(_edit_json("config.json", _set("rnn_size", 10**9)), resign=True),
        "rnn_size must be an integer from 1",
    ),
    Case(
        "bundle-config-vs-model",
        "config.json max_length 7 for a model of another window, manifest updated",
        _gen_bundle(_edit_json("config.json", _set("max_length", 7)), resign=True),
        "come from different models",
    ),
    Case(
        "bundle-probe-malformed",
        "parity/probe.json replaced by [], manifest updated",
        _validate(_put("parity/probe.json", b"[]"), resign=True),
        "malformed",
    ),
]

# -- outputs: read-only places, existing files, other people's directories -----------------------------------------

OUT_CASES = [
    Case(
        "generate-out-readonly",
        "generate --out inside a read-only directory",
        lambda t, fx: ["generate", "--max-length", "5", "--out", str(_readonly(t) / "out.txt")],
        "choose another output path",
    ),
    Case(
        "generate-out-is-dir",
        "generate --out naming an existing directory",
        lambda t, fx: ["generate", "--max-length", "5", "--out", str(_foreign_dir(t))],
        "is a directory",
    ),
    Case(
        "train-out-readonly",
        "train --out inside a read-only directory",
        _train_out(lambda t: _readonly(t) / "model"),
        "choose another output path",
    ),
    Case(
        "train-out-foreign-dir",
        "train --out naming a directory of other files",
        _train_out(_foreign_dir),
        "not a model directory",
    ),
    Case(
        "export-out-readonly",
        "export --out inside a read-only directory",
        lambda t, fx: ["export", "--out", str(_readonly(t) / "bundle")],
        "choose another output path",
    ),
    Case(
        "export-out-foreign-dir",
        "export --out naming a directory of other files",
        lambda t, fx: ["export", "--out", str(_foreign_dir(t))],
        "not a bundle",
    ),
    Case(
        "export-out-is-file",
        "export --out naming an existing file",
        lambda t, fx: ["export", "--out", str(_write(t / "file.txt", "keep me\n"))],
        "is not a directory",
    ),
    Case(
        "export-bad-source-keeps-bundle",
        "export of a model directory whose vocab disagrees, --out an existing good bundle",
        _export_over_bundle(lambda t, fx: [str(_model_dir(t, fx, {"vocab.json": fx["vocab"].read_bytes()}))]),
        "layer 'embedding' has shape",
    ),
    Case(
        "export-truncated-weights-keeps-bundle",
        "export of a 0-byte .hdf5, --out an existing good bundle",
        _export_over_bundle(
            lambda t, fx: ["--weights", str(_write(t / "w.hdf5", b"")), "--vocab", str(fx["vocab"])]
        ),
        "not a readable HDF5",
    ),
    Case(
        "export-missing-src",
        "export a model directory that does not exist",
        lambda t, fx: ["export", str(t / "none"), "--out", str(t / "bundle")],
        "model directory not found",
        ("bundle",),
    ),
    Case(
        "dataset-out-readonly",
        "dataset --out inside a read-only directory",
        lambda t, fx: ["dataset", "python-docstrings", "--limit", "5", "--out", str(_readonly(t) / "d.txt")],
        "choose another output path",
    ),
    Case(
        "dataset-limit-zero",
        "dataset --limit 0",
        lambda t, fx: ["dataset", "python-docstrings", "--limit", "0", "--out", str(t / "d.txt")],
        "--limit must be at least 1",
        ("d.txt",),
    ),
]

# -- generate and serve options ------------------------------------------------------------------------------------

OPTION_CASES = [
    Case("n-zero", "-n 0", _gen("-n", "0"), "n (number of texts) must be"),
    Case(
        "temperature-inf",
        "temperature inf",
        _gen("--temperature", "0.5", "inf"),
        "temperature must be between",
    ),
    Case(
        "bundle-and-model",
        "--bundle together with --model",
        lambda t, fx: ["generate", "--bundle", str(t), "--model", str(t)],
        "give --bundle alone",
    ),
    Case(
        "serve-not-a-bundle",
        "serve a directory that is not a bundle",
        lambda t, fx: ["serve", str(t), "--port", "0"],
        "is not a bundle",
    ),
    Case(
        "serve-port-out-of-range",
        "serve --port 70000",
        lambda t, fx: ["serve", str(_bundle(t, fx)), "--port", "70000"],
        "--port must be",
    ),
]

# -- trust: HDF5 that points outside itself or is malformed ---------------------------------------------

ATTENTION_W = "attention/attention/attention_W:0"


def _h5_edit(change: Callable[[Any, Path], None]) -> Callable[[Path, dict], list[str]]:
    """export a copy of the tiny model directory whose weights.hdf5 was changed by `change(h5 file, tmp)`."""

    def argv(tmp: Path, fx: dict) -> list[str]:
        import h5py

        folder = _model_dir(tmp, fx)
        with h5py.File(folder / "weights.hdf5", "r+") as f:
            change(f, tmp)
        return ["export", str(folder), "--out", str(tmp / "out")]

    return argv


def _h5_external_storage(f, tmp: Path) -> None:
    """The attention weights declared as raw bytes of another file (an attacker would name /etc/passwd)."""
    value = f[ATTENTION_W][()]
    outside = _write(tmp / "outside.bin", value.astype(value.dtype).tobytes())
    del f[ATTENTION_W]
    f.create_dataset(
        ATTENTION_W, shape=value.shape, dtype=value.dtype, external=[(str(outside), 0, value.nbytes)]
    )


def _h5_external_link(f, tmp: Path) -> None:
    import h5py

    with h5py.File(tmp / "other.h5", "w") as other:
        f.copy(f["attention"], other, "attention")
    del f["attention"]
    f["attention"] = h5py.ExternalLink(str(tmp / "other.h5"), "/attention")


def _h5_soft_link(f, tmp: Path) -> None:
    import h5py

    f.move(ATTENTION_W, "/stash")
    f[ATTENTION_W] = h5py.SoftLink("/stash")


def _h5_link_loop(f, tmp: Path) -> None:
    import h5py

    del f[ATTENTION_W]
    f[ATTENTION_W] = h5py.SoftLink("/" + ATTENTION_W)


def _h5_virtual(f, tmp: Path) -> None:
    import h5py

    value = f[ATTENTION_W][()]
    with h5py.File(tmp / "other.h5", "w") as other:
        other["w"] = value
    layout = h5py.VirtualLayout(shape=value.shape, dtype=value.dtype)
    layout[...] = h5py.VirtualSource(str(tmp / "other.h5"), "w", shape=value.shape)
    del f[ATTENTION_W]
    f.create_virtual_dataset(ATTENTION_W, layout)


def _h5_replace(value: Any) -> Callable[[Any, Path], None]:
    def change(f, tmp: Path) -> None:
        del f[ATTENTION_W]
        f[ATTENTION_W] = value

    return change


def _h5_attr(group: str, name: str, value: Any) -> Callable[[Any, Path], None]:
    def change(f, tmp: Path) -> None:
        f[group].attrs[name] = value

    return change


H5_CASES = [
    Case(
        "h5-external-storage",
        "a weights dataset stored in another file (HDF5 external storage)",
        _h5_edit(_h5_external_storage),
        "declares external storage",
        ("out",),
    ),
    Case(
        "h5-external-link",
        "a weights layer that is an HDF5 external link to another file",
        _h5_edit(_h5_external_link),
        "is an external link",
        ("out",),
    ),
    Case(
        "h5-soft-link",
        "a weights dataset that is a soft link",
        _h5_edit(_h5_soft_link),
        "is a soft link",
        ("out",),
    ),
    Case(
        "h5-link-loop",
        "a soft link that points at itself",
        _h5_edit(_h5_link_loop),
        "is a soft link",
        ("out",),
    ),
    Case(
        "h5-virtual-dataset",
        "a virtual dataset mapping another file",
        _h5_edit(_h5_virtual),
        "is a virtual dataset",
        ("out",),
    ),
    Case(
        "h5-string-dataset",
        "a weights dataset of strings",
        _h5_edit(_h5_replace(["a", "b"])),
        "not numbers",
        ("out",),
    ),
    Case(
        "h5-scalar-dataset",
        "a weights dataset that is a scalar",
        _h5_edit(_h5_replace(1.5)),
        "has shape ()",
        ("out",),
    ),
    Case(
        "h5-layer-names-int",
        "root attribute layer_names of the wrong type (an integer)",
        _h5_edit(lambda f, tmp: f.attrs.__setitem__("layer_names", 5)),
        "weights file",
        ("out",),
    ),
    Case(
        "h5-weight-names-float",
        "a layer's weight_names attribute of the wrong type",
        _h5_edit(_h5_attr("attention", "weight_names", 2.5)),
        "weights file",
        ("out",),
    ),
]

# -- trust: files that are not regular, pathological JSON, bundles naming outside paths -----------------


def _fifo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


def _legacy_config_path(config: Callable[[Path], Path | str]) -> Callable[[Path, dict], list[str]]:
    """generate with the pretrained weights and vocab and a --config path made by `config(tmp)`."""
    return lambda t, fx: [*_legacy(t, fx), "--config", str(config(t))]


def _link(name: str, target: Callable[[Path], Path]) -> Callable[[Path], None]:
    """Replace bundle file (or folder) `name` by a symlink to `target(bundle folder)`, outside the bundle."""

    def edit(folder: Path) -> None:
        outside = target(folder)
        if (folder / name).is_dir():
            shutil.rmtree(folder / name)
        else:
            (folder / name).unlink()
        os.symlink(outside, folder / name)

    return edit


def _outside_copy(name: str) -> Callable[[Path], Path]:
    def target(folder: Path) -> Path:
        outside = folder.parent / f"outside-{name.replace('/', '-')}"
        shutil.copy(folder / name, outside)
        return outside

    return target


def _list(name: str) -> Callable[[Path], None]:
    """List `name` in the manifest (an attacker's edit)."""
    return _edit_json(
        "manifest.json", lambda m: {**m, "files": {**m["files"], name: {"size": 1, "sha256": ""}}}
    )


def _unlist(name: str) -> Callable[[Path], None]:
    return _edit_json(
        "manifest.json", lambda m: {**m, "files": {k: v for k, v in m["files"].items() if k != name}}
    )


def _resume(change: Callable[[dict], dict]) -> Callable[[Path, dict], list[str]]:
    """train --resume on a real checkpoint (of the tiny model) whose state.json was then edited by `change`."""

    def argv(tmp: Path, fx: dict) -> list[str]:
        import numpy as np

        from textgen_export.contract.config import ModelConfig
        from textgen_export.contract.vocabulary import Vocabulary
        from textgen_export.training import checkpoint
        from textgen_export.training.options import TrainOptions

        config = ModelConfig.load(fx["model_dir"] / "config.json")
        state = checkpoint.State(
            epoch=1,
            options=checkpoint.options_dict(TrainOptions(num_epochs=2)),
            config=config,
            vocab=Vocabulary.load(fx["model_dir"] / "vocab.json", config.word_level),
            model_variables=[np.zeros(3, np.float32)],
            optimizer_variables=[],
            rng=checkpoint.capture_rng(),
            run={"file": {"path": str(_write(tmp / "input.txt", CORPUS))}, "read": {}},
        )
        folder = checkpoint.save(tmp / "run" / checkpoint.DIRNAME, state)
        record = json.loads((folder / checkpoint.STATE).read_text())
        (folder / checkpoint.STATE).write_text(json.dumps(change(record)))
        return ["train", "--resume", str(tmp / "run")]

    return argv


def _foreign_bundleish(tmp: Path) -> Path:
    """A web app's folder: its own manifest.json (not ours) and its code."""
    folder = tmp / "webapp"
    _write(folder / "manifest.json", '{"name": "My PWA"}')
    _write(folder / "app.js", "x")
    return folder


def _project(tmp: Path) -> Path:
    folder = tmp / "project"
    _write(folder / "config.json", "{}")
    _write(folder / "notes.txt", "mine")
    return folder


def _beside_lookalikes(out: Callable[[Path], Path]) -> Callable[[Path], Path]:
    """`out(tmp)`, with someone's folders beside it whose names look like a crashed writer's staging directories
    (`.NAME.<digits>.<word>.old/.new/.tmp`, the digits no running process): they are not ours to recover."""

    def make(tmp: Path) -> Path:
        path = out(tmp)
        for leftover in (".20240101.orig.old", ".3999999.keep.new", ".3999998.x.tmp"):
            _write(path.parent / f".{path.name}{leftover}" / path.name / "notes.txt", "mine")
        return path

    return make


def _save_epochs_over_foreign(tmp: Path, fx: dict) -> list[str]:
    _write(tmp / "m_epoch1" / "photo.jpg", b"\xff\xd8")
    return [*_train_out(lambda t: t / "m")(tmp, fx), "--epochs", "2", "--save-epochs", "1"]


DEEP_JSON = "[" * 100_000 + "]" * 100_000
LONG_NUMBER = '{"rnn_size": 1' + "0" * 5000 + "}"

TRUST_CASES = [
    Case(
        "config-fifo",
        "--config naming a FIFO (a plain open() blocks forever)",
        _legacy_config_path(lambda t: _fifo(t / "config.fifo")),
        "is not a regular file",
    ),
    Case(
        "config-dev-zero",
        "--config /dev/zero (endless bytes)",
        _legacy_config_path(lambda t: "/dev/zero"),
        "is not a regular file",
    ),
    Case(
        "config-directory",
        "--config naming a directory",
        _legacy_config_path(lambda t: t),
        "is not a regular file",
    ),
    Case(
        "vocab-deep-nesting",
        "vocab JSON nested 100,000 levels deep",
        lambda t, fx: _legacy(t, fx, vocab=DEEP_JSON),
        "nested too deeply",
    ),
    Case(
        "vocab-lone-surrogate",
        'vocab token "\\ud800" (a lone surrogate: no output could encode it)',
        lambda t, fx: _legacy(t, fx, vocab='{"\\ud800": 1, "a": 2}'),
        "not valid Unicode",
    ),
    Case(
        "config-long-number",
        "config with a 5,000-digit number",
        lambda t, fx: _legacy(t, fx, config=LONG_NUMBER),
        "not valid JSON",
    ),
    Case(
        "bundle-manifest-deep-nesting",
        "bundle manifest nested 100,000 levels deep",
        _validate(_put("manifest.json", DEEP_JSON.encode())),
        "nested too deeply",
    ),
    Case(
        "bundle-manifest-fifo",
        "bundle manifest.json is a FIFO",
        _validate(lambda f: (f / "manifest.json").unlink() or _fifo(f / "manifest.json")),
        "is not a regular file",
    ),
    Case(
        "bundle-vocab-symlink-outside",
        "bundle vocab.json is a symlink to a file outside the bundle",
        _gen_bundle(_link("vocab.json", _outside_copy("vocab.json"))),
        "holds a symlink 'vocab.json'",
    ),
    Case(
        "bundle-dir-symlink-etc",
        "bundle parity/ is a symlink to /etc",
        _validate(_link("parity", lambda f: Path("/etc"))),
        "holds a symlink 'parity'",
    ),
    Case(
        "bundle-path-parent",
        "manifest lists '../outside.bin'",
        _gen_bundle(_list("../outside.bin")),
        "unsafe path",
    ),
    Case(
        "bundle-path-absolute", "manifest lists '/etc/passwd'", _validate(_list("/etc/passwd")), "unsafe path"
    ),
    Case(
        "bundle-config-unlisted",
        "config.json present but not listed in the manifest",
        _gen_bundle(_unlist("config.json")),
        "does not list config.json",
    ),
    Case(
        "resume-state-negative-epoch",
        "checkpoint state.json with epoch -1",
        _resume(lambda r: {**r, "epoch": -1}),
        "is damaged",
    ),
    Case(
        "resume-state-absurd-epoch",
        "checkpoint state.json with epoch 10^12",
        _resume(lambda r: {**r, "epoch": 10**12}),
        "is damaged",
    ),
    Case(
        "resume-state-epoch-string",
        'checkpoint state.json with epoch "3"',
        _resume(lambda r: {**r, "epoch": "3"}),
        "is damaged",
    ),
    Case(
        "resume-state-files-list",
        "checkpoint state.json whose files table is a list",
        _resume(lambda r: {**r, "files": ["model.npz"]}),
        "is damaged",
    ),
    Case(
        "resume-state-files-outside",
        "checkpoint state.json listing ../../../etc/passwd",
        _resume(lambda r: {**r, "files": {**r["files"], "../../../etc/passwd": "0" * 64}}),
        "is damaged",
    ),
    Case(
        "resume-state-rng-garbage",
        "checkpoint state.json with an unusable RNG state",
        _resume(lambda r: {**r, "rng": {"python": [3, [1, 2], None]}}),
        "rng state unusable",
    ),
    Case(
        "resume-state-options-string",
        "checkpoint state.json whose options are a string",
        _resume(lambda r: {**r, "options": "fast"}),
        "is damaged",
    ),
    Case(
        "export-out-name-too-long",
        "export --out with a 300-character name (ENAMETOOLONG)",
        lambda t, fx: ["export", "--out", str(t / ("b" * 300))],
        "too long",
    ),
    Case(
        "generate-model-name-too-long",
        "generate --model with a 300-character name",
        lambda t, fx: ["generate", "--model", str(t / ("m" * 300))],
        "too long",
    ),
    Case(
        "generate-out-proc",
        "generate --out /proc/x.txt (a file system nothing can be created in)",
        lambda t, fx: ["generate", "--max-length", "5", "--out", "/proc/textgen-export-x.txt"],
        "cannot write to /proc",
    ),
    Case(
        "export-out-proc",
        "export --out /proc/x",
        lambda t, fx: ["export", "--out", "/proc/textgen-export-x"],
        "cannot write to /proc",
    ),
    Case(
        "train-out-proc",
        "train --out /proc/x",
        _train_out(lambda t: Path("/proc/textgen-export-x")),
        "cannot write to /proc",
    ),
    Case(
        "generate-prefix-invalid-utf8",
        "--prefix holding a byte that is not UTF-8 (0xff)",
        lambda t, fx: [
            "generate",
            "--max-length",
            "5",
            "--prefix",
            b"ab\xff".decode("utf-8", "surrogateescape"),
        ],
        "not valid UTF-8",
    ),
    Case(
        "export-out-pwa",
        "export --out a web app folder with its own manifest.json",
        lambda t, fx: ["export", "--out", str(_foreign_bundleish(t))],
        "not a bundle written by textgen-export",
    ),
    Case(
        "export-out-bundle-plus-file",
        "export --out a bundle someone added a file to",
        lambda t, fx: [
            "export",
            str(fx["model_dir"]),
            "--out",
            str(_bundle(t, fx, _put("notes.txt", b"mine"))),
        ],
        "did not write (notes.txt)",
    ),
    Case(
        "train-out-project-with-config",
        "train --out a project folder holding config.json and notes",
        _train_out(_project),
        "not a model directory written by textgen-export",
    ),
    Case(
        "train-corpus-inside-out",
        "train corpus.txt --from D --out D, the corpus inside D",
        lambda t, fx: [
            "train",
            str(_write(_model_dir(t, fx) / "corpus.txt", CORPUS)),
            "--from",
            str(t / "model"),
            "--out",
            str(t / "model"),
        ],
        "inside --out",
    ),
    Case(
        "export-out-foreign-beside-lookalikes",
        "export --out someone's folder, beside folders named like our crash leftovers (.documents.20240101.orig.old)",
        lambda t, fx: ["export", "--out", str(_beside_lookalikes(_foreign_dir)(t))],
        "not a bundle written by textgen-export",
    ),
    Case(
        "export-out-missing-beside-lookalikes",
        "export of a missing model --out a new path beside someone's .bundle.3999999.keep.new/",
        lambda t, fx: [
            "export",
            str(t / "none"),
            "--out",
            str(_beside_lookalikes(lambda t: t / "bundle")(t)),
        ],
        "not found",
        ("bundle",),
    ),
    Case(
        "train-out-foreign-beside-lookalikes",
        "train --out someone's folder, beside folders named like our crash leftovers",
        _train_out(_beside_lookalikes(_foreign_dir)),
        "not a model directory",
    ),
    Case(
        "train-save-epochs-foreign",
        "train --save-epochs where OUT_epoch1/ holds someone's files",
        _save_epochs_over_foreign,
        "m_epoch1",
        ("m",),
    ),
]


def _train_path(path: Callable[[Path], Path | str], *flags: str) -> Callable[[Path, dict], list[str]]:
    """train on the file `path(tmp)` names (a FIFO, a device) with tiny new-model options."""
    return lambda tmp, fx: ["train", str(path(tmp)), *TINY_TRAIN, *flags, "--out", str(tmp / "model")]


def _many_labels(n: int) -> str:
    return "".join(f"text number {i} of the corpus,label {i}\n" for i in range(n))


TRAINING_CASES = [
    Case(
        "train-epochs-beyond-checkpoint",
        "--epochs 2000000 (more than a checkpoint can resume)",
        _train(CORPUS, "--epochs", "2000000"),
        "must be at most 1,000,000",
        ("model",),
    ),
    Case(
        "train-fifo",
        "a FIFO as the training file (a plain read blocks forever)",
        _train_path(lambda t: _fifo(t / "corpus.fifo")),
        "is not a regular file",
        ("model",),
    ),
    Case(
        "train-dev-zero",
        "/dev/zero as the training file (endless bytes)",
        _train_path(lambda t: "/dev/zero"),
        "training file /dev/zero is not a regular file",
        ("model",),
    ),
    Case(
        "train-dev-stdin",
        "/dev/stdin as the training file (named as given, not as /proc/.../pipe:[...])",
        _train_path(lambda t: "/dev/stdin"),
        "training file /dev/stdin is not a regular file",
        ("model",),
    ),
    Case(
        "train-context-labels-100k",
        "--context CSV with 100,000 distinct labels (a 37 GiB one-hot table)",
        _train(_many_labels(100_000), "--context"),
        "100,000 distinct context labels",
        ("model",),
    ),
    Case(
        "train-workers-port-range",
        "--workers with a port above 65535",
        _train(CORPUS, "--seed", "1", "--workers", "127.0.0.1:70000,127.0.0.1:23457", "--worker-index", "0"),
        "port",
        ("model",),
    ),
]


# -- bundles both languages read: the Python CLI and the Node CLI (the page's own modules) refuse each alike -------


@dataclass
class TwinCase:
    id: str
    what: str
    edit: Callable[[Path], Any]  # damages a copy of the tiny bundle
    expect: str  # a piece of the Python CLI's one-line error
    expect_node: str  # a piece of the Node CLI's one-line error
    runtime: str = "onnx"  # the Node runtime that reads the bundle
    command: str = "generate"  # the Python CLI's: generate --bundle, or validate (which decodes TF.js shards)
    resign: bool = True  # the manifest's checksums updated after `edit`, as an attacker would
    source: str = "bundle"  # the fixture copied: "bundle" (ONNX) or "bundle_tfjs" (ONNX and TF.js)


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes(out + bytes([value]))


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _onnx_external(prefix: bytes = b"") -> Callable[[Path], None]:
    """model.onnx re-saved with its larger tensors in ext.bin beside it (ONNX external data, a file the manifest
    does not list), with `prefix` (bytes ONNX Runtime's parser skips) before the ModelProto's own fields."""

    def edit(folder: Path) -> None:
        import onnx

        path = folder / "model.onnx"
        model = onnx.load(path)
        onnx.save_model(model, path, save_as_external_data=True, location="ext.bin", size_threshold=1024)
        path.write_bytes(prefix + path.read_bytes())

    return edit


def _sparse_model(folder: Path) -> None:
    with open(folder / "model.onnx", "r+b") as f:
        f.truncate(10 * 1024**3)  # a hole: no disk used, 10 GB to read
    _edit_json(
        "manifest.json", lambda m: {**m, "files": {**m["files"], "model.onnx": {"size": 1, "sha256": ""}}}
    )(folder)


def _weights_manifest(change: Callable[[dict], dict]) -> Callable[[Path], None]:
    """Change the one weightsManifest group of tfjs/model.json."""
    return _edit_json(
        "tfjs/model.json", lambda m: {**m, "weightsManifest": [change(m["weightsManifest"][0])]}
    )


def _unlisted_shard(folder: Path) -> None:
    shard = folder / "tfjs" / "group1-shard1of1.bin"
    data = shard.read_bytes()
    shard.write_bytes(data[: len(data) // 2])
    (folder / "tfjs" / "extra.bin").write_bytes(data[len(data) // 2 :])
    _weights_manifest(lambda g: {**g, "paths": [*g["paths"], "extra.bin"]})(folder)


def _fifo_shard(folder: Path) -> None:
    _fifo(folder / "tfjs" / "extra.bin")
    _weights_manifest(lambda g: {**g, "paths": [*g["paths"], "extra.bin"]})(folder)


def _vocab(change: Callable[[dict], dict]) -> Callable[[Path], None]:
    """Change vocab.json and make the manifest's num_classes agree (only the model then disagrees)."""

    def edit(folder: Path) -> None:
        _edit_json("vocab.json", change)(folder)
        classes = len(json.loads((folder / "vocab.json").read_text())) + 1
        _edit_json("manifest.json", _set("num_classes", classes))(folder)

    return edit


def _one_short(vocab: dict) -> dict:
    last = max(vocab.values())
    return {token: index for token, index in vocab.items() if index != last}


def _million(vocab: dict) -> dict:
    return {**vocab, **{f"w{i}": i for i in range(len(vocab) + 1, 1_000_001)}}


def _float_index(vocab: dict) -> dict:
    return {token: float(index) if index == 1 else index for token, index in vocab.items()}


TWIN_CASES = [
    TwinCase(
        "bundle-onnx-external-data",
        "model.onnx keeps its weights in ext.bin beside it (ONNX external data), manifest updated",
        _onnx_external(),
        "ONNX external data",
        "ONNX external data",
    ),
    TwinCase(
        "bundle-onnx-group-hides-external-data",
        "the same, behind an unknown protobuf group field (wire types 3/4) that ONNX Runtime skips",
        _onnx_external(_key(99, 3) + _key(7, 0) + b"\x01" + _key(99, 4)),
        "wire type 3",
        "wire type 3",
    ),
    TwinCase(
        "bundle-vocab-one-short",
        "vocab.json one entry short of the model's classes, manifest num_classes and checksums updated",
        _vocab(_one_short),
        "come from different models",
        "come from different models",
    ),
    TwinCase(
        "bundle-vocab-million",
        "a 1,000,000-entry vocab.json for a small model, manifest updated",
        _vocab(_million),
        "come from different models",
        "come from different models",
    ),
    TwinCase(
        "bundle-vocab-index-float",
        "a vocab index written 1.0",
        _edit_json("vocab.json", _float_index),
        "must be an integer",
        "not an integer as written",
    ),
    TwinCase(
        "bundle-config-word-level-string",
        'config.json "word_level": "false" (a non-empty string, truthy in JavaScript)',
        _edit_json("config.json", _set("word_level", "false")),
        "word_level must be true or false",
        "word_level must be true or false",
    ),
    TwinCase(
        "bundle-config-single-text-string",
        'config.json "single_text": "no"',
        _edit_json("config.json", _set("single_text", "no")),
        "single_text must be true or false",
        "single_text must be true or false",
    ),
    TwinCase(
        "bundle-config-max-length-float",
        "config.json max_length written 40.0 style (a float of the right value)",
        _edit_json("config.json", lambda c: {**c, "max_length": float(c["max_length"])}),
        "max_length must be an integer",
        "not an integer as written",
    ),
    TwinCase(
        "bundle-config-bom",
        "config.json starting with a UTF-8 byte order mark",
        _put("config.json", lambda p: b"\xef\xbb\xbf" + p.read_bytes()),
        "not valid JSON",
        "not valid JSON",
    ),
    TwinCase(
        "bundle-sparse-file-size-1",
        "model.onnx a 10 GB sparse file that the manifest says is 1 byte (sizes compared before hashing)",
        _sparse_model,
        "does not match its checksum",
        "over the 1 expected",
        resign=False,
    ),
    TwinCase(
        "tfjs-shard-listed-3000-times",
        "tfjs/model.json naming its one shard 3,000 times",
        _weights_manifest(lambda g: {**g, "paths": g["paths"] * 3000}),
        "not each once",
        "not each once",
        "tfjs-cpu",
        "validate",
        source="bundle_tfjs",
    ),
    TwinCase(
        "tfjs-shape-2-to-the-64",
        "a weight of shape [2**32, 2**32] (its byte count overflows 64 bits)",
        _weights_manifest(
            lambda g: {**g, "weights": [{**g["weights"][0], "shape": [2**32, 2**32]}, *g["weights"][1:]]}
        ),
        "shorter than model.json says",
        "the weights need",
        "tfjs-cpu",
        "validate",
        source="bundle_tfjs",
    ),
    TwinCase(
        "tfjs-shape-negative",
        "a weight of shape [-1, 100]",
        _weights_manifest(
            lambda g: {**g, "weights": [{**g["weights"][0], "shape": [-1, 100]}, *g["weights"][1:]]}
        ),
        "negative dimension",
        "not a list of non-negative integers",
        "tfjs-cpu",
        "validate",
        source="bundle_tfjs",
    ),
    TwinCase(
        "tfjs-shard-unlisted",
        "tfjs/model.json naming a second shard that is in the folder but not in the manifest",
        _unlisted_shard,
        "not listed in manifest.json",
        "not listed in manifest.json",
        "tfjs-cpu",
        "validate",
        source="bundle_tfjs",
    ),
    TwinCase(
        "tfjs-shard-fifo",
        "tfjs/model.json naming a FIFO beside its shard (unlisted: a plain open() blocks forever)",
        _fifo_shard,
        "not listed in manifest.json",
        "not listed in manifest.json",
        "tfjs-cpu",
        "validate",
        source="bundle_tfjs",
    ),
]


def twin_bundle(twin: TwinCase, tmp: Path, fx: dict) -> Path:
    """The damaged bundle a twin case hands both CLIs."""
    return _bundle(tmp, {**fx, "bundle": fx[twin.source]}, twin.edit, twin.resign)


def _twin_case(twin: TwinCase) -> Case:
    def argv(tmp: Path, fx: dict) -> list[str]:
        folder = str(twin_bundle(twin, tmp, fx))
        return (
            ["validate", folder]
            if twin.command == "validate"
            else ["generate", "--bundle", folder, "--max-length", "5"]
        )

    return Case(twin.id, twin.what, argv, twin.expect)


def node_args(twin: TwinCase) -> list[str]:
    """The Node CLI's arguments after the bundle folder."""
    return ["--runtime", twin.runtime, "--max-length", "5"]


CASES: list[Case] = (
    CORE_CASES
    + TRAIN_CASES
    + MODEL_CASES
    + BUNDLE_CASES
    + OUT_CASES
    + OPTION_CASES
    + H5_CASES
    + TRUST_CASES
    + TRAINING_CASES
    + [_twin_case(t) for t in TWIN_CASES]
)


# -- the same promise from the Python API --------------------------------------------------------------------------


@dataclass
class ApiCase:
    id: str
    what: str
    code: str  # Python evaluated with the names `setup` returns (shown as is in HOSTILE_INPUTS.md)
    setup: Callable[[Path, dict], dict]
    expect: str  # a piece of the UserError's one-line message


def _api_bundle(edit=None, resign=False) -> Callable[[Path, dict], dict]:
    def setup(tmp: Path, fx: dict) -> dict:
        from textgen_export.runtime import load_bundle

        return {"load_bundle": load_bundle, "folder": str(_bundle(tmp, fx, edit, resign))}

    return setup


def _api_names(tmp: Path, fx: dict) -> dict:
    from textgen_export.api.textgen import TextGen
    from textgen_export.contract.config import ModelConfig
    from textgen_export.contract.vocabulary import Vocabulary
    from textgen_export.training.texts import read_texts

    return {
        "ModelConfig": ModelConfig,
        "TextGen": TextGen,
        "Vocabulary": Vocabulary,
        "read_texts": read_texts,
    }


API_CASES = [
    ApiCase(
        "api-load-bundle-threads-million",
        "load_bundle with threads=10**6",
        "load_bundle(folder, threads=10**6)",
        _api_bundle(),
        "threads must be an integer from 1 to",
    ),
    ApiCase(
        "api-config-load-fifo",
        "ModelConfig.load of a FIFO",
        "ModelConfig.load(path)",
        lambda t, fx: {**_api_names(t, fx), "path": _fifo(t / "config.json")},
        "is not a regular file",
    ),
    ApiCase(
        "api-load-bundle-truncated-onnx",
        "load_bundle with model.onnx cut in half",
        "load_bundle(folder)",
        _api_bundle(_put("model.onnx", _half)),
        "does not match its checksum",
    ),
    ApiCase(
        "api-load-bundle-truncated-onnx-resigned",
        "load_bundle with model.onnx cut in half, manifest updated",
        "load_bundle(folder)",
        _api_bundle(_put("model.onnx", _half), resign=True),
        "is not a loadable ONNX model",
    ),
    ApiCase(
        "api-load-bundle-format-version",
        "load_bundle of format version 99",
        "load_bundle(folder)",
        _api_bundle(_edit_json("manifest.json", _set("format_version", 99))),
        "format version 99 is not supported",
    ),
    ApiCase(
        "api-generate-temperature-nan",
        "BundleRuntime.generate at temperature NaN",
        "load_bundle(folder).generate(temperature=float('nan'))",
        _api_bundle(),
        "temperature must be between",
    ),
    ApiCase(
        "api-vocab-non-string-keys",
        "a vocabulary with an integer key",
        "Vocabulary({1: 1, 'a': 2})",
        _api_names,
        "vocab keys must be strings",
    ),
    ApiCase(
        "api-config-negative",
        "ModelConfig with rnn_size -1",
        "ModelConfig(rnn_size=-1)",
        _api_names,
        "rnn_size must be an integer from 1",
    ),
    ApiCase(
        "api-textgen-load-truncated",
        "TextGen.load of a model directory with a truncated weights.hdf5",
        "TextGen.load(folder)",
        lambda t, fx: {
            **_api_names(t, fx),
            "folder": str(_model_dir(t, fx, {"weights.hdf5": _half(fx["model_dir"] / "weights.hdf5")})),
        },
        "weights file",
    ),
    ApiCase(
        "api-read-texts-huge-line",
        "read_texts of a file with a 2·10^6-character line",
        "read_texts(path, header=False)",
        lambda t, fx: {**_api_names(t, fx), "path": _write(t / "big.txt", "ab" * 1_000_000 + "\n")},
        "--largetext",
    ),
]


# -- fixtures and the markdown listing ----------------------------------------------------------------------------


def build_fixtures(folder: Path) -> dict:
    """The pretrained legacy files plus a tiny model directory and a tiny ONNX bundle made from it."""
    from helpers import random_textgen
    from textgen_export.export.writer import export_bundle
    from textgen_export.keras import pretrained
    from textgen_export.keras.model_dir import save_model_dir
    from textgen_export.keras.network import text_model

    tg = random_textgen(seed=7)
    save_model_dir(folder / "model_dir", text_model(tg.model), tg.vocab, tg.config)
    export_bundle(tg.model, tg.vocab, tg.config, folder / "bundle", log=lambda _: None)
    export_bundle(tg.model, tg.vocab, tg.config, folder / "bundle_tfjs", tfjs=True, log=lambda _: None)
    return {
        **pretrained.paths(),
        "model_dir": folder / "model_dir",
        "bundle": folder / "bundle",
        "bundle_tfjs": folder / "bundle_tfjs",
    }


def _shown(arg: str, tmp: Path, fx: dict) -> str:
    arg = arg.encode("utf-8", "backslashreplace").decode("utf-8").replace(str(tmp), "$TMP")
    for name, path in fx.items():
        arg = arg.replace(str(path), f"${name.upper()}")
    if len(arg) > 80:
        return f"'{arg[:6]}…' ({len(arg):,} characters)"
    return arg if arg.startswith("$") else shlex.quote(arg)


def markdown(fx: dict, new_tmp: Callable[[], Path]) -> str:
    """tests/HOSTILE_INPUTS.md: every case with the command it runs (argv built for real in a fresh dir)."""
    cell = lambda text: str(text).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = [
        "# Hostile inputs",
        "",
        "Generated from `tests/hostile_cases.py` by `.venv/bin/python tests/hostile_cases.py`; "
        "`tests/integration/test_hostile_inputs.py` runs every case and fails if this file is out of date.",
        "",
        f"## CLI ({len(CASES)} cases)",
        "",
        "Each must exit with status 2 and print exactly one line on stderr containing the expected fragment, with",
        "no traceback, no output left behind and every file that existed before unchanged (byte for byte).",
        "`$TMP` is the test's scratch directory; `$WEIGHTS`, `$VOCAB`, `$CONFIG` are the pretrained textgenrnn",
        "files, `$MODEL_DIR` a tiny model directory and `$BUNDLE` a tiny bundle exported from it (cases copy",
        "them into `$TMP` before damaging them).",
        "",
        "| id | what | command | expected error contains |",
        "|---|---|---|---|",
    ]
    for case in CASES:
        tmp = new_tmp()
        command = "textgen-export " + " ".join(_shown(a, tmp, fx) for a in case.argv(tmp, fx))
        lines.append(f"| `{case.id}` | {cell(case.what)} | `{cell(command)}` | `{cell(case.expect)}` |")
    lines += [
        "",
        f"## Python API ({len(API_CASES)} cases)",
        "",
        "Each must raise `textgen_export.errors.UserError` (a `ValueError`) with a one-line message.",
        "",
        "| id | what | code | expected error contains |",
        "|---|---|---|---|",
    ]
    for case in API_CASES:
        lines.append(f"| `{case.id}` | {cell(case.what)} | `{cell(case.code)}` | `{cell(case.expect)}` |")
    lines += [
        "",
        f"## Node ({len(TWIN_CASES)} cases)",
        "",
        "Bundles the Python CLI refuses (the cases of the same id above) must be refused alike by the Node CLI,",
        "which reads them with the page's own modules: exit status 2 and one line on stderr, no stack trace.",
        "",
        "| id | what | command | expected error contains |",
        "|---|---|---|---|",
    ]
    for case in TWIN_CASES:
        command = f"node src/cli.mjs $TMP/bundle {' '.join(node_args(case))}"
        lines.append(f"| `{case.id}` | {cell(case.what)} | `{command}` | `{cell(case.expect_node)}` |")
    return "\n".join(lines) + "\n"


MARKDOWN = Path(__file__).with_name("HOSTILE_INPUTS.md")

if __name__ == "__main__":
    import tempfile

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        fixtures = build_fixtures(root / "fixtures")
        counter = iter(range(10**6))

        def fresh() -> Path:
            path = root / f"case{next(counter)}"
            path.mkdir()
            return path

        MARKDOWN.write_text(markdown(fixtures, fresh), encoding="utf-8")
    print(f"wrote {MARKDOWN} ({len(CASES)} CLI cases, {len(API_CASES)} API cases)")
