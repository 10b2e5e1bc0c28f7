"""The TF.js Layers writer: topology TF.js reads, weights by TF.js's names, ≤ 4 MB shards, TF.js quantisation.

Loading in real TF.js is proven in tests/e2e/test_node_parity.py and tests/e2e/test_browser.py; here the file format
itself is checked, plus one Node load of a bundle big enough to need several shards.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from helpers import export, probe, random_textgen, run_parity
from textgen_export.errors import UserError
from textgen_export.export.tfjs import SHARD_BYTES, named_weights, write_tfjs


def read_weights(folder) -> dict[str, np.ndarray]:
    """Decode model.json + shards exactly as TF.js's io.decodeWeights does (incl. quantisation)."""
    model_json = json.loads((folder / "model.json").read_text())
    (group,) = model_json["weightsManifest"]
    data = b"".join((folder / p).read_bytes() for p in group["paths"])
    out, offset = {}, 0
    for spec in group["weights"]:
        count = int(np.prod(spec["shape"]))
        q = spec.get("quantization")
        dtype = {None: "<f4", "float16": "<f2", "uint8": "u1"}[q and q["dtype"]]
        values = np.frombuffer(data, dtype=dtype, count=count, offset=offset).astype(np.float64)
        offset += count * np.dtype(dtype).itemsize
        if q and q["dtype"] == "uint8":
            values = values * q["scale"] + q["min"]
        out[spec["name"]] = values.reshape(spec["shape"])
    assert offset == len(data), "weights manifest does not cover the shards exactly"
    return out


@pytest.mark.parametrize("bidirectional", [False, True])
def test_topology_and_weights(tmp_path, bidirectional):
    textgen = random_textgen(rnn_bidirectional=bidirectional, rnn_layers=2)
    model = export(textgen, tmp_path / "b", onnx=False)
    folder = model / "tfjs"
    model_json = json.loads((folder / "model.json").read_text())
    assert model_json["format"] == "layers-model"
    topology = model_json["modelTopology"]
    assert topology["keras_version"].startswith("2.") and topology["backend"] == "tensorflow"
    config = topology["model_config"]["config"]
    classes = [layer["class_name"] for layer in config["layers"]]
    rnn = "Bidirectional" if bidirectional else "LSTM"
    assert classes == [
        "InputLayer",
        "Embedding",
        rnn,
        rnn,
        "Concatenate",
        "AttentionWeightedAverage",
        "Dense",
    ]
    # Keras-2 style: batch_input_shape, no Keras-3 keys that TF.js rejects.
    assert config["layers"][0]["config"]["batch_input_shape"] == [None, textgen.config.max_length]
    assert "batch_shape" not in json.dumps(topology) and "__keras_tensor__" not in json.dumps(topology)
    assert config["output_layers"] == [["output", 0, 0], ["attention", 0, 1]]
    # Every Keras weight is in the shards, bit for bit, under its TF.js name.
    stored = read_weights(folder)
    keras_weights = named_weights(textgen.model, textgen.config)
    assert list(stored) == [name for name, _ in keras_weights]
    for name, value in keras_weights:
        np.testing.assert_array_equal(stored[name], value, err_msg=name)


@pytest.mark.parametrize("quantize", ["float16", "uint8"])
def test_quantisation_uses_tfjs_fields(tmp_path, quantize):
    textgen = random_textgen(seed=4)
    write_tfjs(textgen.model, textgen.config, tmp_path, quantize=quantize)
    stored = read_weights(tmp_path)
    specs = json.loads((tmp_path / "model.json").read_text())["weightsManifest"][0]["weights"]
    assert all(s["quantization"]["dtype"] == quantize for s in specs)
    for (name, value), spec in zip(named_weights(textgen.model, textgen.config), specs, strict=True):
        if quantize == "float16":
            np.testing.assert_array_equal(stored[name], value.astype(np.float16).astype(np.float64))
        else:
            step = spec["quantization"]["scale"]
            assert np.abs(stored[name] - value).max() <= step / 2 + 1e-7, name


def test_bad_quantisation_is_a_user_error(tmp_path):
    textgen = random_textgen()
    with pytest.raises(UserError, match="float16, uint8"):
        write_tfjs(textgen.model, textgen.config, tmp_path / "t", quantize="int4")
    assert not (tmp_path / "t").exists()


@pytest.mark.node
@pytest.mark.slow
def test_large_model_is_sharded_and_loads_in_tfjs(tmp_path):
    # 1000 words, 1100-dim embeddings: embedding and output kernels ≈ 4.4 MB each, several 4 MB shards.
    from textgen_export.api.textgen import TextGen
    from textgen_export.contract.config import ModelConfig
    from textgen_export.contract.vocabulary import Vocabulary

    vocab = Vocabulary({f"w{i}": i + 1 for i in range(999)} | {"<s>": 1000}, word_level=True)
    config = ModelConfig(rnn_size=8, rnn_layers=1, max_length=6, dim_embeddings=1100, word_level=True)
    bundle = export(TextGen.new(config, vocab), tmp_path / "big", onnx=False)
    shards = sorted((bundle / "tfjs").glob("group1-shard*.bin"))
    total = sum(p.stat().st_size for p in shards)
    assert len(shards) == -(-total // SHARD_BYTES) >= 2
    assert all(p.stat().st_size == SHARD_BYTES for p in shards[:-1])
    reference = probe(bundle)
    out = run_parity(bundle, "tfjs-cpu", reference["windows"], [], tmp_path)
    assert np.abs(np.array(out["probs"]) - np.array(reference["probs"])).max() <= 1e-5


def test_export_cli_tfjs_uint8_into_a_signed_bundle(tmp_path):
    """`textgen-export export MODEL --onnx --tfjs --quantize uint8`: tfjs/ files listed (sha256) in the manifest."""
    import subprocess
    import sys

    from textgen_export.contract.bundle import Bundle

    random_textgen(seed=2).save(tmp_path / "model")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "textgen_export",
            "export",
            str(tmp_path / "model"),
            "--out",
            str(tmp_path / "b"),
            "--onnx",
            "--tfjs",
            "--quantize",
            "uint8",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    files = Bundle(tmp_path / "b").manifest["files"]
    assert {"tfjs/model.json", "tfjs/group1-shard1of1.bin", "model.onnx"} <= set(files)
    specs = json.loads((tmp_path / "b" / "tfjs" / "model.json").read_text())["weightsManifest"][0]["weights"]
    assert {s["quantization"]["dtype"] for s in specs} == {"uint8"}
