"""Training throughput in Chromium: the page's Train panel (TF.js in its Web Worker) on each TF.js backend.

The training scenario of benchmarks/training_throughput.py (the pretrained 2x128 model, max_length 40, batch 128,
the Python docstrings corpus) driven the way a reader drives it: the corpus pasted into the Train panel, N steps,
and windows/s taken from the times the page heard of each step (after the first, which compiles and traces), so
the figure includes the worker's messages as a reader's page sees them.

    python -m benchmarks.training_browser [--bundle DIR] [--steps N] [--backends wasm webgl] [--out DIR]

Writes OUT/results.json and OUT/results.md (default benchmarks/results/training-browser/).  Without --bundle the
pretrained model is exported to a temporary folder first (needs TensorFlow).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
from pathlib import Path

from .page_self_check import ARGS, CHROMIUM, chromium_run, export_pretrained

HERE = Path(__file__).resolve().parent
BATCH = 128  # training_throughput.BATCH
TIMEOUT_MS = 1_800_000
MAX_TEXTS = 3000


def corpus() -> str:
    from textgen_export.datasets.python_docstrings import harvest

    return "\n".join(" ".join(t.split()) for t in harvest()[:MAX_TEXTS]) + "\n"


def one_run(browser, url: str, text: str, backend: str, steps: int) -> dict:
    page = browser.new_page()
    try:
        page.goto(f"{url}?runtime=tfjs-wasm")
        page.wait_for_selector("body[data-runtime], #error:not([hidden])", timeout=TIMEOUT_MS)
        page.eval_on_selector("#train-text", "(box, text) => { box.value = text; }", text)  # as a paste
        page.fill("#train-amount", str(steps))
        page.fill("#train-batch", str(BATCH))
        page.select_option("#train-backend", backend)
        page.click("#train-start")
        page.wait_for_selector("body[data-trained='1'], #train-error:not([hidden])", timeout=TIMEOUT_MS)
        if page.locator("#train-error").is_visible():
            return {"backend": backend, "error": page.text_content("#train-error")}
        log = page.locator("#train-log li").evaluate_all("items => items.map(li => ({...li.dataset}))")
        # Training steps only (not step 0's or the epoch's validation), timed from the end of step 1.
        steps = [e for e in log if int(e["step"]) >= 1 and "epochDone" not in e]
        seconds = (float(steps[-1]["at"]) - float(steps[0]["at"])) / 1000
        windows = BATCH * (len(steps) - 1)
        return {
            "backend": backend,
            "steps": len(steps),
            "log": log,
            "windows_per_second": windows / seconds if seconds > 0 else None,
            "trainer_windows_per_second": float(log[-1].get("windowsPerSecond", "nan")),
            "first_step_s": (float(steps[0]["at"]) - float(log[0]["at"])) / 1000,
            "validation_loss": [float(e["validationLoss"]) for e in log if "validationLoss" in e],
            "readout": page.text_content("#train-readout"),
        }
    finally:
        page.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--backends", nargs="+", default=["wasm", "webgl"])
    parser.add_argument("--out", type=Path, default=HERE / "results" / "training-browser")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from textgen_export.web.serve import make_server

    text = corpus()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        bundle = args.bundle or export_pretrained(Path(tmp) / "bundle")
        server = make_server({"/bundle/": bundle}, port=0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        runs = []
        try:
            with sync_playwright() as p:
                for backend in args.backends:
                    browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                    runs.append(one_run(browser, url, text, backend, args.steps))
                    browser.close()
        finally:
            server.shutdown()
            server.server_close()
    result = {
        **chromium_run("python -m benchmarks.training_browser", argv),
        "batch_size": BATCH,
        "load_average_1min": {"before": load_before[0], "after": os.getloadavg()[0]},
        "runs": runs,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    lines = [
        "# Training in Chromium: the page's Train panel (TF.js in a Web Worker)",
        "",
        f"`{result['command']}` — {result['when']}; {result['machine']}; {result['chromium']}; WebGL on SwiftShader "
        f"(no GPU); 1-minute load average {result['load_average_1min']['before']:.1f} before, "
        f"{result['load_average_1min']['after']:.1f} after (a shared machine: other work ran beside it).",
        f"The pretrained 2x128 model, max_length 40, batch {BATCH}, the Python docstrings corpus; windows/s from "
        "the end of step 1 to the end of the last (step 1 compiles); "
        "the trainer's own figure (from its start, step 1 included) beside it.",
        "",
        "| TF.js backend | steps | windows/s | trainer's windows/s | step 1 s | validation loss before → after (nats/token) |",
        "|---|---|---|---|---|---|",
    ]
    for run in runs:
        if "error" in run:
            lines.append(f"| {run['backend']} | – | failed: {run['error']} | – | – | – |")
            continue
        losses = run["validation_loss"]
        loss = f"{losses[0]:.4f} → {losses[-1]:.4f}" if losses else "–"
        lines.append(
            f"| {run['backend']} | {run['steps']} | {run['windows_per_second']:,.1f} | "
            f"{run['trainer_windows_per_second']:,.1f} | {run['first_step_s']:.1f} | {loss} |"
        )
    (args.out / "results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
