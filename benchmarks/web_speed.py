"""Web runtimes speed, pretrained default model: chars/s per in-page runtime (Chromium) and per Node runtime.

    .venv/bin/python benchmarks/web_speed.py [--quick]

In the page (Debian Chromium, headless, --disable-gpu so WebGL is SwiftShader's software GL): TF.js webgl, wasm,
cpu and ONNX Runtime Web (wasm, 1 thread), each driven through the page's own Generate button; in Node: TF.js
cpu and wasm, onnxruntime-node and onnxruntime-web, through web_demo/test/speed.mjs.  Both use the one JS
sampler, temperature 0.5, max length 300, seeds 1, 2, ... after one warm-up run, until MIN_CHARS visible
characters or MAX_SECONDS.  "one stream" is n=1 (the issue's target: ≥ 300 chars/s on the fastest in-page
runtime); "batch 8" is n=8 texts per model call.  Writes benchmarks/results/web_speed.json and .md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
RESULTS = REPO / "benchmarks" / "results"
WEB_DEMO = REPO / "web_demo"
PAGE_RUNTIMES = ("onnx-wasm", "tfjs-wasm", "tfjs-webgl", "tfjs-cpu")
NODE_RUNTIMES = ("onnx", "onnx-web", "tfjs-wasm", "tfjs-cpu")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


def page_speed(browser, url: str, runtime: str, n: int, min_chars: int, max_seconds: float) -> dict:
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.goto(f"{url}/?runtime={runtime}")
    page.wait_for_selector(f"body[data-runtime='{runtime}'], #error:not([hidden])", timeout=120_000)
    if page.locator("#error").is_visible():
        return {"error": page.text_content("#error")}
    runtime_name = page.text_content("#runtime-name")
    page.fill("#temperature", "0.5")
    page.fill("#count", str(n))

    def run(seed: int, length: int) -> tuple[int, float]:
        done = int(page.get_attribute("body", "data-generated") or 0)
        page.fill("#max-length", str(length))
        page.fill("#seed", str(seed))
        page.click("#generate")
        page.wait_for_selector(f"body[data-generated='{done + 1}']", timeout=600_000)
        return int(page.get_attribute("body", "data-last-chars")), float(
            page.get_attribute("body", "data-last-ms")
        )

    run(0, 20)  # warm-up: shaders compiled, wasm instantiated
    chars, ms, runs = 0, 0.0, 0
    while chars < min_chars and ms < 1000 * max_seconds:
        runs += 1
        c, t = run(runs, 300)
        chars, ms = chars + c, ms + t
    page.close()
    return {
        "runtime": runtime_name,
        "n": n,
        "chars": chars,
        "seconds": ms / 1000,
        "runs": runs,
        "errors": errors,
    }


def node_speed(bundle: Path, runtime: str, n: int, min_chars: int, max_seconds: float) -> dict:
    args = ["node", "test/speed.mjs", str(bundle), runtime, str(n), str(min_chars), str(max_seconds)]
    done = subprocess.run(args, cwd=WEB_DEMO, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(done.stdout)


def versions() -> dict:
    def out(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
        except OSError:
            return None

    return {
        "chromium": out(["/usr/bin/chromium", "--version"]),
        "node": out(["node", "--version"]),
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "load_average_at_start": os.getloadavg(),
    }


def markdown(result: dict) -> str:
    lines = [
        "# Web runtimes: chars/s (pretrained default model)",
        "",
        f"Measured {result['date']} with `.venv/bin/python benchmarks/web_speed.py"
        f"{' --quick' if result['quick'] else ''}`; {result['machine']['cpu_count']} CPU cores, "
        f"{result['machine']['chromium']}, Node {result['machine']['node']}.",
        "Chromium runs headless with --disable-gpu: its WebGL is SwiftShader (software), not a GPU.",
        "",
        "| where | runtime | chars/s, one stream (n=1) | chars/s, batch 8 |",
        "|---|---|---:|---:|",
    ]
    for row in result["rows"]:
        cells = []
        for key in ("n1", "n8"):
            r = row.get(key)
            if r is None:
                cells.append("–")
            elif "error" in r:
                cells.append(f"error: {r['error'][:60]}")
            else:
                cells.append(f"{r['chars'] / r['seconds']:,.0f} ({r['chars']} chars, {r['seconds']:.1f} s)")
        lines.append(f"| {row['where']} | {row['label']} | {cells[0]} | {cells[1]} |")
    best = max(
        (r["n1"]["chars"] / r["n1"]["seconds"], r["label"])
        for r in result["rows"]
        if r["where"] == "Chromium page" and "error" not in r["n1"]
    )
    lines += [
        "",
        f"Fastest in-page runtime, one stream: {best[1]} at {best[0]:,.0f} chars/s (target ≥ 300).",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer characters per measurement (a smoke run)")
    parser.add_argument(
        "--bundle", help="bundle to measure (default: the pretrained model, exported to the cache)"
    )
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from textgen_export.commands.serve import default_bundle
    from textgen_export.web.serve import make_server

    bundle = Path(args.bundle).resolve() if args.bundle else default_bundle()
    min_chars, max_seconds = (150, 5.0) if args.quick else (1500, 30.0)
    machine = versions()
    rows = []
    server = make_server({"/bundle/": bundle}, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for runtime in PAGE_RUNTIMES:
                row = {"where": "Chromium page", "label": runtime}
                for n in (1, 8):
                    row[f"n{n}"] = page_speed(browser, url, runtime, n, min_chars, max_seconds)
                    print(runtime, n, row[f"n{n}"], flush=True)
                rows.append(row)
            browser.close()
    finally:
        server.shutdown()
    for runtime in NODE_RUNTIMES:
        row = {"where": "Node", "label": runtime}
        for n in (1, 8):
            row[f"n{n}"] = node_speed(bundle, runtime, n, min_chars, max_seconds)
            print(runtime, n, row[f"n{n}"], flush=True)
        rows.append(row)
    result = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "quick": args.quick,
        "bundle": str(bundle),
        "machine": machine,
        "settings": {
            "temperature": 0.5,
            "max_gen_length": 300,
            "min_chars": min_chars,
            "max_seconds": max_seconds,
        },
        "rows": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "web_speed-quick" if args.quick else "web_speed"
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (RESULTS / f"{name}.md").write_text(markdown(result), encoding="utf-8")
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
