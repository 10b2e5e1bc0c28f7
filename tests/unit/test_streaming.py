"""Streaming is linear in the text's length, and its pieces join to exactly the generated text."""

from __future__ import annotations

import time

import numpy as np
import pytest

from textgen_export.contract.config import ModelConfig
from textgen_export.contract.tokens import META_TOKEN
from textgen_export.contract.vocabulary import Vocabulary
from textgen_export.sampling.generator import Generator


class ConstantAdapter:
    """The same distribution for every window: no model cost, so the loop's own cost is what is measured."""

    def __init__(self, num_classes: int, never: int):
        self.row = np.full(num_classes, 1.0 / (num_classes - 2), dtype=np.float32)
        self.row[0] = self.row[never] = 0.0  # never pad, never the end marker: texts run to max_gen_length

    def probs(self, windows: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.row, (len(windows), len(self.row)))


def generator(word_level: bool) -> Generator:
    tokens = ["the", "cat", ",", "sat", ".", "'", '"', "(", ")"] if word_level else list("abc de,f.")
    vocab = Vocabulary({t: i for i, t in enumerate([*tokens, META_TOKEN], start=1)}, word_level)
    config = ModelConfig(max_length=8, word_level=word_level)
    return Generator(ConstantAdapter(vocab.num_classes, vocab.token_to_index[META_TOKEN]), vocab, config)


@pytest.mark.parametrize("word_level", [False, True])
def test_stream_pieces_join_to_the_generated_text(word_level):
    gen = generator(word_level)
    options = {"n": 3, "temperature": 1.0, "seed": 11, "max_gen_length": 400, "prefix": "the"}
    texts = gen.generate(**options)
    pieces = ["", "", ""]
    for i, piece in gen.stream(**options):
        pieces[i] += piece
    assert pieces == texts


def best_of_alternating(runs: int, calls: dict) -> dict[str, float]:
    """The fastest of `runs` timings of each call, the calls taking turns, so a burst of load on a shared machine
    slows both alike instead of one."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(runs):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    return {name: min(t) for name, t in times.items()}


@pytest.mark.parametrize("word_level", [False, True])
def test_streaming_20k_tokens_costs_at_most_1_5x_generating_them(word_level):
    """Side by side in one process (a ratio, not a wall-clock figure); quadratic re-joining was 5.8x."""
    gen = generator(word_level)
    options = {"temperature": 1.0, "seed": 3, "max_gen_length": 20_000}
    best = best_of_alternating(
        4,
        {
            "generate": lambda: gen.generate(**options),
            "stream": lambda: sum(1 for _ in gen.stream(**options)),
        },
    )
    assert best["stream"] <= 1.5 * best["generate"], (
        f"stream {best['stream']:.3f} s vs generate {best['generate']:.3f} s"
    )
