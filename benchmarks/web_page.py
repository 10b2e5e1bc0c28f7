"""The web scenario: chars/s of the product's own page and Node CLI runtimes, the way a user drives them.

In the page (Debian Chromium, headless, --disable-gpu, so WebGL is SwiftShader's software GL): TF.js webgl,
wasm, cpu and ONNX Runtime Web (wasm), each driven through the page's own Generate button; in Node: the web
demo's runtimes through web_demo/test/speed.mjs. Both use the one JS sampler, temperature 0.5, up to 300
tokens, seeds 1, 2, … after one warm-up run, until `min_chars` visible characters or `max_seconds`.
n=1 is one stream (target ≥ 300 chars/s for the fastest in-page runtime); n=8 is 8 texts per model call.
(The per-call and per-batch grid of the same runtimes is in the sampling scenario: node and chromium groups.)
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

from . import rows
from .browser import FLAGS
from .jsjob import WEB_DEMO
from .machine import CHROMIUM

PAGE_RUNTIMES = ("onnx-wasm", "tfjs-wasm", "tfjs-webgl", "tfjs-cpu")
NODE_RUNTIMES = ("onnx", "onnx-web", "tfjs-wasm", "tfjs-cpu")
STREAMS = (1, 8)
MODEL = "textgenrnn-pretrained"


def page_speed(browser, url: str, runtime: str, n: int, min_chars: int, max_seconds: float) -> dict:
    """chars/s of each Generate run (after a warm-up) in a fresh page."""
    page = browser.new_page()
    page.goto(f"{url}/?runtime={runtime}")
    page.wait_for_selector(f"body[data-runtime='{runtime}'], #error:not([hidden])", timeout=120_000)
    if page.locator("#error").is_visible():
        return {"error": page.text_content("#error")}
    page.fill("#temperature", "0.5")
    page.fill("#count", str(n))

    def generate(seed: int, length: int) -> tuple[int, float]:
        done = int(page.get_attribute("body", "data-generated") or 0)
        page.fill("#max-length", str(length))
        page.fill("#seed", str(seed))
        page.click("#generate")
        page.wait_for_selector(f"body[data-generated='{done + 1}']", timeout=600_000)
        chars = int(page.get_attribute("body", "data-last-chars"))
        return chars, float(page.get_attribute("body", "data-last-ms")) / 1000

    generate(0, 20)  # warm-up: shaders compiled, wasm instantiated
    rates, chars, seconds = [], 0, 0.0
    while chars < min_chars and seconds < max_seconds:
        c, s = generate(len(rates) + 1, 300)
        rates.append(c / s)
        chars, seconds = chars + c, seconds + s
    page.close()
    return {"rates": rates, "chars": chars, "seconds": seconds}


def node_speed(bundle: Path, runtime: str, n: int, min_chars: int, max_seconds: float) -> dict:
    args = ["node", "test/speed.mjs", str(bundle), runtime, str(n), str(min_chars), str(max_seconds)]
    done = subprocess.run(args, cwd=WEB_DEMO, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    result = json.loads(done.stdout)
    return {"rates": [result["chars"] / result["seconds"]], **result}


def to_row(where: str, runtime: str, n: int, measured: dict, model: str = MODEL) -> dict:
    test = f"gen 300 n={n}"
    name = f"{where} {runtime}"
    if "error" in measured:
        return rows.missing(model, name, test, "chars/s", "failed", measured["error"][:200])
    rate = measured["chars"] / measured["seconds"]
    spread = rows.spread(measured["rates"])
    return rows.row(model, name, test, "chars/s", median=rate, p10=spread["p10"], p90=spread["p90"],
                    reps=spread["reps"], chars=measured["chars"], seconds=measured["seconds"])  # fmt: skip


def run(quick: bool, log: Callable[[str], None] = print, bundle: Path | None = None) -> dict:
    """Measure the page and the Node CLI on `bundle` (default: the pretrained model, or in --quick the tiny
    model, exported into a temporary folder for this run)."""
    if bundle:
        return measure(Path(bundle).resolve(), quick, log)
    import tempfile

    from textgen_export.export.writer import export_bundle

    from .models import pretrained_model, tiny_model

    with tempfile.TemporaryDirectory(prefix="textgen-bench-web-") as tmp:
        bench = tiny_model(Path(tmp) / "tiny-model") if quick else pretrained_model()
        folder = Path(tmp) / "bundle"
        export_bundle(
            bench.load_keras(), bench.vocab, bench.config, folder, onnx=True, tfjs=True, log=lambda _: None
        )
        data = measure(folder, quick, log, model=bench.name)
        data["bundle"] = f"{bench.name}, exported for this run"
        return data


def measure(bundle: Path, quick: bool, log: Callable[[str], None], model: str = MODEL) -> dict:
    from textgen_export.web.serve import BUNDLE_URL, make_server

    min_chars, max_seconds = (150, 5.0) if quick else (1500, 30.0)
    found = []
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is None or not Path(CHROMIUM).exists():
        why = "playwright is not installed" if sync_playwright is None else f"{CHROMIUM} is missing"
        found += [
            rows.missing(model, f"chromium page {r}", "gen 300", "chars/s", "unavailable", why)
            for r in PAGE_RUNTIMES
        ]
    else:
        server = make_server({BUNDLE_URL: bundle}, port=0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                for runtime in PAGE_RUNTIMES:
                    for n in STREAMS:
                        log(f"  chromium page · {runtime} · n={n}")
                        found.append(
                            to_row(
                                "chromium page",
                                runtime,
                                n,
                                page_speed(browser, url, runtime, n, min_chars, max_seconds),
                                model,
                            )
                        )
                browser.close()
        finally:
            server.shutdown()
    for runtime in NODE_RUNTIMES:
        for n in STREAMS:
            log(f"  node · {runtime} · n={n}")
            found.append(
                to_row("node", runtime, n, node_speed(bundle, runtime, n, min_chars, max_seconds), model)
            )
    return {
        "what": "chars/s of the web page's runtimes (Chromium, Generate button) and the Node CLI's",
        "bundle": str(bundle),
        "model": model,
        "settings": {
            "temperature": 0.5,
            "max_gen_length": 300,
            "min_chars": min_chars,
            "max_seconds": max_seconds,
        },
        "rows": found,
    }
