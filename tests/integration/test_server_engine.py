"""The continuous-batching loop in one process: requests that join at different times share model calls, and
with grouping by padding (for an adapter whose fast path needs one padding count per call) each call holds one
padding count; either way every request's text equals offline generation's."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from textgen_export.runtime import load_bundle
from textgen_export.server.app import Api
from textgen_export.server.engine import Engine, Job, leading_padding
from textgen_export.server.request import CompletionRequest

PROMPTS = ["", "Show HN: ", "Why I", "A much longer prompt than the window of forty characters holds"]


def completion_request(prompt: str, seed: int) -> CompletionRequest:
    return CompletionRequest(
        prompts=[prompt],
        max_tokens=60,
        temperature=[0.6, 0.9],
        n=3,
        seed=seed,
        stop=[],
        stream=False,
        include_usage=False,
        logprobs=None,
        echo=True,
    )


def run_jobs(engine: Engine, requests: list[CompletionRequest]) -> list[list[str]]:
    async def main():
        engine.start(asyncio.get_running_loop())
        jobs = []
        for req in requests:  # each joins a few steps after the one before
            jobs.append(Job(req, engine.generator))
            engine.submit(jobs[-1])
            await asyncio.sleep(0.005)
        for job in jobs:
            await Api.until_finished(job)
        await asyncio.to_thread(engine.close)
        return [[c.whole().text for c in job.choices[0]] for job in jobs]

    return asyncio.run(main())


@pytest.fixture(scope="module")
def runtime(pretrained_bundle):
    return load_bundle(pretrained_bundle)


def offline(runtime, prompt: str, seed: int) -> list[str]:
    start = len(runtime.generator.start_tokens(prompt or None))
    return runtime.generate(
        n=3, temperature=[0.6, 0.9], prefix=prompt or None, max_gen_length=start + 60, seed=seed
    )


@pytest.mark.parametrize("grouped", [False, True])
def test_requests_joining_between_steps_get_offline_text(runtime, grouped):
    engine = Engine(runtime.generator, group_by_padding=grouped)
    paddings = []
    engine.on_call = lambda windows: paddings.append(np.unique(leading_padding(windows)))
    requests = [completion_request(p, seed) for seed, p in enumerate(PROMPTS * 2)]
    texts = run_jobs(engine, requests)
    assert texts == [offline(runtime, r.prompts[0], r.seed) for r in requests]
    if grouped:
        assert all(len(p) == 1 for p in paddings)  # one padding count per call
        assert engine.calls > engine.steps  # rows of different lengths met, in separate calls
    else:
        assert engine.calls == engine.steps
        assert max(len(p) for p in paddings) > 1  # rows of different lengths shared a call


def test_leading_padding():
    windows = np.array([[0, 0, 3, 4], [1, 0, 0, 2], [0, 0, 0, 0]])
    assert leading_padding(windows).tolist() == [2, 0, 4]


def test_a_model_that_outputs_nan_ends_its_requests_with_the_reason_not_tokens(runtime):
    from textgen_export.sampling.generator import Generator

    class Diverged:
        def probs(self, windows):
            return np.full((len(windows), runtime.vocab.num_classes), np.nan, dtype=np.float32)

    engine = Engine(Generator(Diverged(), runtime.vocab, runtime.config))
    job = Job(completion_request("Show HN: ", seed=1), engine.generator)

    async def main():
        engine.start(asyncio.get_running_loop())
        engine.submit(job)
        await Api.until_finished(job)
        await asyncio.to_thread(engine.close)

    asyncio.run(main())
    assert "not finite numbers" in job.error
    assert [c.whole().text for c in job.choices[0]] == ["Show HN: "] * 3  # the prompt echoed, nothing sampled
