"""The padding fast path (model_tail.onnx + the padding tables; TF.js's tables made at load): the same probabilities
as the full windows up to float32 rounding, checked against the float64 reference at every padding count; identical
greedy and seeded text on both paths for the pretrained, a peaked fine-tuned, a word-level and a single_text model,
in Python (ONNX Runtime, Keras) and in Node (ONNX Runtime Node and Web, TF.js); gated at export and by `validate`;
bundles without it keep working; bidirectional models have none."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from helpers import export, random_textgen, resign, run_cli
from textgen_export.contract.bundle import ONNX_TAIL, TAIL
from textgen_export.keras.oracle import OracleAdapter, model_weights
from textgen_export.runtime import load_bundle

REPETITIVE = "the cat sat on the mat. the dog lay on the rug. " * 20


@pytest.fixture(scope="module")
def char_bundle(tmp_path_factory):
    tg = random_textgen(seed=3)
    return tg, export(tg, tmp_path_factory.mktemp("char") / "bundle")


@pytest.fixture(scope="module")
def peaked(tmp_path_factory):
    """A small model fine-tuned on repetitive text until its loss is low: peaked next-token distributions."""
    tg = random_textgen(seed=1, rnn_size=32, max_length=16)
    tg.train(
        [REPETITIVE] * 4, num_epochs=20, batch_size=64, gen_epochs=0, verbose=0, seed=1, say=lambda *_: None
    )
    return tg, export(tg, tmp_path_factory.mktemp("peaked") / "bundle")


def padded_windows(num_classes: int, length: int, k: int, rows: int = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed + k)
    windows = np.zeros((rows, length), np.int32)
    windows[:, length - k :] = rng.integers(1, num_classes, size=(rows, k))
    return windows


def test_fast_path_matches_float64_at_every_padding_count(char_bundle):
    tg, folder = char_bundle
    manifest = json.loads((folder / "manifest.json").read_text())
    bound = manifest["parity"]["onnx"]["tolerance"]
    assert manifest["parity"]["onnx_tail"]["passed"] and ONNX_TAIL in manifest["files"]
    oracle = OracleAdapter(model_weights(tg.model), tg.config)
    fast = load_bundle(folder).adapter
    length, classes = tg.config.max_length, tg.vocab.num_classes
    for k in range(1, length + 1):
        windows = padded_windows(classes, length, k)
        probs, attention = fast.outputs(windows)
        want_probs, want_attention = oracle.outputs(windows)
        assert np.abs(probs - want_probs).max() <= bound, k
        assert np.abs(attention - want_attention).max() <= bound, k
        assert np.allclose(attention.sum(axis=1), 1.0, atol=1e-5)
        assert np.abs(tg.runtime.probs(windows) - want_probs).max() <= bound, k  # Keras's fast path


def test_keras_fast_path_follows_weights_changed_in_place():
    """Training and load_weights change weights in place: the padding tables are made again, never stale."""
    from textgen_export.runtime.keras import KerasRuntime

    tg = random_textgen(seed=4)
    runtime = KerasRuntime(tg.model, config=tg.config)
    windows = padded_windows(tg.vocab.num_classes, tg.config.max_length, 4)
    runtime.probs(windows)  # tables made from the weights as they are now
    layer = tg.model.get_layer("rnn_1")
    kernel, recurrent, bias = layer.get_weights()
    layer.set_weights([kernel, recurrent * 1.5, bias + 0.3])
    want = OracleAdapter(model_weights(tg.model), tg.config).probs(windows)
    assert np.abs(runtime.probs(windows) - want).max() <= 2.0**-20


def test_the_adapter_runs_the_tail_graph_on_the_shared_padding(char_bundle):
    """Calls with padding go to model_tail.onnx with the padding every row shares cut off; others to model.onnx."""
    tg, folder = char_bundle
    adapter = load_bundle(folder, threads=1).adapter
    length, classes = tg.config.max_length, tg.vocab.num_classes
    windows = np.concatenate([padded_windows(classes, length, 5), padded_windows(classes, length, 8)])
    (direct,) = adapter._tail_large.run(["probs"], {TAIL: windows[:, -8:]})  # shared padding: length − 8
    assert np.array_equal(adapter.probs(windows), direct)
    full_windows = padded_windows(classes, length, length)
    (direct,) = adapter.session.run(["probs"], {"windows": full_windows})
    assert np.array_equal(adapter.probs(full_windows), direct)
    assert np.array_equal(adapter.probs(np.zeros((2, length), np.int32)), adapter.session.run(
        ["probs"], {"windows": np.zeros((2, length), np.int32)})[0])  # fmt: skip


def same_text_on_both_paths(tg, folder, prefixes=(None, "the", "How v")) -> None:
    """ONNX Runtime and Keras, each on both paths: the same greedy and seeded text."""
    from textgen_export.runtime.keras import KerasRuntime
    from textgen_export.sampling.generator import Generator

    fast, full = load_bundle(folder), load_bundle(folder, fast=False)
    assert fast.adapter.tail_path is not None and full.adapter.tail_path is None
    keras_full = Generator(KerasRuntime(tg.model, config=tg.config, fast=False), tg.vocab, tg.config)
    assert tg.runtime._fast is not None  # TextGen generates through the Keras fast path
    for prefix in prefixes:
        for options in (
            dict(n=2, temperature=0.0, prefix=prefix, max_gen_length=tg.config.max_length + 20),
            dict(n=5, temperature=[1.0, 0.5], prefix=prefix, max_gen_length=40, seed=11),
        ):
            texts = fast.generate(**options)
            assert texts == full.generate(**options) == tg.generate(**options), prefix
            assert texts == keras_full.generate(**options), prefix


def test_pretrained_text_identical_on_both_paths(pretrained_bundle, pretrained_textgen):
    same_text_on_both_paths(pretrained_textgen, pretrained_bundle, prefixes=(None, "Show HN: ", "Why I"))


@pytest.mark.slow
def test_peaked_model_text_identical_on_both_paths(peaked):
    tg, folder = peaked
    probe = json.loads((folder / "parity" / "probe.json").read_text())
    assert np.max(probe["probs"], axis=1).max() > 0.95  # confident, as real fine-tunes are
    same_text_on_both_paths(tg, folder, prefixes=(None, "the ", "the dog l"))


@pytest.fixture(scope="module", params=["word_level", "single_text"])
def small_model(request, tmp_path_factory):
    """A word-level or a single_text model (small, random weights) with its bundle."""
    tg = random_textgen(seed=5, **{request.param: True})
    return tg, export(tg, tmp_path_factory.mktemp(request.param) / "bundle")


SMALL_PREFIXES = (None, "the quick", "zebras")


def test_word_and_single_text_models_identical_on_both_paths(small_model):
    same_text_on_both_paths(*small_model, prefixes=SMALL_PREFIXES)


def test_bidirectional_models_have_no_fast_path(tmp_path):
    tg = random_textgen(seed=2, rnn_bidirectional=True)
    folder = export(tg, tmp_path / "bundle", tfjs=False)
    assert not (folder / ONNX_TAIL).exists()
    assert load_bundle(folder).adapter.tail_path is None


def test_bundle_without_the_fast_path_keeps_working(char_bundle, tmp_path):
    """A format-1 bundle written before the fast path existed: the full path, the same text."""
    tg, folder = char_bundle
    old = tmp_path / "old"
    shutil.copytree(folder, old)
    (old / ONNX_TAIL).unlink()
    resign(old, drop=(ONNX_TAIL,))
    runtime = load_bundle(old)
    assert runtime.adapter.tail_path is None
    options = dict(n=3, temperature=0.7, max_gen_length=30, seed=4)
    assert runtime.generate(**options) == load_bundle(folder).generate(**options)
    done = run_cli("validate", old)
    assert done.returncode == 0 and ONNX_TAIL not in done.stdout, done.stderr


def test_validate_checks_the_fast_path_and_catches_wrong_tables(char_bundle, tmp_path):
    import onnx
    from onnx import numpy_helper

    _, folder = char_bundle
    done = run_cli("validate", folder)
    assert done.returncode == 0, done.stderr
    assert f"-[✓] {ONNX_TAIL} (padding fast path): probs max diff" in done.stdout
    bad = tmp_path / "bad"
    shutil.copytree(folder, bad)
    proto = onnx.load(bad / ONNX_TAIL)
    for init in proto.graph.initializer:
        if init.name == "padding_rows":  # every table the tail graph reads, 2 % off
            init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init) * 1.02, init.name))
    onnx.save(proto, bad / ONNX_TAIL)
    resign(bad)
    done = run_cli("validate", bad)
    assert done.returncode == 2 and f"{ONNX_TAIL} differs from the float64 reference" in done.stderr
    assert "Traceback" not in done.stderr


NODE_JOBS = [
    {"n": 1, "temperature": 0.0, "prefix": None, "maxGenLength": 60, "seed": 1},
    {"n": 3, "temperature": [0.5, 1.0], "prefix": "The ", "maxGenLength": 50, "seed": 42},
]


@pytest.mark.node
@pytest.mark.slow
@pytest.mark.parametrize("runtime", ["onnx", "onnx-web", "tfjs-cpu", "tfjs-wasm"])
def test_node_fast_path_same_probs_and_text_as_python(
    pretrained_bundle, pretrained_textgen, runtime, tmp_path
):
    """ONNX Runtime Node and Web and TF.js (the page's adapters, in Node): the fast path is taken, its probabilities
    on windows with shared padding are within the bundle's tolerance of float64, and seeded text is Python's."""
    from helpers import run_parity

    tg = pretrained_textgen
    manifest = json.loads((pretrained_bundle / "manifest.json").read_text())
    bound = manifest["parity"]["onnx"]["tolerance"]
    windows = np.concatenate([tg.vocab.windows([["<s>", *"Show HN: a"]] * 2, 40), padded_windows(465, 40, 7)])
    fast = run_parity(pretrained_bundle, runtime, windows[:2].tolist(), NODE_JOBS, tmp_path)
    tail = run_parity(pretrained_bundle, runtime, windows[2:].tolist(), [], tmp_path)
    full = run_parity(pretrained_bundle, runtime, windows.tolist(), NODE_JOBS, tmp_path, fast=False)
    assert fast["fast"] and not full["fast"]
    oracle = OracleAdapter(model_weights(tg.model), tg.config)
    want = oracle.probs(windows)
    assert np.abs(np.array(fast["probs"] + tail["probs"]) - want).max() <= bound
    assert np.abs(np.array(full["probs"]) - want).max() <= bound
    python = load_bundle(pretrained_bundle)
    for job, fast_texts, full_texts in zip(NODE_JOBS, fast["texts"], full["texts"], strict=True):
        options = dict(n=job["n"], temperature=job["temperature"], prefix=job["prefix"], seed=job["seed"])
        assert fast_texts == full_texts == python.generate(max_gen_length=job["maxGenLength"], **options)


def js_same_text_on_both_paths(tg, folder, runtime, prefixes, tmp_path) -> None:
    """A JS runtime (the page's adapter and generation loop, in Node) on both paths: greedy and seeded text
    identical to each other and to Python's."""
    from helpers import run_parity

    jobs = [
        job
        for prefix in prefixes
        for job in (
            {
                "n": 2,
                "temperature": 0.0,
                "prefix": prefix,
                "maxGenLength": tg.config.max_length + 20,
                "seed": 1,
            },
            {"n": 5, "temperature": [1.0, 0.5], "prefix": prefix, "maxGenLength": 40, "seed": 11},
        )
    ]
    fast = run_parity(folder, runtime, [], jobs, tmp_path)
    full = run_parity(folder, runtime, [], jobs, tmp_path, fast=False)
    assert fast["fast"] and not full["fast"]
    python = load_bundle(folder)
    for job, fast_texts, full_texts in zip(jobs, fast["texts"], full["texts"], strict=True):
        options = dict(n=job["n"], temperature=job["temperature"], prefix=job["prefix"], seed=job["seed"])
        want = python.generate(max_gen_length=job["maxGenLength"], **options)
        assert fast_texts == full_texts == want, (runtime, job)


@pytest.mark.node
@pytest.mark.slow
@pytest.mark.parametrize("runtime", ["tfjs-cpu", "onnx-web"])
def test_node_fast_path_text_identical_for_peaked_word_and_single_text(
    peaked, small_model, runtime, tmp_path
):
    js_same_text_on_both_paths(*peaked, runtime, (None, "the ", "the dog l"), tmp_path)
    js_same_text_on_both_paths(*small_model, runtime, SMALL_PREFIXES, tmp_path)


@pytest.mark.node
@pytest.mark.slow
@pytest.mark.parametrize("runtime", ["tfjs-cpu", "tfjs-wasm", "onnx-web"])
def test_node_fast_path_matches_float64_at_every_padding_count(char_bundle, runtime, tmp_path):
    """Each padding count reaches the JS fast path on its own (parity.mjs runs windows per padding count)."""
    from helpers import run_parity

    tg, folder = char_bundle
    bound = json.loads((folder / "manifest.json").read_text())["parity"]["onnx"]["tolerance"]
    length, classes = tg.config.max_length, tg.vocab.num_classes
    windows = np.concatenate([padded_windows(classes, length, k) for k in range(1, length + 1)])
    out = run_parity(folder, runtime, windows.tolist(), [], tmp_path)
    assert out["fast"]
    want_probs, want_attention = OracleAdapter(model_weights(tg.model), tg.config).outputs(windows)
    assert np.abs(np.array(out["probs"]) - want_probs).max() <= bound
    assert np.abs(np.array(out["attention"]) - want_attention).max() <= bound
