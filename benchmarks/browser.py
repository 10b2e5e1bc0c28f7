"""Chromium runtimes (TF.js webgl/wasm/cpu, ONNX Runtime Web wasm) measured in a page driven by Playwright.

The project's one static server (web/serve.py) serves the bench page (benchmarks/browser_bench.html), the web
demo's JS modules and node_modules, and the bundle under /bundle/, with the cross-origin-isolation headers wasm
threads need.  Each runtime gets a fresh browser, so its load time and peak memory (the summed RSS of the
Chromium processes above their level once the page is open, sampled every 20 ms) are its own.  Chromium is Debian's, launched headless, offline.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from textgen_export.web.serve import Mount, make_server

from .jsjob import JS_TOOLS, WEB_DEMO, job, to_result, unavailable
from .machine import CHROMIUM
from .models import BenchModel
from .nodejs import CORES
from .runtimes import Plan, Result, TreeRss

PAGE = JS_TOOLS / "browser_bench.html"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
# (runtime name as browser_bench.mjs knows it, threads, format)
RUNTIMES = [
    ("chromium-tfjs-webgl", "1", "tfjs-float32"),
    ("chromium-tfjs-wasm", CORES, "tfjs-float32"),
    ("chromium-tfjs-cpu", "1", "tfjs-float32"),
    ("chromium-ort-web-wasm", "1", "onnx-fp32"),
    ("chromium-ort-web-wasm", CORES, "onnx-fp32"),
]
TIMEOUT_MS = 900_000
BENCH_PAGE_FILES = ("browser_bench.html", "browser_bench.mjs", "bench_core.mjs")


class Server:
    """The one static server (web/serve.py) with the page at /web_demo/ and the bench page at /benchmarks/."""

    def __init__(self, bundle: Path | None):
        extra = {"/benchmarks/": Mount(JS_TOOLS, BENCH_PAGE_FILES)}
        self.httpd = make_server(
            {"/bundle/": bundle} if bundle else {}, port=0, page_at="/web_demo/", extra=extra
        )
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def browser_missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not found (apt-get install chromium, or `make chromium`)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python playwright is not installed (pip install playwright)"
    if not (WEB_DEMO / "node_modules").is_dir():
        return "web_demo/node_modules is missing (run `make node-deps`)"
    if not PAGE.is_file():
        return f"{PAGE.name} is missing"
    return None


def run_browser(
    bench: BenchModel, plan: Plan, reference: dict, log, chosen=lambda name: True
) -> list[Result]:
    runtimes = [r for r in RUNTIMES if chosen(r[0])]
    missing = browser_missing()
    if missing or not runtimes:
        return unavailable(bench, "chromium", runtimes, missing or "")
    from playwright.sync_api import sync_playwright

    results = []
    bundle = next(iter(bench.bundles.values()), None)
    with Server(Path(bundle) if bundle else None) as server, sync_playwright() as pw:
        for name, threads, fmt in runtimes:
            if fmt not in bench.files:
                results += unavailable(
                    bench, "chromium", [(name, threads, fmt)], bench.unavailable.get(fmt, f"no {fmt}")
                )
                continue
            log(f"    chromium {name}")
            relative = bench.files[fmt].relative_to(bench.bundles["main"]).as_posix()
            spec = job(bench, plan, reference, name, {fmt: f"/bundle/{relative}"})
            spec["threads"] = int(threads)
            spec["format"] = fmt
            spec["model_file"] = relative
            results.append(run_one(pw, server.url, bench, spec, reference, (name, threads, fmt), log))
    return results


def run_one(pw, url: str, bench: BenchModel, spec: dict, reference: dict, row: tuple, log) -> Result:
    errors: list[str] = []
    try:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
    except Exception as exc:  # a browser that will not start is a row that says so
        return unavailable(
            bench, "chromium", [row], f"chromium did not start: {str(exc).splitlines()[0][:160]}", "failed"
        )[0]
    try:
        with TreeRss(os.getpid(), name="chrom", include_root=False) as rss:
            base = rss.current()
            page = browser.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.goto(f"{url}/benchmarks/browser_bench.html", wait_until="load")
            page.wait_for_function("() => window.runBench !== undefined", timeout=60_000)
            page.set_default_timeout(TIMEOUT_MS)
            started = time.perf_counter()
            reply = page.evaluate("async (job) => await window.runBench(job)", spec)
            elapsed = time.perf_counter() - started
        reply["peak_rss_mb"] = max(rss.peak - base, 0.0)
        result = to_result(bench, "chromium", reply, reference)
        if result.status != "ok" and errors:
            result.reason = f"{result.reason} (console: {errors[-1][:160]})"
        log(
            f"      done in {elapsed:.0f} s"
            + (f": {result.status} {result.reason}" if result.status != "ok" else "")
        )
        return result
    except Exception as exc:
        detail = errors[-1][:160] if errors else str(exc).strip().splitlines()[0][:200]
        return unavailable(bench, "chromium", [row], f"{type(exc).__name__}: {detail}", status="failed")[0]
    finally:
        browser.close()


run_browser.names = [name for name, _, _ in RUNTIMES]


def run_page(bundle: Path, function: str, spec: dict):
    """Open the bench page in a fresh Chromium with `bundle` at /bundle/ and return `window[function](spec)`."""
    from playwright.sync_api import sync_playwright

    with Server(Path(bundle)) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            page = browser.new_page()
            page.goto(f"{server.url}/benchmarks/browser_bench.html", wait_until="load")
            page.wait_for_function(f"() => window.{function} !== undefined", timeout=60_000)
            page.set_default_timeout(TIMEOUT_MS)
            return page.evaluate(f"async (spec) => await window.{function}(spec)", spec)
        finally:
            browser.close()
