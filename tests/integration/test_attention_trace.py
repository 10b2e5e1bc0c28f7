"""Attention per generated token from Python: TextGen.trace / BundleRuntime.trace and `generate --attention-png`.

A trace is generation with a record of every step; its texts must equal plain generation's for the same seed,
its attention must be the model's (checked against the float64 oracle) and its candidates the sampler's numbers.
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers import export, random_textgen, run_cli
from textgen_export.contract.tokens import META_TOKEN
from textgen_export.errors import UserError
from textgen_export.keras import oracle
from textgen_export.runtime import load_bundle
from textgen_export.sampling.sampler import tempered
from textgen_export.sampling.trace import window_tokens

JOB = {"temperature": [0.5, 1.0], "prefix": "The q", "max_gen_length": 30, "seed": 11}
# float32 (Keras, ONNX Runtime) against the float64 oracle: attention weights are softmax outputs in [0, 1],
# like the probabilities docs/design.md §4 measures within ~3e-5 on real models; tiny random models sit far below.
ORACLE_ATOL = 1e-5


@pytest.fixture(scope="module")
def textgen():
    return random_textgen(seed=5)


@pytest.fixture(scope="module")
def bundle(textgen, tmp_path_factory):
    return export(textgen, tmp_path_factory.mktemp("trace") / "bundle", tfjs=False)


def _weights(tg):
    return {layer.name: layer.get_weights() for layer in tg.model.layers if layer.weights}


def test_trace_gives_the_same_texts_as_generate(textgen, bundle):
    traces = textgen.trace(n=3, **JOB)
    assert [t.text for t in traces] == textgen.generate(n=3, **JOB)
    runtime = load_bundle(bundle)
    assert [t.text for t in runtime.trace(n=3, **JOB)] == runtime.generate(n=3, **JOB)


def test_one_row_per_generated_token_and_rows_sum_to_one(textgen):
    (trace,) = textgen.trace(**JOB)
    start = textgen.generator.start_tokens(JOB["prefix"])
    matrix = trace.attention_matrix()
    assert matrix.shape == (len(trace.tokens) - len(start), textgen.config.max_length)
    assert [s.token for s in trace.steps] == trace.tokens[len(start) :]
    assert np.abs(matrix.sum(axis=1) - 1.0).max() <= 1e-5
    assert (matrix >= 0).all()


def test_each_step_records_its_window_attention_and_candidates(textgen):
    (trace,) = textgen.trace(top_k=4, **JOB)
    L = textgen.config.max_length
    start = len(textgen.generator.start_tokens(JOB["prefix"]))
    windows = textgen.vocab.windows([trace.tokens[: start + t] for t in range(len(trace.steps))], L)
    probs, attention = oracle.forward(_weights(textgen), textgen.config, windows)
    assert np.abs(trace.attention_matrix() - attention).max() <= ORACLE_ATOL
    for t, step in enumerate(trace.steps):
        assert step.window == window_tokens(trace.tokens[: start + t], L)
        assert step.window[-1] == trace.tokens[start + t - 1]
        assert step.temperature == JOB["temperature"][(start + t - 1) % 2]
        dist = tempered(probs[t : t + 1], step.temperature)[0]
        order = [i for i in np.argsort(-dist, kind="stable") if i != 0][:4]
        assert [tok for tok, _ in step.candidates] == [textgen.vocab.token(i) for i in order]
        assert np.abs(np.array([p for _, p in step.candidates]) - dist[order]).max() <= ORACLE_ATOL
    assert trace.steps[0].window[:-start] == [None] * (L - start)  # padding before the text starts


def test_greedy_candidates_are_the_models_probabilities(textgen, bundle):
    runtime = load_bundle(bundle)
    (trace,) = runtime.trace(temperature=0.0, max_gen_length=8, seed=1)
    first = trace.steps[0]
    probs = runtime.probs(runtime.vocab.windows([[META_TOKEN]], textgen.config.max_length))[0]
    assert first.candidates[0] == (first.token, pytest.approx(float(probs.max()), abs=1e-7))


def test_bundle_and_keras_traces_agree(textgen, bundle):
    keras_trace = textgen.trace(**JOB)[0]
    onnx_trace = load_bundle(bundle).trace(**JOB)[0]
    assert onnx_trace.tokens == keras_trace.tokens
    assert np.abs(onnx_trace.attention_matrix() - keras_trace.attention_matrix()).max() <= ORACLE_ATOL


def test_trace_rejects_a_bad_top_k(textgen):
    with pytest.raises(UserError, match="top_k"):
        textgen.trace(top_k=0)


# --- the CLI -------------------------------------------------------------------------------------------------


def test_generate_attention_png(bundle, tmp_path):
    png = tmp_path / "attention.png"
    args = ("generate", "--bundle", bundle, "--seed", "3", "--max-length", "20", "--prefix", "Th")
    done = run_cli(*args, "--attention-png", png, timeout=120)
    assert done.returncode == 0, done.stderr
    plain = run_cli(*args, timeout=120)
    assert done.stdout == plain.stdout  # the same text, printed whole
    assert "wrote" in done.stderr and str(png) in done.stderr
    import matplotlib.image

    image = matplotlib.image.imread(png)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
    assert not list(tmp_path.glob(".*.tmp"))


def test_attention_png_without_matplotlib_is_one_line(bundle, tmp_path):
    # A matplotlib that cannot be imported, first on the path: what a runtime-only install looks like.
    fake = tmp_path / "site" / "matplotlib"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('No module named matplotlib')\n")
    import os

    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    done = run_cli(
        "generate", "--bundle", bundle, "--attention-png", tmp_path / "a.png", env=env, timeout=120
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().endswith("error: --attention-png needs matplotlib: pip install matplotlib")
    assert done.stderr.count("\n") == 1
    assert not (tmp_path / "a.png").exists()


def test_attention_png_with_interactive_is_refused(bundle, tmp_path):
    done = run_cli("generate", "--bundle", bundle, "--interactive", "--attention-png", tmp_path / "a.png")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "--interactive" in done.stderr
