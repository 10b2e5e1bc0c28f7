"""Exports of real, fine-tuned (peaked) models pass the float64 gate with no option; a genuinely wrong
export fails and replaces nothing; TF.js exports are checked by decoding their shards; `validate` checks ONNX and
TF.js-only bundles."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from helpers import copy_bundle, export, random_textgen, run_cli
from textgen_export.contract.bundle import write_manifest
from textgen_export.errors import UserError
from textgen_export.export.writer import export_bundle

REPETITIVE = "the cat sat on the mat. the dog lay on the rug. " * 20


@pytest.fixture(scope="module")
def peaked(tmp_path_factory):
    """A small model fine-tuned on repetitive text until its loss is low: peaked next-token distributions."""
    tg = random_textgen(seed=1, rnn_size=32, max_length=16)
    tg.train(
        [REPETITIVE] * 4, num_epochs=30, batch_size=64, gen_epochs=0, verbose=0, seed=1, say=lambda *_: None
    )
    assert tg.metadata["train_loss"][-1] < 0.3  # nats per char: most next characters are near-certain
    folder = tmp_path_factory.mktemp("peaked") / "model"
    tg.save(folder)
    return tg, folder


@pytest.mark.slow
def test_peaked_model_exports_and_validates_with_no_option(peaked, tmp_path):
    tg, model_dir = peaked
    done = run_cli("export", model_dir, "--out", tmp_path / "b", "--onnx", "--tfjs")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    onnx = next(line for line in lines if line.startswith("-[✓] ONNX Runtime: probs max diff"))
    assert "vs float64 (Keras: " in onnx and "greedy text identical" in onnx
    assert any(line.startswith("-[✓] TF.js shards as decoded: probs max diff 0.0e+00") for line in lines)
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    parity = manifest["parity"]["onnx"]
    assert parity["passed"] and parity["reference"] == "float64"
    assert parity["max_abs_diff_probs"] <= parity["tolerance"]
    assert parity["greedy"]["tokens"] >= 20 and "first_difference" not in parity["greedy"]
    # The distributions really are peaked: the model is confident where real fine-tunes are.
    probe = json.loads((tmp_path / "b" / "parity" / "probe.json").read_text())
    assert np.max(probe["probs"], axis=1).max() > 0.95
    done = run_cli("validate", tmp_path / "b")
    assert done.returncode == 0, done.stderr
    assert (
        "-[✓] model.onnx: probs max diff" in done.stdout and "-[✓] tfjs/model.json as decoded" in done.stdout
    )


def _perturbed_to_onnx(monkeypatch, delta: float = 1e-2):
    """Make the converter write an ONNX model whose embedding table is off by `delta` in one column."""
    import onnx
    from onnx import numpy_helper

    from textgen_export.export import onnx as onnx_export

    real = onnx_export.to_onnx

    def wrong(keras_model, path):
        real(keras_model, path)
        proto = onnx.load(path)
        classes = keras_model.outputs[0].shape[-1]
        for init in proto.graph.initializer:
            value = numpy_helper.to_array(init)
            if value.ndim == 2 and value.shape[0] == classes:  # the embedding table
                value = value.copy()
                value[:, 0] += delta
                init.CopyFrom(numpy_helper.from_array(value, init.name))
                break
        else:
            raise AssertionError("no embedding table found")
        onnx.save(proto, path)

    monkeypatch.setattr(onnx_export, "to_onnx", wrong)


def test_a_wrong_export_fails_and_replaces_nothing(tmp_path, monkeypatch):
    tg = random_textgen(seed=7)
    out = export(tg, tmp_path / "b", tfjs=False)
    before = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    _perturbed_to_onnx(monkeypatch)
    logged: list[str] = []
    with pytest.raises(
        UserError,
        match=r"ONNX Runtime differs from the float64 reference by .* at probe window \d+, "
        r"output index \d+",
    ):
        export_bundle(tg.model, tg.vocab, tg.config, out, log=logged.append)
    assert any(line.startswith("-[x] ONNX Runtime") for line in logged)
    assert {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_validate_catches_a_tampered_onnx_model(tmp_path, monkeypatch):
    tg = random_textgen(seed=7)
    good = export(tg, tmp_path / "good", tfjs=False)
    _perturbed_to_onnx(monkeypatch, delta=1e-2)
    bad = tmp_path / "bad"
    from textgen_export.export import onnx as onnx_export
    from textgen_export.keras.export_variant import export_model

    shutil.copytree(good, bad)
    onnx_export.to_onnx(export_model(tg.model, tg.config, tg.vocab.num_classes), bad / "model.onnx")
    manifest = json.loads((bad / "manifest.json").read_text())
    write_manifest(bad, tg.config, tg.vocab.num_classes, manifest["parity"])  # re-signed: checksums pass
    done = run_cli("validate", bad)
    assert done.returncode == 2
    assert "differs from the float64 reference" in done.stderr and "output index" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert run_cli("validate", good).returncode == 0


def test_user_atol(tmp_path):
    tg = random_textgen(seed=2)
    tg.save(tmp_path / "model")
    done = run_cli("export", tmp_path / "model", "--out", tmp_path / "b", "--atol", "1e-13")
    assert done.returncode == 2 and "--atol" in done.stderr and not (tmp_path / "b").exists()
    done = run_cli("export", tmp_path / "model", "--out", tmp_path / "b", "--atol", "1e-4")
    assert done.returncode == 0, done.stderr
    assert "tolerance 1.0e-04" in done.stdout
    done = run_cli("validate", tmp_path / "b", "--atol", "1e-13")
    assert done.returncode == 2 and "tolerance 1e-13" in done.stderr
    assert run_cli("validate", tmp_path / "b", "--atol", "-1").returncode == 2


@pytest.fixture(scope="module")
def tfjs_only(tmp_path_factory):
    """A TF.js-only bundle (read-only: copy it to change it) and its model."""
    tg = random_textgen(seed=4)
    return export(tg, tmp_path_factory.mktemp("tfjs_only") / "b", onnx=False, tfjs=True), tg


def test_tfjs_only_bundle_validates_and_generate_explains(tfjs_only):
    bundle, _ = tfjs_only
    done = run_cli("validate", bundle)
    assert done.returncode == 0, done.stderr
    assert "-[✓] tfjs/model.json as decoded" in done.stdout and "model.onnx" not in done.stdout
    done = run_cli("generate", "--bundle", bundle)
    assert done.returncode == 2
    assert "only a TF.js model" in done.stderr and "serve" in done.stderr and "cli.mjs" in done.stderr


def test_tfjs_decoder_catches_damaged_weights(tfjs_only, tmp_path):
    bundle, tg = copy_bundle(tfjs_only[0], tmp_path / "b"), tfjs_only[1]
    shard = bundle / "tfjs" / "group1-shard1of1.bin"
    data = bytearray(shard.read_bytes())
    values = np.frombuffer(bytes(data), dtype="<f4").copy()
    values[-5] += 0.5  # one output weight, as a wrong layout or a bad writer would leave it
    shard.write_bytes(values.tobytes())
    manifest = json.loads((bundle / "manifest.json").read_text())
    write_manifest(bundle, tg.config, tg.vocab.num_classes, manifest["parity"])
    done = run_cli("validate", bundle)
    assert done.returncode == 2 and "tfjs/model.json differs from the float64 reference" in done.stderr


@pytest.mark.parametrize("quantize", ["float16", "uint8", "int8"])
def test_quantised_exports_report_size_and_bits_per_token(tmp_path, quantize):
    tg = random_textgen(seed=5)
    logged: list[str] = []
    manifest = export_bundle(
        tg.model,
        tg.vocab,
        tg.config,
        tmp_path / "b",
        tfjs=quantize != "int8",
        quantize=quantize,
        log=logged.append,
    )
    report = manifest["parity"]["onnx_int8" if quantize == "int8" else "tfjs"]
    assert 0 < report["size"] < report["float_size"]
    assert report["heldout_tokens"] > 100
    assert np.isfinite(report["bits_per_token"]) and np.isfinite(report["float_bits_per_token"])
    assert report["delta_bits_per_token"] == pytest.approx(
        report["bits_per_token"] - report["float_bits_per_token"]
    )
    assert any("held-out bits/token" in line for line in logged)
    assert any(line.startswith("-[i] ") and "quantised: reported, not gated" in line for line in logged)


@pytest.mark.node
def test_tfjs_export_is_checked_in_real_tfjs(tmp_path):
    from helpers import node_ready

    node_ready()
    tg = random_textgen(seed=6, rnn_bidirectional=True)
    logged: list[str] = []
    manifest = export_bundle(
        tg.model, tg.vocab, tg.config, tmp_path / "b", onnx=False, tfjs=True, log=logged.append
    )
    assert any(line.startswith("-[✓] @tensorflow/tfjs in Node (tfjs-cpu)") for line in logged)
    node = manifest["parity"]["tfjs_node"]
    assert node["passed"] and node["max_abs_diff_probs"] <= node["tolerance"]


@pytest.mark.node
def test_validate_loads_the_tfjs_model_in_real_tfjs(tmp_path):
    from helpers import node_ready

    node_ready()
    bundle = export(random_textgen(seed=6), tmp_path / "b", onnx=False, tfjs=True, quantize="float16")
    done = run_cli("validate", bundle)
    assert done.returncode == 0, done.stderr
    assert "-[i] tfjs/model.json as decoded" in done.stdout
    assert "-[✓] @tensorflow/tfjs in Node (tfjs-cpu), float16 weights" in done.stdout


def test_a_wrong_tfjs_writer_fails_the_export(tmp_path, monkeypatch):
    """Shards whose content is not the model's (here: the attention weights negated) never make a bundle."""
    from textgen_export.export import tfjs

    real = tfjs.named_weights

    def wrong(model, config):
        return [(n, -v if n == "attention/attention_W" else v) for n, v in real(model, config)]

    monkeypatch.setattr(tfjs, "named_weights", wrong)
    tg = random_textgen(seed=4)
    with pytest.raises(UserError, match=r"TF.js shards as decoded differs from the float64 reference"):
        export_bundle(
            tg.model, tg.vocab, tg.config, tmp_path / "b", onnx=False, tfjs=True, log=lambda _: None
        )
    assert not (tmp_path / "b").exists()
