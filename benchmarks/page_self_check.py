"""The page's own runtime measurement in Chromium: what a reader's browser sees at load.

Opens the page (no ?runtime=) on a bundle, lets it check every runtime against the bundle's float64 reference and
time the ones that pass (cold start: download + compile + first call; steady chars/s at n=1, temperature 0.5), and
records the figures the page shows in #self-check and which runtime it chose.  Run `rounds` fresh browser
contexts (each a first visit: nothing cached).

    python benchmarks/page_self_check.py [--bundle DIR] [--rounds N] [--out DIR]

Writes OUT/results.json and OUT/results.md (default benchmarks/results/page_self_check/).  Without --bundle the
pretrained model is exported to a temporary folder first (needs TensorFlow).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--enable-unsafe-webgpu",
    "--use-webgpu-adapter=swiftshader",
    "--enable-features=Vulkan",
]
TIMEOUT_MS = 600_000


def export_pretrained(folder: Path) -> Path:
    from textgen_export.api.textgen import TextGen
    from textgen_export.export.writer import export_bundle

    tg = TextGen.pretrained()
    export_bundle(tg.model, tg.vocab, tg.config, folder, onnx=True, tfjs=True, log=lambda _: None)
    return folder


def chromium_run(command: str, argv: list[str] | None) -> dict:
    """What every Chromium result records: the command as typed, when, the machine, the browser and its flags."""
    return {
        "command": f"{command} " + " ".join(argv if argv is not None else sys.argv[1:]),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} CPU cores",
        "chromium": subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip(),
        "chromium_args": ARGS,
    }


def median(values: list[float]) -> str:
    return f"{statistics.median(values):,.0f}" if values else "–"


def one_visit(browser, url: str) -> dict:
    context = browser.new_context()  # a first visit: an empty HTTP cache
    try:
        page = context.new_page()
        started = time.perf_counter()
        page.goto(url)
        page.wait_for_selector("body[data-runtime], #error:not([hidden])", timeout=TIMEOUT_MS)
        ready_s = time.perf_counter() - started
        lines = page.locator("#self-check li[data-runtime]").evaluate_all(
            "li => li.map(e => ({...e.dataset, text: e.textContent}))"
        )
        return {"ready_s": ready_s, "chosen": page.get_attribute("body", "data-runtime"), "runtimes": lines}
    finally:
        context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "page_self_check")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from textgen_export.web.serve import make_server

    with tempfile.TemporaryDirectory() as tmp:
        bundle = args.bundle or export_pretrained(Path(tmp) / "bundle")
        server = make_server({"/bundle/": bundle}, port=0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        try:
            visits = []
            with sync_playwright() as p:
                for _ in range(args.rounds):
                    # A fresh browser each round: a GPU runtime too slow for a software renderer leaves work
                    # queued in the GPU process that would hold up the next visit.
                    browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                    visits.append(one_visit(browser, url))
                    browser.close()
        finally:
            server.shutdown()
            server.server_close()
    per_runtime: dict[str, dict] = {}
    for visit in visits:
        for line in visit["runtimes"]:
            row = per_runtime.setdefault(
                line["runtime"], {"passed": [], "cold_ms": [], "chars_per_s": [], "max_diff": []}
            )
            row["passed"].append(line["passed"] == "true")
            for key, field in (
                ("cold_ms", "coldMs"),
                ("chars_per_s", "charsPerSecond"),
                ("max_diff", "maxDiff"),
            ):
                if field in line:
                    row[key].append(float(line[field]))
            row["last"] = line["text"]
    result = {
        **chromium_run("python benchmarks/page_self_check.py", argv),
        "visits": visits,
        "per_runtime": per_runtime,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(
        json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    ready = ", ".join(f"{v['ready_s']:.0f} s" for v in visits)
    lines = [
        "# The page's runtime self-check and measurement (Chromium)",
        "",
        f"`{result['command']}` — {result['when']}; {result['machine']}; {result['chromium']}; WebGPU and WebGL on SwiftShader.",
        f"{args.rounds} first visits; medians.  Chosen default per visit: {', '.join(v['chosen'] for v in visits)}; "
        f"page ready after {ready}.",
        "",
        "| runtime | self-check | max diff vs float64 | cold start ms | steady chars/s |",
        "|---|---|---|---|---|",
    ]
    for name, row in per_runtime.items():
        passed = "✓" if all(row["passed"]) else ("✗" if not any(row["passed"]) else "mixed")
        if "not checked" in row["last"]:
            passed = "not checked (too slow here)"
        diff = f"{max(row['max_diff']):.1e}" if row["max_diff"] else "–"
        lines.append(
            f"| {name} | {passed} | {diff} | {median(row['cold_ms'])} | {median(row['chars_per_s'])} |"
        )
    lines += ["", "Last line the page showed per runtime:", ""]
    lines += [f"- {row['last']}" for row in per_runtime.values()]
    (args.out / "results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
