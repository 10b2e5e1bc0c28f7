"""The completions API under load: 1, 16, 64 and 256 concurrent streaming clients against offline batched
generation of the same texts, in one run (`python -m benchmarks.serve_load`; loopback only, bounded).

For C clients, each client sends `rounds(C)` requests one after another (a closed loop: the next as soon as the
last ended); request k of client i asks for one text with seed BASE + k·C + i.  Offline generation of the same
texts is `rounds(C)` batches `generate(n=C, seed=BASE + k·C)` with the same options through `load_bundle` in this
process; the run checks that every served text equals its offline twin.  The server is `textgen-export serve
BUNDLE --api` in its own process; the clients are asyncio connections in this one (raw HTTP/1.1, one per request).

Measured per C: throughput (generated tokens / wall time: offline, the server streaming, the server answering
whole; ratios to offline), time to first token (send
→ first event with text) and per-token latency (the gap before each streamed event shared by the tokens it
carries; a char-level model, so one character is one token) at p50/p90/p99.  Target: at 64 clients ≥ 0.8× the
offline B=64 throughput.  Results: benchmarks/results/serve-load/results.json and results.md (with the command).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

CLIENTS = (1, 16, 64, 256)
BASE_SEED = 1000
PROMPT = ""
TEMPERATURE = 0.5
MAX_TOKENS = 64
TIME_LIMIT = 600.0  # seconds per scenario, server side: past it the run stops with what it has
TARGET = 0.8
OUT = Path(__file__).resolve().parent / "results" / "serve-load"


def rounds(clients: int, quick: bool) -> int:
    """Requests per client: about 256 texts per scenario (64 in --quick), at least 2 rounds below 256 clients."""
    total = 64 if quick else 256
    return max(1 if clients >= total else 2, total // clients)


def percentiles(values: list[float]) -> dict:
    if not values:
        return {"p50": None, "p90": None, "p99": None}
    array = np.asarray(values) * 1000.0
    return {f"p{q}": round(float(np.percentile(array, q)), 3) for q in (50, 90, 99)}


class Server:
    """`textgen-export serve BUNDLE --api --port 0` in a subprocess."""

    def __init__(self, bundle: Path, max_rows: int):
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "textgen_export",
                "serve",
                str(bundle),
                "--api",
                "--port",
                "0",
                "--max-rows",
                str(max_rows),
                "--max-queue",
                str(max(256, max_rows)),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.process.stdout.readline()
        if " at http://" not in line:
            self.process.kill()
            raise SystemExit(f"the server did not start: {line!r}")
        address = line.split(" at http://", 1)[1].split("/ ", 1)[0]
        self.host, port = address.rsplit(":", 1)
        self.port = int(port)

    def stop(self) -> None:
        self.process.send_signal(2)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()


async def stream_one(host: str, port: int, body: dict) -> dict:
    """One streamed completion over a fresh connection: its text, time to first token and per-token gaps."""
    payload = json.dumps({**body, "stream": True}).encode()
    start = time.perf_counter()
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        f"POST /v1/completions HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
        + payload
    )
    await writer.drain()
    status = (await reader.readline()).split()[1]
    if status != b"200":
        raise RuntimeError(f"status {status.decode()}: {(await reader.read()).decode()[:200]}")
    while (await reader.readline()) not in (b"\r\n", b""):
        pass  # headers (the body is chunked)
    text, gaps, first, last, buffer, done = [], [], None, None, b"", False
    while not done:
        size = int((await reader.readline()).strip() or b"0", 16)
        if size == 0:
            break
        buffer += await reader.readexactly(size)
        await reader.readexactly(2)
        now = time.perf_counter()
        while b"\n\n" in buffer:
            event, buffer = buffer.split(b"\n\n", 1)
            data = event.removeprefix(b"data: ")
            if data == b"[DONE]":
                done = True
                break
            piece = "".join(c["text"] for c in json.loads(data)["choices"])
            if not piece:
                continue
            if first is None:
                first = now - start
            else:
                gaps.extend([(now - last) / len(piece)] * len(piece))
            last = now
            text.append(piece)
    writer.close()
    return {"text": "".join(text), "ttft": first, "gaps": gaps, "end": time.perf_counter()}


async def whole_one(host: str, port: int, body: dict) -> dict:
    """One completion answered whole (no streaming) over a fresh connection."""
    payload = json.dumps(body).encode()
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        f"POST /v1/completions HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
        + payload
    )
    await writer.drain()
    status = (await reader.readline()).split()[1]
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    answer = json.loads(await reader.readexactly(length))
    writer.close()
    if status != b"200":
        raise RuntimeError(f"status {status.decode()}: {answer}")
    return {"text": answer["choices"][0]["text"], "ttft": None, "gaps": []}


async def load(server: Server, clients: int, per_client: int, stream: bool = True) -> tuple[list, float]:
    body = {"prompt": PROMPT, "max_tokens": MAX_TOKENS, "temperature": TEMPERATURE}
    results: list[list[dict | None]] = [[None] * clients for _ in range(per_client)]
    one = stream_one if stream else whole_one

    async def client(i: int):
        for k in range(per_client):
            seed = BASE_SEED + k * clients + i
            results[k][i] = await one(server.host, server.port, {**body, "seed": seed})

    start = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(client(i) for i in range(clients))), TIME_LIMIT)
    return results, time.perf_counter() - start


def offline(runtime, clients: int, per_client: int) -> tuple[list[list[str]], float]:
    start_tokens = len(runtime.generator.start_tokens(PROMPT or None))
    texts, start = [], time.perf_counter()
    for k in range(per_client):
        texts.append(
            runtime.generate(
                n=clients,
                temperature=TEMPERATURE,
                prefix=PROMPT or None,
                max_gen_length=start_tokens + MAX_TOKENS,
                seed=BASE_SEED + k * clients,
            )
        )
    return texts, time.perf_counter() - start


def scenario(runtime, bundle: Path, clients: int, per_client: int) -> dict:
    texts, offline_seconds = offline(runtime, clients, per_client)
    server = Server(bundle, max_rows=max(256, clients))
    try:
        asyncio.run(stream_one(server.host, server.port, {"prompt": "warm", "max_tokens": 4}))  # first call
        served, seconds = asyncio.run(load(server, clients, per_client))
        whole, whole_seconds = asyncio.run(load(server, clients, per_client, stream=False))
    finally:
        server.stop()
    got = [[r["text"] for r in row] for row in served]
    got_whole = [[r["text"] for r in row] for row in whole]
    tokens = sum(len(t) for row in texts for t in row)  # char-level: one token per character
    ttft = [r["ttft"] for row in served for r in row if r["ttft"] is not None]
    gaps = [g for row in served for r in row for g in r["gaps"]]
    return {
        "clients": clients,
        "requests": clients * per_client,
        "tokens": tokens,
        "identical_to_offline": got == texts and got_whole == texts,
        "server_tok_s": round(tokens / seconds, 1),
        "offline_tok_s": round(tokens / offline_seconds, 1),
        "ratio": round(offline_seconds / seconds, 3),
        "whole_tok_s": round(tokens / whole_seconds, 1),
        "whole_ratio": round(offline_seconds / whole_seconds, 3),
        "server_s": round(seconds, 3),
        "offline_s": round(offline_seconds, 3),
        "ttft_ms": percentiles(ttft),
        "per_token_ms": percentiles(gaps),
    }


def machine() -> dict:
    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "load_avg_1m_before": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
    }


def markdown(result: dict, command: str) -> str:
    lines = [
        "# Serve load: the completions API against offline batched generation",
        "",
        f"Command: `{command}`",
        "",
        f"Bundle: {result['bundle']}; prompt {PROMPT!r}, temperature {TEMPERATURE}, max_tokens {MAX_TOKENS}, "
        f"seeds from {BASE_SEED}; streamed requests, one text each, closed-loop clients.  Machine: "
        f"{result['machine']['cores']} cores, load average {result['machine']['load_avg_1m_before']} before the run.",
        "",
        "| clients | requests | tokens | offline tok/s (B = clients) | streamed tok/s | × offline | whole tok/s "
        "| × offline | TTFT p50/p90/p99 ms | per-token p50/p90/p99 ms | texts identical |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        t, p = row["ttft_ms"], row["per_token_ms"]
        lines.append(
            f"| {row['clients']} | {row['requests']} | {row['tokens']} | {row['offline_tok_s']:,} | "
            f"{row['server_tok_s']:,} | {row['ratio']:.2f} | {row['whole_tok_s']:,} | {row['whole_ratio']:.2f} | "
            f"{t['p50']}/{t['p90']}/{t['p99']} | "
            f"{p['p50']}/{p['p90']}/{p['p99']} | {'yes' if row['identical_to_offline'] else 'NO'} |"
        )
    target = next((r for r in result["rows"] if r["clients"] == 64), None)
    if target:
        met = "met" if target["ratio"] >= TARGET else "not met"
        lines += [
            "",
            f"Target: at 64 clients ≥ {TARGET}× offline B=64 — streamed {target['ratio']:.2f}×, {met} "
            f"(whole responses {target['whole_ratio']:.2f}×).",
            "",
            "Streamed: each client reads server-sent events (TTFT and per-token latency come from these runs); whole: "
            "the same requests without `stream`, answered in one response.  The clients run in the benchmark's "
            "process and share the machine's cores with the server, as offline generation does not.",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.serve_load", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--bundle", help="a char-level bundle with model.onnx (default: the pretrained one)")
    parser.add_argument("--clients", type=int, nargs="+", default=list(CLIENTS))
    parser.add_argument("--quick", action="store_true", help="about 64 texts per scenario instead of 256")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    from textgen_export.commands.serve import default_bundle
    from textgen_export.runtime import load_bundle

    bundle = Path(args.bundle).resolve() if args.bundle else default_bundle()
    runtime = load_bundle(bundle)
    if runtime.config.word_level:
        raise SystemExit("serve_load counts one token per character: give a char-level bundle")
    result = {"bundle": runtime.manifest.get("name", bundle.name), "machine": machine(), "rows": []}
    for clients in args.clients:
        row = scenario(runtime, bundle, clients, rounds(clients, args.quick))
        print(json.dumps(row), flush=True)
        result["rows"].append(row)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    command = (
        "python -m benchmarks.serve_load"
        + (" " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip()
    )
    (out / "results.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    (out / "results.md").write_text(markdown(result, command), encoding="utf-8")
    print(markdown(result, command))
    return 0 if all(r["identical_to_offline"] for r in result["rows"]) else 1


if __name__ == "__main__":
    sys.exit(main())
