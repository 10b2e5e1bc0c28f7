"""ONNX export: the graph contract, the parity gate, Keras ≡ ORT generation, atomic bundles, int8, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from helpers import random_textgen, run_cli
from textgen_export.contract.bundle import Bundle
from textgen_export.errors import UserError
from textgen_export.export.writer import export_bundle
from textgen_export.runtime import load_bundle

MODELS = {
    "char": {},
    "char-1-layer": {"rnn_layers": 1},
    "word": {"word_level": True},
    "bidirectional": {"rnn_bidirectional": True},
}


def quiet(_: str) -> None:
    pass


@pytest.fixture(scope="module")
def pretrained_bundle(tmp_path_factory, pretrained_textgen):
    out = tmp_path_factory.mktemp("pretrained") / "bundle"
    tg = pretrained_textgen
    manifest = export_bundle(tg.model, tg.vocab, tg.config, out, log=quiet)
    return out, manifest


def assert_same_generation(tg, runtime, prefix: str | None = None) -> None:
    greedy = dict(temperature=0.0, prefix=prefix, max_gen_length=60)
    assert runtime.generate(**greedy) == tg.generate(**greedy)
    seeded = dict(n=6, temperature=[0.3, 1.0], prefix=prefix, max_gen_length=50, seed=1234)
    assert runtime.generate(**seeded) == tg.generate(**seeded)


def test_onnx_graph_contract(pretrained_bundle):
    import onnx

    folder, _ = pretrained_bundle
    proto = onnx.load(folder / "model.onnx")
    onnx.checker.check_model(proto, full_check=True)
    assert max(o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")) >= 17
    assert sum(node.op_type == "LSTM" for node in proto.graph.node) == 2  # native LSTM ops, not unrolled

    def shape(value):
        return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]

    (windows,) = proto.graph.input
    assert windows.name == "windows" and windows.type.tensor_type.elem_type == onnx.TensorProto.INT32
    assert shape(windows) == ["batch", 40]
    outputs = {o.name: shape(o) for o in proto.graph.output}
    assert outputs == {"probs": ["batch", 465], "attention": ["batch", 40]}


def test_pretrained_export_parity_and_generation(pretrained_bundle, pretrained_textgen, reference):
    folder, manifest = pretrained_bundle
    parity = manifest["parity"]["onnx"]
    assert parity["max_abs_diff"] <= 1e-5 and parity["windows"] >= 20
    runtime = load_bundle(folder)
    assert_same_generation(pretrained_textgen, runtime, prefix="Why I")
    # And the original textgenrnn's own greedy outputs, through ONNX Runtime.
    for prefix, text in list(reference["greedy"]["texts"].items())[:3]:
        length = reference["greedy"].get("max_gen_length", 120)
        assert runtime.generate(temperature=0.0, prefix=prefix, max_gen_length=length) == [text]


def test_pretrained_probs_and_attention_match_keras(pretrained_bundle, pretrained_textgen):
    from textgen_export.export.validate import keras_outputs
    from textgen_export.keras.export_variant import export_model

    tg = pretrained_textgen
    runtime = load_bundle(pretrained_bundle[0])
    windows = runtime.windows(["Show HN: a tiny", "What is the best way to", ""])
    probs, attention = keras_outputs(export_model(tg.model, tg.config, tg.vocab.num_classes), windows)
    assert np.abs(runtime.probs(windows) - probs).max() <= 1e-5
    assert np.abs(runtime.attention(windows) - attention).max() <= 1e-5
    assert np.allclose(runtime.attention(windows).sum(axis=1), 1.0, atol=1e-5)
    # The export variant adds an output without changing the text path (the full path: no padding skipped).
    from textgen_export.runtime.keras import KerasRuntime

    assert np.array_equal(KerasRuntime(tg.model, config=tg.config, fast=False).probs(windows), probs)


@pytest.mark.parametrize("changes", MODELS.values(), ids=MODELS.keys())
def test_small_models_export_validate_and_generate_like_keras(tmp_path, changes):
    tg = random_textgen(seed=3, **changes)
    manifest = export_bundle(tg.model, tg.vocab, tg.config, tmp_path / "bundle", log=quiet)
    assert manifest["parity"]["onnx"]["max_abs_diff"] <= 1e-5
    runtime = load_bundle(tmp_path / "bundle")
    assert runtime.config == tg.config
    assert runtime.vocab.token_to_index == tg.vocab.token_to_index
    assert_same_generation(tg, runtime, prefix="the quick" if changes.get("word_level") else "Pack")


def test_context_model_exports_its_text_path(tmp_path):
    from textgen_export.api.textgen import TextGen
    from textgen_export.keras.network import build_model, weighted_layers

    tg = random_textgen(seed=5)
    context = build_model(tg.config, tg.vocab.num_classes, context_size=3, dropout=0.1)
    for layer in weighted_layers(context):
        if layer.name in {lay.name for lay in weighted_layers(tg.model)}:
            layer.set_weights(tg.model.get_layer(layer.name).get_weights())
    export_bundle(context, tg.vocab, tg.config, tmp_path / "bundle", log=quiet)
    runtime = load_bundle(tmp_path / "bundle")
    assert_same_generation(TextGen(context, tg.vocab, tg.config), runtime)


def test_failed_parity_leaves_the_previous_bundle_and_no_partial_one(tmp_path, pretrained_bundle):
    tg = random_textgen(seed=7)
    out = tmp_path / "bundle"
    first = export_bundle(tg.model, tg.vocab, tg.config, out, log=quiet)
    before = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert first["parity"]["onnx"]["max_abs_diff"] > 1e-13  # so the tighter gate below really fails
    with pytest.raises(UserError, match=r"differs from the float64 reference by .* no bundle was written"):
        export_bundle(tg.model, tg.vocab, tg.config, out, log=quiet, atol=1e-13)
    assert {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]  # no temp directory left behind
    with pytest.raises(UserError):
        export_bundle(tg.model, tg.vocab, tg.config, tmp_path / "fresh", log=quiet, atol=1e-13)
    assert not (tmp_path / "fresh").exists()


def test_probe_is_stored_and_listed_for_other_runtimes(pretrained_bundle):
    folder, manifest = pretrained_bundle
    assert "parity/probe.json" in manifest["files"]
    probe = json.loads((folder / "parity/probe.json").read_text())
    assert (
        len(probe["windows"])
        == len(probe["probs"])
        == len(probe["attention"])
        == manifest["parity"]["onnx"]["windows"]
    )
    assert np.allclose(np.sum(probe["probs"], axis=1), 1.0, atol=1e-5)
    Bundle(folder)  # checksums of everything, probe included


def test_int8_quantisation_reports_size_and_bits_per_token(tmp_path):
    tg = random_textgen(seed=9, rnn_size=32)
    manifest = export_bundle(tg.model, tg.vocab, tg.config, tmp_path / "b", quantize="int8", log=quiet)
    report = manifest["parity"]["onnx_int8"]
    assert "model.int8.onnx" in manifest["files"]
    assert report["size"] == manifest["files"]["model.int8.onnx"]["size"] < report["float_size"]
    assert report["heldout_tokens"] > 100 and np.isfinite(report["delta_bits_per_token"])
    int8 = load_bundle(tmp_path / "b", model_file="model.int8.onnx")
    assert len(int8.generate(n=2, seed=1, max_gen_length=20)) == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["--quantize", "float16"], "applies to the TF.js weights; add --tfjs"),
        (["--tfjs", "--quantize", "int8"], "applies to the ONNX model; add --onnx"),
        (["--weights", "missing.hdf5"], "weights file not found: missing.hdf5"),
        (["--vocab", "v.json"], "need --weights too"),
    ],
)
def test_export_cli_bad_options_exit_2_with_one_line(tmp_path, args, message):
    done = run_cli("export", "--out", tmp_path / "b", *args)
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "b").exists()


def test_export_and_validate_cli_on_a_model_directory(tmp_path):
    tg = random_textgen(seed=2)
    tg.save(tmp_path / "model")

    done = run_cli("export", str(tmp_path / "model"), "--out", str(tmp_path / "bundle"))
    assert done.returncode == 0, done.stderr
    assert "probs max diff" in done.stdout and done.stderr == ""
    done = run_cli("validate", str(tmp_path / "bundle"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("ok")
    done = run_cli(
        "generate", "--bundle", str(tmp_path / "bundle"), "--temperature", "0", "--max-length", "30"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == tg.generate(temperature=0.0, max_gen_length=30)[0] + "\n"
