"""A context model's bundle carries its labels and its head (model.context.onnx, tfjs/context.json), checked for
every label at export and by `validate`; `load_bundle(B).generate(context=...)` and `generate --bundle B
--context L` give the Keras path's seeded text; model.onnx keeps the text-only contract for other apps."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import onnxruntime as ort
import pytest

from helpers import context_textgen, export, random_textgen, resign, run_cli
from textgen_export.errors import UserError
from textgen_export.runtime import load_bundle

OPTIONS = dict(n=3, temperature=0.7, max_gen_length=14, seed=11)
CONTEXTS = ("animal", "plant", ["animal", "fruit"], "fruit|plant")


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    textgen = context_textgen(seed=1)
    return textgen, export(textgen, tmp_path_factory.mktemp("context") / "bundle")


def test_the_bundle_carries_the_labels_and_the_head(made):
    _, bundle = made
    manifest = json.loads((bundle / "manifest.json").read_text())
    for name in ("labels.json", "model.context.onnx", "tfjs/context.json", "tfjs/context-shard1of1.bin"):
        assert name in manifest["files"]
    assert json.loads((bundle / "labels.json").read_text()) == ["animal", "fruit", "plant"]
    for key in ("onnx_context", "tfjs_context"):
        assert manifest["parity"][key]["passed"] and manifest["parity"][key]["labels"] == 3
    probe = json.loads((bundle / "parity" / "context_probe.json").read_text())
    assert sorted(probe["labels"]) == ["animal", "fruit", "plant"]


def test_model_onnx_keeps_the_text_only_contract(made):
    textgen, bundle = made
    session = ort.InferenceSession(str(bundle / "model.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["windows"]
    windows = textgen.vocab.windows([["<s>", "the"]], textgen.config.max_length)
    (probs,) = session.run(["probs"], {"windows": windows})
    np.testing.assert_allclose(probs, textgen.runtime.probs(windows), atol=1e-6)
    head = ort.InferenceSession(str(bundle / "model.context.onnx"), providers=["CPUExecutionProvider"])
    assert [(i.name, i.shape) for i in head.get_inputs()] == [
        ("windows", ["batch", 8]),
        ("context", ["batch", 3]),
    ]


@pytest.mark.parametrize("context", CONTEXTS, ids=str)
def test_python_bundle_runtime_generates_the_keras_text_for_labels(made, context):
    textgen, bundle = made
    runtime = load_bundle(bundle)
    texts = runtime.generate(**OPTIONS, context=context)
    assert texts == textgen.generate(**OPTIONS, context=context)
    pieces = [""] * OPTIONS["n"]
    for i, piece in runtime.stream(**OPTIONS, context=context):
        pieces[i] += piece
    assert pieces == texts
    assert [t.text for t in runtime.trace(**OPTIONS, context=context)] == texts


def test_no_label_is_the_text_path_and_an_unknown_one_is_refused(made):
    textgen, bundle = made
    runtime = load_bundle(bundle)
    assert runtime.generate(**OPTIONS) == textgen.generate(**OPTIONS)
    assert runtime.generate(**OPTIONS) != runtime.generate(**OPTIONS, context="animal")
    with pytest.raises(
        UserError, match=r"unknown context label 'tree'; this model knows: animal, fruit, plant"
    ):
        runtime.generate(**OPTIONS, context="tree")


def test_the_cli_generates_from_the_bundle_for_labels(made, tmp_path):
    textgen, bundle = made
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    rel = os.path.relpath(bundle, cwd)
    args = [
        "generate",
        "--bundle",
        rel,
        "-n",
        "3",
        "--temperature",
        "0.7",
        "--max-length",
        "14",
        "--seed",
        "11",
    ]
    done = run_cli(*args, "--context", "animal", "fruit", cwd=cwd)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == textgen.generate(**OPTIONS, context=["animal", "fruit"])
    bad = run_cli(*args, "--context", "tree", cwd=cwd)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip().splitlines() == [
        "textgen-export generate: error: unknown context label 'tree'; this model knows: animal, fruit, plant"
    ]


def test_validate_checks_the_head_for_every_label(made, tmp_path):
    _, bundle = made
    done = run_cli("validate", bundle)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "model.context.onnx, context head (worst of 3 labels" in done.stdout
    assert "tfjs/context.json, context head" in done.stdout
    # labels.json in another order (re-signed, so only the head's check stands in the way): each label now
    # feeds another label's input, which the float64 reference of every label catches
    swapped = tmp_path / "swapped"
    shutil.copytree(bundle, swapped)
    (swapped / "labels.json").write_text('["fruit", "animal", "plant"]\n')
    resign(swapped)
    bad = run_cli("validate", swapped)
    assert bad.returncode == 2 and "context head" in bad.stderr and bad.stderr.count("\n") == 1


def test_a_bundle_without_a_head_refuses_a_label(tmp_path):
    bundle = export(random_textgen(seed=3), tmp_path / "plain", tfjs=False)
    assert not (bundle / "labels.json").exists() and not (bundle / "model.context.onnx").exists()
    done = run_cli("generate", "--bundle", bundle, "--context", "animal")
    assert done.returncode == 2 and "no context head" in done.stderr and done.stderr.count("\n") == 1
