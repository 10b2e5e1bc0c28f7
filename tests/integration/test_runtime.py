"""The TF-free runtime: no TensorFlow import, the generation API, and one-line errors for bad bundles."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from helpers import random_textgen, run_cli, run_python
from textgen_export.contract.bundle import write_manifest
from textgen_export.contract.config import ModelConfig
from textgen_export.runtime import load_bundle


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from textgen_export.export.writer import export_bundle

    tg = random_textgen(seed=21)
    folder = tmp_path_factory.mktemp("runtime") / "bundle"
    export_bundle(tg.model, tg.vocab, tg.config, folder, log=lambda _: None)
    return folder, tg


@pytest.fixture
def bundle(exported, tmp_path):
    """A fresh copy of the exported bundle that a test may damage."""
    copy = tmp_path / "bundle"
    shutil.copytree(exported[0], copy)
    return copy


def test_runtime_never_imports_tensorflow(exported):
    done = run_python(
        f"""
        import sys
        from textgen_export.runtime import load_bundle
        from textgen_export.export.validate import validate_bundle
        from textgen_export.cli import main
        rt = load_bundle({str(exported[0])!r})
        rt.generate(n=3, temperature=[0.5, 1.0], prefix="The", max_gen_length=30, seed=1)
        list(rt.stream(n=1, temperature=0.0, max_gen_length=20))
        rt.probs(rt.windows(["a"])), rt.attention(rt.windows(["a"]))
        assert validate_bundle({str(exported[0])!r})["max_abs_diff"] <= 1e-5
        assert main(["generate", "--bundle", {str(exported[0])!r}, "--max-length", "10", "--seed", "1"]) == 0
        assert main(["validate", {str(exported[0])!r}]) == 0
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "tf2onnx", "h5py"))
        print("HEAVY", loaded)
        """
    )
    assert done.returncode == 0, done.stderr
    assert "HEAVY []" in done.stdout


def test_generate_and_stream_match_keras(exported):
    folder, tg = exported
    rt = load_bundle(folder)
    options = dict(temperature=[0.2, 0.8], prefix="How", max_gen_length=40, seed=99)
    texts = rt.generate(n=3, **options)
    assert texts == tg.generate(n=3, **options)
    pieces = ["", "", ""]
    for i, piece in rt.stream(n=3, **options):
        pieces[i] += piece
    assert pieces == texts
    assert rt.generate(temperature=0.0, max_gen_length=25) == tg.generate(temperature=0.0, max_gen_length=25)


def test_probs_and_attention_api(exported):
    folder, tg = exported
    rt = load_bundle(folder)
    windows = rt.windows(["The quick", "Pack my box with five dozen liquor jugs"])
    assert windows.shape == (2, tg.config.max_length) and windows.dtype == np.int32
    assert np.abs(rt.probs(windows) - tg.runtime.probs(windows)).max() <= 1e-5
    attention = rt.attention(windows)
    assert attention.shape == windows.shape and np.allclose(attention.sum(axis=1), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match=r"shape \[batch, 12\]"):
        rt.probs(np.zeros((2, 5), dtype=np.int32))
    with pytest.raises(ValueError, match="window indices must be from 0 to"):
        rt.probs(np.full((1, 12), tg.vocab.num_classes, dtype=np.int32))
    with pytest.raises(ValueError, match="temperature"):
        rt.generate(temperature=-1)


def rewrite_manifest(folder, config=None, num_classes=None):
    """Re-list the files so checksums match: the damage under test is then the only problem."""
    manifest = json.loads((folder / "manifest.json").read_text())
    config = config or ModelConfig.load(folder / "config.json")
    write_manifest(folder, config, num_classes or manifest["num_classes"], manifest["parity"])


def missing_vocab(folder):
    (folder / "vocab.json").unlink()


def missing_model(folder):
    (folder / "model.onnx").unlink()


def missing_manifest(folder):
    (folder / "manifest.json").unlink()


def damaged_model(folder):
    with open(folder / "model.onnx", "ab") as f:
        f.write(b"\0")


def edited_vocab(folder):
    vocab = json.loads((folder / "vocab.json").read_text())
    vocab["a"], vocab["b"] = vocab["b"], vocab["a"]
    (folder / "vocab.json").write_text(json.dumps(vocab))


def config_disagrees(folder):
    config = ModelConfig.load(folder / "config.json").replace(max_length=13)
    config.save(folder / "config.json")
    rewrite_manifest(folder, config)


def vocab_disagrees(folder):
    vocab = json.loads((folder / "vocab.json").read_text())
    vocab["new token"] = len(vocab) + 1
    (folder / "vocab.json").write_text(json.dumps(vocab))
    rewrite_manifest(folder, num_classes=len(vocab) + 1)


def not_onnx(folder):
    (folder / "model.onnx").write_bytes(b"this is not an ONNX model\n" * 10)
    rewrite_manifest(folder)


def future_version(folder):
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["format_version"] = 99
    (folder / "manifest.json").write_text(json.dumps(manifest))


def not_a_manifest(folder):
    (folder / "manifest.json").write_text('{"hello": "world"}')


BAD_BUNDLES = {
    "missing vocab": (missing_vocab, r"is missing vocab\.json; re-export"),
    "missing model": (missing_model, r"is missing model\.onnx; re-export"),
    "missing manifest": (missing_manifest, r"bundle manifest file not found: .*manifest\.json"),
    "damaged model": (damaged_model, r"bundle file model\.onnx does not match its checksum"),
    "edited vocab": (edited_vocab, r"bundle file vocab\.json does not match its checksum"),
    "config vs onnx": (
        config_disagrees,
        r"'windows' has shape \['batch', 12\] but config\.json .* \[batch, 13\]",
    ),
    "vocab vs onnx": (vocab_disagrees, r"'probs' has shape \['batch', \d+\] but vocab\.json gives"),
    "not onnx": (not_onnx, r"model\.onnx is not a loadable ONNX model"),
    "future version": (future_version, r"bundle format version 99 is not supported"),
    "not a manifest": (not_a_manifest, r"is not a textgen-export bundle manifest"),
}


@pytest.mark.parametrize("damage, message", BAD_BUNDLES.values(), ids=BAD_BUNDLES.keys())
def test_bad_bundle_is_a_value_error_with_the_cli_text(bundle, damage, message):
    damage(bundle)
    with pytest.raises(ValueError, match=message) as error:
        load_bundle(bundle)
    text = str(error.value)
    assert "\n" not in text
    for command in (["generate", "--bundle", str(bundle)], ["validate", str(bundle)]):
        done = run_cli(*command)
        assert done.returncode == 2
        assert done.stderr == f"textgen-export {command[0]}: error: {text}\n"
        assert done.stdout == ""


def test_validate_catches_a_model_that_drifted_from_keras(bundle):
    probe = json.loads((bundle / "parity/probe.json").read_text())
    probe["probs"][0][1] += (
        1e-3  # as if the ONNX model no longer computed what the float64 reference computes
    )
    (bundle / "parity/probe.json").write_text(json.dumps(probe))
    rewrite_manifest(bundle)
    done = run_cli("validate", str(bundle))
    assert done.returncode == 2
    assert (
        "differs from the float64 reference by 0.001" in done.stderr and "re-export the bundle" in done.stderr
    )
    assert len(done.stderr.strip().splitlines()) == 1


def test_missing_bundle_directory(tmp_path):
    with pytest.raises(ValueError, match="bundle directory not found"):
        load_bundle(tmp_path / "nothing")


def test_thread_count_never_changes_results(exported):
    """The adapter picks one thread or all cores per batch size (calibrated at B=1 when it opens); that is only
    safe if both agree bit for bit, and repeated calls through the adapter never change."""
    from textgen_export.runtime.onnx import OnnxRuntime, open_session

    folder, tg = exported
    probe = json.loads((folder / "parity/probe.json").read_text())
    windows = np.asarray(probe["windows"], dtype=np.int32)
    one, two = open_session(folder / "model.onnx", 1), open_session(folder / "model.onnx", 2)
    for batch in (windows[:1], windows[:3], windows):
        assert np.array_equal(
            one.run(["probs"], {"windows": batch})[0], two.run(["probs"], {"windows": batch})[0]
        )
    adapter = OnnxRuntime(folder / "model.onnx")
    first = [adapter.probs(windows[:1]) for _ in range(30)]  # spans the calibration and the choice it makes
    assert all(np.array_equal(first[0], p) for p in first)
