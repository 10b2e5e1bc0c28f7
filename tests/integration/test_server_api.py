"""`serve BUNDLE --api`: the OpenAI-style completions API over a real socket (uvicorn in a subprocess), against
offline generation with the same options: seeded text identical, streamed pieces joining to it, stop strings,
logprobs of the distribution the sampler drew from, and the page's file rules on the same port."""

from __future__ import annotations

import http.client
import json
import math
import shutil
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from helpers import ApiServer, add_private_files, run_cli
from textgen_export.runtime import load_bundle

pytestmark = pytest.mark.slow
PROMPT = "Show HN: "


@pytest.fixture(scope="module")
def bundle(pretrained_bundle, tmp_path_factory):
    """The pretrained bundle, plus files a server must never publish."""
    folder = tmp_path_factory.mktemp("api") / "bundle"
    shutil.copytree(pretrained_bundle, folder)
    return add_private_files(folder)


@pytest.fixture(scope="module")
def server(bundle):
    with ApiServer(bundle) as running:
        yield running


@pytest.fixture(scope="module")
def runtime(bundle):
    return load_bundle(bundle)


def request(url: str, path: str, body=None, method: str | None = None, headers: dict | None = None):
    """(status, headers, parsed JSON or text) of one HTTP request."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=300) as response:
            status, head, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        status, head, raw = exc.code, exc.headers, exc.read()
    text = raw.decode()
    try:
        return status, head, json.loads(text)
    except ValueError:
        return status, head, text


def complete(url: str, **body) -> dict:
    status, _, answer = request(url, "/v1/completions", body)
    assert status == 200, answer
    return answer


def offline(runtime, prompt: str, max_tokens: int, **options) -> list[str]:
    """`generate`'s texts for the same options (max_tokens new tokens after `<s>` and the prompt)."""
    start = len(runtime.generator.start_tokens(prompt or None))
    return runtime.generate(prefix=prompt or None, max_gen_length=start + max_tokens, **options)


