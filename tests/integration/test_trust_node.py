"""The Node reader (the page's own modules) reads only files the manifest lists, inside the bundle, regular; the
Node CLI answers argument errors in one line; model text reaching a terminal is escaped."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import WEB_DEMO, copy_bundle, export, node_cli, node_ready, resign, run_in_terminal

pytestmark = [pytest.mark.node]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, tiny_bundle) -> Path:
    return copy_bundle(tiny_bundle, tmp_path_factory.mktemp("b") / "bundle")


@pytest.fixture
def copy(bundle, tmp_path) -> Path:
    shutil.copytree(bundle, tmp_path / "bundle")
    return tmp_path / "bundle"


def one_line_error(done, expect: str) -> None:
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "    at " not in done.stderr and expect in done.stderr, (
        done.stderr
    )


@pytest.mark.parametrize("shard", ["../../outside.bin", "/tmp/outside.bin"])
def test_weights_manifest_paths_cannot_leave_the_bundle(copy, tmp_path, shard):
    model_json = copy / "tfjs" / "model.json"
    model = json.loads(model_json.read_text())
    real = copy / "tfjs" / model["weightsManifest"][0]["paths"][0]
    shutil.copy(real, tmp_path / "outside.bin")  # a shard that would even load: only the path is wrong
    model["weightsManifest"][0]["paths"][0] = shard
    model_json.write_text(json.dumps(model))
    resign(copy)
    one_line_error(node_cli(copy, "--runtime", "tfjs-cpu", "--max-length", "5"), "unsafe path")


def test_an_unlisted_shard_is_not_read(copy):
    manifest = json.loads((copy / "manifest.json").read_text())
    shard = next(n for n in manifest["files"] if n.endswith(".bin"))
    del manifest["files"][shard]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    one_line_error(
        node_cli(copy, "--runtime", "tfjs-cpu", "--max-length", "5"), "not listed in manifest.json"
    )


def test_a_symlinked_vocab_is_refused_without_showing_it(copy, tmp_path):
    # A vocabulary that would even work, carrying a token only the outside file has; the manifest re-signed.
    vocab = json.loads((copy / "vocab.json").read_text())
    vocab["secret-token-from-outside"] = len(vocab) + 1
    (tmp_path / "outside.json").write_text(json.dumps(vocab))
    (copy / "vocab.json").unlink()
    os.symlink(tmp_path / "outside.json", copy / "vocab.json")
    resign(copy)
    done = node_cli(copy, "--runtime", "onnx", "--max-length", "5")
    one_line_error(done, "resolves outside the bundle")
    assert "secret-token" not in done.stdout + done.stderr


def test_onnx_external_data_is_refused_by_the_node_reader(copy):
    import onnx

    model = onnx.load(copy / "model.onnx")
    onnx.save_model(
        model, copy / "model.onnx", save_as_external_data=True, location="ext.bin", size_threshold=0
    )
    resign(copy)
    one_line_error(node_cli(copy, "--runtime", "onnx", "--max-length", "5"), "ONNX external data")
    one_line_error(node_cli(copy, "--runtime", "onnx-web", "--max-length", "5"), "ONNX external data")


def test_a_fifo_does_not_hang_the_node_reader(copy):
    (copy / "config.json").unlink()
    os.mkfifo(copy / "config.json")
    one_line_error(node_cli(copy, "--runtime", "onnx", "--max-length", "5", timeout=60), "not a regular file")


@pytest.mark.parametrize(
    "args, expect",
    [
        (["--bogus"], "Unknown option '--bogus'"),
        ([], "give exactly one BUNDLE"),
        (["b", "--n", "many"], "--n must be an integer"),
        (["b", "--max-length=0"], "--max-length must be an integer"),
        (["b", "--temperature", "x"], "--temperature must be numbers"),
        (["b", "--seed", "1.5"], "--seed must be an integer"),
    ],
)
def test_node_cli_argument_errors_are_one_line(args, expect):
    one_line_error(node_cli(*args), expect)


def test_node_cli_help():
    done = node_cli("--help")
    assert done.returncode == 0 and done.stdout.startswith("usage: node src/cli.mjs BUNDLE")


def hostile_vocab_bundle(tmp_path: Path) -> Path:
    """A bundle whose vocabulary holds an escape sequence token that greedy decoding emits first."""
    from textgen_export.api.textgen import TextGen
    from textgen_export.contract.config import ModelConfig
    from textgen_export.contract.vocabulary import Vocabulary
    from textgen_export.keras.backend import keras

    keras.utils.set_random_seed(0)
    config = ModelConfig(rnn_size=8, max_length=6, dim_embeddings=4, word_level=True)
    vocab = Vocabulary({"\x1b[32mok\x1b[0m": 1, "\x1b[2J": 2, "<s>": 3}, word_level=True)
    tg = TextGen.new(config, vocab)
    output = tg.model.get_layer("output")
    kernel, bias = output.get_weights()
    bias[:] = [-9, 9, 8, 1]  # greedy: the escape token, then it again ...; <s> never most likely
    output.set_weights([kernel * 0, bias])
    return export(tg, tmp_path / "bundle", tfjs=False)


def test_model_text_to_a_terminal_is_escaped_and_to_a_file_exact(tmp_path):
    bundle = hostile_vocab_bundle(tmp_path)
    status, shown, _ = run_in_terminal(
        [
            node_ready(),
            "src/cli.mjs",
            str(bundle),
            "--runtime",
            "onnx",
            "--temperature",
            "0",
            "--max-length",
            "4",
        ],
        cwd=WEB_DEMO,
    )
    assert status == 0 and "\x1b" not in shown and "\\u001b[32mok" in shown, shown
    status, shown, _ = run_in_terminal(
        [
            sys.executable,
            "-m",
            "textgen_export",
            "generate",
            "--bundle",
            str(bundle),
            "--temperature",
            "0",
            "--max-length",
            "4",
        ],
        cwd=Path.cwd(),
    )
    assert status == 0 and "\x1b" not in shown and "\\x1b[32mok" in shown, shown
    out = tmp_path / "texts.txt"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "textgen_export",
            "generate",
            "--bundle",
            str(bundle),
            "--temperature",
            "0",
            "--max-length",
            "4",
            "--out",
            str(out),
        ],
        capture_output=True,
    )
    assert done.returncode == 0, done.stderr
    assert "\x1b[32mok\x1b[0m" in out.read_text(encoding="utf-8")  # files get the exact text


URL_READ = """
import { urlSource } from "./src/contract/bundle.js";
try {
  await urlSource(process.argv.at(-1)).read("model.onnx", 1);
  console.log("read");
} catch (err) {
  console.log(`${err.name}: ${err.message}`);
}
"""


def test_the_page_compares_the_size_before_reading_a_download(tmp_path):
    """A file the manifest says is 1 byte, served as 10 GB: refused from its Content-Length, not downloaded."""
    import threading

    from textgen_export.web.serve import Mount, make_server

    folder = tmp_path / "files"
    folder.mkdir()
    with open(folder / "model.onnx", "wb") as f:
        f.truncate(10 * 1024**3)
    httpd = make_server({}, port=0, extra={"/files/": Mount(folder)})
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/files/"
        done = subprocess.run(
            [node_ready(), "--input-type=module", "-e", URL_READ, url],
            cwd=WEB_DEMO,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert done.stdout.strip() == "BundleError: model.onnx: 10737418240 bytes, over the 1 expected", done


NEWER_UPPER = """
const found = [];
for (let c = 0; c < 0x110000; c++) {
  if (c >= 0xd800 && c < 0xe000) continue;
  const ch = String.fromCodePoint(c);
  if (ch.toLowerCase() !== ch) found.push(c);
}
console.log(JSON.stringify(found));
"""


def test_word_tokens_lower_case_every_code_point_alike_in_python_and_node(tmp_path):
    """Word level lower-cases as Unicode 14.0 does in both languages, whatever Unicode the engine has (Node's is
    newer: it lower-cases U+A7CB and 54 more); final sigma keeps its rules on either side of such a letter."""
    from textgen_export.contract.tokens import LOWERED, code_points, tokenize

    lowered = code_points(LOWERED)
    engine = json.loads(
        subprocess.run([node_ready(), "-e", NEWER_UPPER], capture_output=True, text=True, timeout=120).stdout
    )
    newer = [c for c in engine if c not in lowered]  # what this Node lower-cases and Unicode 14.0 does not
    every = " ".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    sigma = " ".join(f"ΑΣ{chr(c)}Σ {chr(c)}ΣΑ" for c in [*sorted(lowered), *newer])
    spec = tmp_path / "twins.json"
    spec.write_text(json.dumps({"seeds": [], "draws": 0, "texts": [every, sigma]}))
    done = subprocess.run(
        [node_ready(), "test/twins.mjs", str(spec)], cwd=WEB_DEMO, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    words = json.loads(done.stdout)["word"]
    assert words[0] == tokenize(every, True)
    assert words[1] == tokenize(sigma, True)


def test_seeded_word_level_text_is_identical_for_letters_newer_than_unicode_14(tmp_path):
    from textgen_export.api.textgen import TextGen
    from textgen_export.contract.config import ModelConfig
    from textgen_export.contract.vocabulary import Vocabulary
    from textgen_export.keras.backend import keras
    from textgen_export.runtime import load_bundle

    keras.utils.set_random_seed(3)
    config = ModelConfig(rnn_size=8, max_length=6, dim_embeddings=4, word_level=True)
    words = ["\ua7cbworld", "\u0264world", "hello", "a", "b", "c", "<s>"]
    tg = TextGen.new(config, Vocabulary({w: i for i, w in enumerate(words, start=1)}, word_level=True))
    bundle = export(tg, tmp_path / "bundle", tfjs=False)
    python = load_bundle(bundle).generate(
        n=3, temperature=1.0, prefix="Hello \ua7cbWORLD", seed=7, max_gen_length=12
    )
    done = node_cli(bundle, "--runtime", "onnx", "--json", "--n", "3", "--temperature", "1.0", "--seed", "7",
                    "--max-length", "12", "--prefix", "Hello \ua7cbWORLD")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [json.loads(line) for line in done.stdout.splitlines()] == python
