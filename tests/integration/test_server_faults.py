"""`serve --api` under faults: overload answers 429 with Retry-After, a client that goes away stops its rows, a
client that never reads cannot stall the loop, and Ctrl-C lets in-flight requests finish."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from helpers import ApiServer, run_cli

pytestmark = pytest.mark.slow
LONG = dict(
    prompt="Show HN: ", max_tokens=1500, temperature=3.0
)  # near-uniform draws: texts rarely end early


def post(url: str, body: dict, timeout: float = 300) -> tuple[int, dict, dict]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    conn.request("POST", "/v1/completions", json.dumps(body), {"Content-Type": "application/json"})
    response = conn.getresponse()
    result = response.status, {k.lower(): v for k, v in response.getheaders()}, json.loads(response.read())
    conn.close()
    return result


def health(url: str) -> dict:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    conn.request("GET", "/health")
    answer = json.loads(conn.getresponse().read())
    conn.close()
    return answer


def wait_for(predicate, what: str, limit: float = 120):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_full_queue_answers_429_with_retry_after(pretrained_bundle):
    with ApiServer(pretrained_bundle, "--max-rows", "1", "--max-queue", "1") as server:
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda i: post(server.url, {**LONG, "seed": i}), range(8)))
        refused = [a for a in answers if a[0] == 429]
        served = [a for a in answers if a[0] == 200]
        # how many get to wait depends on the order they arrive in
        assert refused and served and len(refused) + len(served) == 8
        for _, headers, body in refused:
            assert headers["retry-after"] == "1"
            assert body["error"]["type"] == "rate_limit_error" and "busy" in body["error"]["message"]
        assert post(server.url, {"prompt": "Ok", "max_tokens": 3})[0] == 200  # and it serves again


def test_a_vanished_client_stops_its_rows_and_a_silent_one_cannot_stall_the_loop(pretrained_bundle):
    with ApiServer(pretrained_bundle) as server:
        host, port = server.url.removeprefix("http://").rsplit(":", 1)
        before = health(server.url)["steps"]
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        conn.request("POST", "/v1/completions", json.dumps({**LONG, "n": 8, "seed": 1, "stream": True}))
        response = conn.getresponse()
        assert response.status == 200 and response.readline().startswith(b"data: ")
        conn.close()  # the client goes away after its first event
        wait_for(lambda: health(server.url)["active_rows"] == 0, "the rows to stop")
        assert health(server.url)["steps"] - before < LONG["max_tokens"] / 2

        # A client that sends a big streamed request and never reads: the loop finishes it all the same, and serves
        # another client meanwhile (each step's output waits in the request's outbox, not in the loop).
        silent = socket.create_connection((host, int(port)))
        silent.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        body = json.dumps({**LONG, "n": 64, "seed": 2, "stream": True, "logprobs": 5}).encode()
        silent.sendall(
            b"POST /v1/completions HTTP/1.1\r\nHost: "
            + host.encode()
            + b"\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        wait_for(lambda: health(server.url)["active_rows"] > 0, "the silent client's rows to start")
        status, _, answer = post(server.url, {"prompt": "Ask HN: ", "max_tokens": 40, "seed": 3})
        assert status == 200 and answer["choices"][0]["finish_reason"] in ("stop", "length")
        wait_for(lambda: health(server.url)["active_rows"] == 0, "the silent client's rows to finish")
        silent.close()


def test_ctrl_c_lets_requests_in_flight_finish(pretrained_bundle):
    server = ApiServer(pretrained_bundle)
    try:
        result = {}
        worker = threading.Thread(
            target=lambda: result.update(answer=post(server.url, {**LONG, "n": 4, "seed": 5}))
        )
        worker.start()
        wait_for(lambda: health(server.url)["active_rows"] > 0, "the request to start")
        code, out, err = server.stop()  # Ctrl-C while it runs
        worker.join(timeout=300)
        status, _, answer = result["answer"]
        assert status == 200 and len(answer["choices"]) == 4
        assert all(c["finish_reason"] in ("stop", "length") for c in answer["choices"])
        assert code == 0 and out.strip().endswith("stopped"), err
        assert "Traceback" not in err
    finally:
        if server.process.poll() is None:
            server.process.kill()


def test_user_errors_are_one_line(pretrained_bundle):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        for args, message in [
            (["--port", str(taken.getsockname()[1])], "cannot listen on 127.0.0.1:"),
            (["--max-rows", "0"], "--max-rows must be from 1 to 100000"),
        ]:
            done = run_cli("serve", pretrained_bundle, "--api", *args, timeout=120)
            assert done.returncode == 2 and message in done.stderr
            assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    finally:
        taken.close()