def sse(url: str, body: dict) -> list:
    """The events of a streamed completion, `[DONE]` as the string."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=300)
    conn.request(
        "POST", "/v1/completions", json.dumps({**body, "stream": True}), {"Content-Type": "application/json"}
    )
    response = conn.getresponse()
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/event-stream")
    events = []
    for line in response.read().decode().split("\n\n"):
        if line:
            assert line.startswith("data: ")
            payload = line[len("data: ") :]
            events.append(payload if payload == "[DONE]" else json.loads(payload))
    conn.close()
    return events


def test_seeded_request_equals_the_generate_command(server, bundle, tmp_path):
    """The CLI a user runs offline and the API give the same texts for the same options."""
    answer = complete(server.url, prompt=PROMPT, max_tokens=60, n=3, seed=11, temperature=[0.3, 0.9])
    start = len(PROMPT) + 1  # `<s>` and the prompt's characters (a char-level model)
    out = tmp_path / "texts.txt"
    result = run_cli(
        "generate",
        "--bundle",
        bundle,
        "--prefix",
        PROMPT,
        "-n",
        "3",
        "--seed",
        "11",
        "--temperature",
        "0.3",
        "0.9",
        "--max-length",
        str(start + 60),
        "--out",
        out,
    )
    assert result.returncode == 0, result.stderr
    texts = out.read_text(encoding="utf-8").split("\n")[:3]
    assert [PROMPT + c["text"] for c in answer["choices"]] == texts
    assert [c["index"] for c in answer["choices"]] == [0, 1, 2]
    assert answer["object"] == "text_completion" and answer["model"] == "textgenrnn"
    assert {c["finish_reason"] for c in answer["choices"]} <= {"stop", "length"}
    usage = answer["usage"]
    assert usage["prompt_tokens"] == start and usage["total_tokens"] == start + usage["completion_tokens"]


def test_echo_greedy_and_defaults(server, runtime):
    echoed = complete(server.url, prompt="The ", max_tokens=30, seed=3, echo=True)
    assert (
        echoed["choices"][0]["text"] == offline(runtime, "The ", 30, seed=3)[0]
    )  # temperature 0.5, as generate
    greedy = complete(server.url, prompt="", max_tokens=25, temperature=0)
    assert greedy["choices"][0]["text"] == offline(runtime, "", 25, temperature=0)[0]


def test_several_prompts_give_n_choices_each(server, runtime):
    answer = complete(server.url, prompt=["Why I", "Ask HN: "], max_tokens=40, n=2, seed=9)
    texts = [t[len(p) :] for p in ("Why I", "Ask HN: ") for t in offline(runtime, p, 40, n=2, seed=9)]
    assert [c["text"] for c in answer["choices"]] == texts
    assert [c["index"] for c in answer["choices"]] == [0, 1, 2, 3]


def test_length_and_stop_finish_reasons(server, runtime):
    texts = offline(runtime, PROMPT, 200, n=8, seed=5)
    answer = complete(server.url, prompt=PROMPT, max_tokens=200, n=8, seed=5)
    for text, choice in zip(texts, answer["choices"], strict=True):
        assert PROMPT + choice["text"] == text
        assert choice["finish_reason"] == "stop"  # every one of these ended at the end marker
    short = complete(server.url, prompt=PROMPT, max_tokens=5, n=8, seed=5)
    assert [c["text"] for c in short["choices"]] == [t[len(PROMPT) : len(PROMPT) + 5] for t in texts]
    assert {c["finish_reason"] for c in short["choices"]} == {"length"}


@pytest.mark.parametrize("stream", [False, True])
def test_stop_strings_cut_the_text_before_them(server, runtime, stream):
    texts = [t[len(PROMPT) :] for t in offline(runtime, PROMPT, 120, n=16, seed=21)]
    stops = ["e ", "in"]
    body = dict(prompt=PROMPT, max_tokens=120, n=16, seed=21, stop=stops)
    if stream:
        got = [""] * 16
        reasons = [None] * 16
        for event in sse(server.url, body)[:-1]:
            for choice in event["choices"]:
                got[choice["index"]] += choice["text"]
                reasons[choice["index"]] = choice["finish_reason"] or reasons[choice["index"]]
    else:
        choices = complete(server.url, **body)["choices"]
        got, reasons = [c["text"] for c in choices], [c["finish_reason"] for c in choices]
    cut_somewhere = 0
    for text, piece, reason in zip(texts, got, reasons, strict=True):
        found = [i for i in (text.find(s) for s in stops) if i >= 0]
        if found:
            cut_somewhere += 1
            assert piece == text[: min(found)] and reason == "stop"
        else:
            assert piece == text
    assert cut_somewhere >= 8  # the stops are common: the rule was exercised


def test_streamed_pieces_join_to_the_text(server):
    body = dict(prompt=PROMPT, max_tokens=80, n=4, seed=8, temperature=0.8)
    whole = complete(server.url, **body)
    events = sse(server.url, {**body, "stream_options": {"include_usage": True}})
    assert events[-1] == "[DONE]"
    usage = events[-2]
    assert usage["choices"] == [] and usage["usage"] == whole["usage"]
    joined, reasons = [""] * 4, [None] * 4
    for event in events[:-2]:
        assert event["object"] == "text_completion" and event["usage"] is None
        for choice in event["choices"]:
            assert reasons[choice["index"]] is None  # nothing after a choice's finish
            joined[choice["index"]] += choice["text"]
            reasons[choice["index"]] = choice["finish_reason"]
    assert joined == [c["text"] for c in whole["choices"]]
    assert reasons == [c["finish_reason"] for c in whole["choices"]]
    assert len(events) > 5  # streamed, not sent whole


def test_logprobs_are_the_distribution_the_sampler_drew_from(server, runtime):
    answer = complete(server.url, prompt=PROMPT, max_tokens=30, seed=4, temperature=[0.4, 1.2], logprobs=3)
    choice = answer["choices"][0]
    (trace,) = runtime.trace(
        n=1, top_k=3, prefix=PROMPT, max_gen_length=len(PROMPT) + 31, seed=4, temperature=[0.4, 1.2]
    )
    logprobs = choice["logprobs"]
    assert "".join(logprobs["tokens"]) == choice["text"] == trace.text[len(PROMPT) :]
    assert logprobs["text_offset"] == list(range(len(choice["text"])))
    for step, top, token, chosen in zip(
        trace.steps, logprobs["top_logprobs"], logprobs["tokens"], logprobs["token_logprobs"], strict=False
    ):
        assert list(top) == [t for t, _ in step.candidates]
        for (_, p), value in zip(step.candidates, top.values(), strict=True):
            assert math.exp(value) == pytest.approx(p, rel=1e-12)
        if token in top:
            assert chosen == top[token]
        assert chosen <= 0


def test_sixty_four_concurrent_seeded_requests_equal_offline_generation(server, runtime):
    """64 clients at once, each seed 100 + i (half of them streaming), against one offline batch of 64 (text i
    draws from seed 100 + i)."""
    texts = offline(runtime, PROMPT, 120, n=64, seed=100, temperature=0.6)
    steps_before = request(server.url, "/health")[2]["steps"]

    def client(i: int) -> tuple[str, int]:
        body = dict(prompt=PROMPT, max_tokens=120, seed=100 + i, temperature=0.6)
        if i % 2:
            events = sse(server.url, {**body, "stream_options": {"include_usage": True}})
            text = "".join(c["text"] for e in events[:-2] for c in e["choices"])
            return text, events[-2]["usage"]["completion_tokens"]
        answer = complete(server.url, **body)
        return answer["choices"][0]["text"], answer["usage"]["completion_tokens"]

    with ThreadPoolExecutor(64) as pool:
        answers = list(pool.map(client, range(64)))
    assert [PROMPT + text for text, _ in answers] == texts
    tokens = sum(count for _, count in answers)
    steps = request(server.url, "/health")[2]["steps"] - steps_before
    assert steps < tokens / 4  # rows of different requests shared model calls


def test_models_and_health(server):
    status, _, models = request(server.url, "/v1/models")
    assert status == 200 and [m["id"] for m in models["data"]] == ["textgenrnn"]
    assert request(server.url, "/v1/models/textgenrnn")[2]["id"] == "textgenrnn"
    assert request(server.url, "/v1/models/other")[0] == 404
    status, _, health = request(server.url, "/health")
    assert status == 200 and health["status"] == "ok" and health["queued_requests"] == 0


BAD = {
    "not JSON": (b"{prompt: 1", 400, None),
    "not an object": (b"[1, 2]", 400, None),
    "lone surrogate": (b'{"prompt": "\\ud800"}', 400, None),
    "prompt number": ({"prompt": 5}, 400, "prompt"),
    "token prompt": ({"prompt": [1, 2, 3]}, 400, "prompt"),
    "prompt too long": ({"prompt": "x" * 5000}, 400, "prompt"),
    "max_tokens zero": ({"max_tokens": 0}, 400, "max_tokens"),
    "max_tokens huge": ({"max_tokens": 10**9}, 400, "max_tokens"),
    "max_tokens string": ({"max_tokens": "10"}, 400, "max_tokens"),
    "n too big": ({"n": 65}, 400, "n"),
    "n bool": ({"n": True}, 400, "n"),
    "temperature negative": ({"temperature": -1}, 400, "temperature"),
    "temperature NaN": (b'{"temperature": NaN}', 400, "temperature"),
    "temperature empty list": ({"temperature": []}, 400, "temperature"),
    "temperature string": ({"temperature": "hot"}, 400, "temperature"),
    "seed float": ({"seed": 1.5}, 400, "seed"),
    "seed huge": ({"seed": 2**70}, 400, "seed"),
    "stop empty": ({"stop": [""]}, 400, "stop"),
    "stop five": ({"stop": ["a", "b", "c", "d", "e"]}, 400, "stop"),
    "stream string": ({"stream": "yes"}, 400, "stream"),
    "logprobs six": ({"logprobs": 6}, 400, "logprobs"),
    "top_p": ({"top_p": 0.5}, 400, "top_p"),
    "unknown model": ({"model": "gpt-4"}, 404, "model"),
    "body too large": (b'{"prompt": "' + b"x" * 70_000 + b'"}', 413, None),
}


@pytest.mark.parametrize("body, status, param", BAD.values(), ids=BAD.keys())
def test_bad_requests_get_an_openai_error(server, body, status, param):
    got, headers, answer = request(server.url, "/v1/completions", body)
    assert got == status, answer
    assert headers["Content-Type"] == "application/json"
    error = answer["error"]
    assert error["param"] == param and error["type"] == "invalid_request_error"
    assert (
        isinstance(error["message"], str)
        and 10 < len(error["message"]) < 300
        and "\n" not in error["message"]
    )


def test_neutral_unsupported_fields_and_client_extras_are_accepted(server):
    answer = complete(
        server.url,
        prompt=PROMPT,
        max_tokens=5,
        top_p=1,
        presence_penalty=0,
        user="me",
        model="textgenrnn",
        best_of=1,
        stream=False,
        logprobs=None,
    )
    assert len(answer["choices"][0]["text"]) <= 5


@pytest.mark.parametrize(
    "path",
    [
        "/bundle/.git/config",
        "/bundle/.env",
        "/bundle/notes.txt",
        "/bundle/%2egit/config",
        "/.git/config",
        "/bundle/../bundle/manifest.json",
        "/package.json",
    ],
)
def test_page_server_rules_hold_on_the_api_port(server, path):
    assert request(server.url, path)[0] == 404


def test_the_page_and_listed_bundle_files_are_served_with_the_page_headers(server):
    status, headers, _ = request(server.url, "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert headers["Cross-Origin-Embedder-Policy"] == "require-corp" and headers["X-Frame-Options"] == "DENY"
    status, headers, manifest = request(server.url, "/bundle/manifest.json")
    assert status == 200 and manifest["name"] == "textgenrnn"
    assert request(server.url, "/bundle/model.onnx", method="HEAD")[0] == 200
    assert request(server.url, "/v1/models")[1]["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/", "/v1/models", "/health"])
def test_foreign_host_names_are_refused(server, path):
    status, _, answer = request(server.url, path, headers={"Host": "attacker.example"})
    assert status == 421 and "unknown host" in answer["error"]["message"]
    port = server.url.rsplit(":", 1)[1]
    assert request(server.url, path, headers={"Host": f"localhost:{port}"})[0] == 200
