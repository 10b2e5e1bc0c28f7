"""Real clients against `serve --api`: the official `openai` Python package, the Node example (fetch + SSE),
and curl as the README shows it; each gets the text offline generation gives for the same options."""

from __future__ import annotations

import shutil
import subprocess

import openai
import pytest

from helpers import WEB_DEMO, ApiServer, node_ready
from textgen_export.runtime import load_bundle

pytestmark = pytest.mark.slow
PROMPT = "Show HN: "
NODE_EXAMPLE = WEB_DEMO / "examples" / "node_completions.mjs"


@pytest.fixture(scope="module")
def server(pretrained_bundle):
    with ApiServer(pretrained_bundle) as running:
        yield running


@pytest.fixture(scope="module")
def runtime(pretrained_bundle):
    return load_bundle(pretrained_bundle)


def offline(runtime, max_tokens: int, **options) -> list[str]:
    return [
        t[len(PROMPT) :]
        for t in runtime.generate(prefix=PROMPT, max_gen_length=len(PROMPT) + 1 + max_tokens, **options)
    ]


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key="not-needed", max_retries=0)


def test_the_official_openai_client_gets_offline_text(client, runtime):
    assert [m.id for m in client.models.list()] == ["textgenrnn"]
    answer = client.completions.create(
        model="textgenrnn", prompt=PROMPT, max_tokens=50, n=3, seed=12, temperature=0.7
    )
    assert [c.text for c in answer.choices] == offline(runtime, 50, n=3, seed=12, temperature=0.7)
    assert answer.usage.completion_tokens == sum(
        len(t) for t in offline(runtime, 50, n=3, seed=12, temperature=0.7)
    ) + sum(
        c.finish_reason == "stop" for c in answer.choices
    )  # one token per character, plus the end marker of each text that ended


def test_the_official_client_streams(client, runtime):
    stream = client.completions.create(
        model="textgenrnn", prompt=PROMPT, max_tokens=50, seed=13, stream=True, logprobs=2
    )
    pieces, reasons = [], []
    for chunk in stream:
        pieces.append(chunk.choices[0].text)
        reasons.append(chunk.choices[0].finish_reason)
        assert len(chunk.choices[0].logprobs.tokens) == len(chunk.choices[0].text)
    assert "".join(pieces) == offline(runtime, 50, seed=13)[0]
    assert reasons[-1] in ("stop", "length") and set(reasons[:-1]) <= {None}


def test_the_official_client_sees_bad_requests_and_unknown_models(client):
    with pytest.raises(openai.BadRequestError, match="n must be an integer from 1 to 64"):
        client.completions.create(model="textgenrnn", prompt=PROMPT, n=0)
    with pytest.raises(openai.NotFoundError, match="not served here"):
        client.completions.create(model="gpt-4", prompt=PROMPT)


@pytest.mark.node
def test_node_example_streams_the_offline_text(server, runtime):
    node = node_ready()
    done = subprocess.run(
        [node, str(NODE_EXAMPLE), server.url, PROMPT, "60", "7"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=WEB_DEMO,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == offline(runtime, 60, seed=7)[0] + "\n"
    bad = subprocess.run(
        [node, str(NODE_EXAMPLE), server.url, PROMPT, "0"], capture_output=True, text=True, timeout=120
    )
    assert bad.returncode == 1 and "error 400: max_tokens must be an integer" in bad.stderr


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_readme_curl_example(server, runtime):
    """The README's curl line, with this server's address."""
    done = subprocess.run(
        [
            "curl",
            "-s",
            f"{server.url}/v1/completions",
            "-H",
            "Content-Type: application/json",
            "-d",
            '{"prompt": "Show HN: ", "max_tokens": 60, "seed": 7}',
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    import json

    assert json.loads(done.stdout)["choices"][0]["text"] == offline(runtime, 60, seed=7)[0]
