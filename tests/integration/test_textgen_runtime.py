"""TextGen keeps one traced runtime per model: context models do not retrace on every generate()."""

from __future__ import annotations

from helpers import random_textgen
from textgen_export.api.textgen import TextGen
from textgen_export.keras.network import build_model


def test_context_model_traces_once_across_generate_calls():
    base = random_textgen(seed=4)
    context_model = build_model(base.config, base.vocab.num_classes, context_size=3)
    tg = TextGen(context_model, base.vocab, base.config)
    first = tg.generate(n=2, temperature=0.5, seed=1, max_gen_length=8)
    runtime = tg.runtime
    traces = runtime._call.experimental_get_tracing_count()
    again = tg.generate(n=2, temperature=0.5, seed=1, max_gen_length=8)
    assert tg.runtime is runtime and runtime._call.experimental_get_tracing_count() == traces
    assert again == first


def test_assigning_a_model_builds_a_new_runtime():
    tg = random_textgen(seed=5)
    before = tg.runtime
    tg.model = random_textgen(seed=6).model
    assert tg.runtime is not before and tg.runtime.model is not before.model
