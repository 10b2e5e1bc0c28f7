"""The page's Train panel in real Chromium: a text file dropped on the page fine-tunes the loaded model in a Web
Worker (loss printed and falling), the page generates with the trained weights at once (TF.js; ONNX Runtime off
until exported), the download is one .zip that `textgen-export export` (CLI, relative paths) turns into a validated
ONNX + TF.js bundle generating the page's seeded text; a foreign file gets one line and the model is untouched.
"""

from __future__ import annotations

import json
import threading

import pytest
from test_browser import TIMEOUT_MS

from helpers import export, random_textgen, run_cli

LINES = [
    "the quick brown fox jumps over the lazy dog.",
    "pack my box with five dozen liquor jugs!",
    "how vexingly quick daft zebras jump",
]
CORPUS = "\n".join(LINES * 12) + "\n"
STEPS, BATCH = 6, 16
JOB = {"n": 2, "temperature": 0.8, "max_gen_length": 30, "seed": 11}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from textgen_export.web.serve import make_server

    root = tmp_path_factory.mktemp("train")
    small = random_textgen(seed=2, rnn_size=8, rnn_layers=1, max_length=8, dim_embeddings=4, name="small")
    bundle = export(small, root / "bundle")
    server = make_server({"/bundle/": bundle}, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"url": f"http://127.0.0.1:{server.server_address[1]}", "root": root}
    server.shutdown()
    server.server_close()


def drop(page, name: str, data: bytes, mime: str) -> None:
    """Drop a file on the Train panel's drop zone, as a reader's drag and drop does."""
    transfer = page.page.evaluate_handle(
        """([name, bytes, mime]) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(bytes)], name, { type: mime }));
            return transfer;
        }""",
        [name, list(data), mime],
    )
    page.page.dispatch_event("#train-drop", "drop", {"dataTransfer": transfer})


def train(page) -> list[dict]:
    page.page.fill("#train-amount", str(STEPS))
    page.page.fill("#train-batch", str(BATCH))
    page.page.select_option("#train-backend", "cpu")
    page.page.click("#train-start")
    page.page.wait_for_selector("body[data-trained='1'], #train-error:not([hidden])", timeout=TIMEOUT_MS)
    assert page.page.locator("#train-error").is_hidden(), page.page.text_content("#train-error")
    return page.page.locator("#train-log li").evaluate_all("items => items.map(li => ({...li.dataset}))")


@pytest.mark.browser
@pytest.mark.slow
def test_train_on_a_dropped_file_generate_download_and_export(served, page, tmp_path):
    page.open(f"{served['url']}/?runtime=tfjs-cpu", "tfjs-cpu")
    drop(page, "notes.txt", CORPUS.encode(), "text/plain")
    page.page.wait_for_selector("#train-file-name:has-text('notes.txt')", timeout=TIMEOUT_MS)
    log = train(page)
    steps = [entry for entry in log if "epochDone" not in entry]
    assert [int(entry["step"]) for entry in steps] == list(range(STEPS + 1))  # step 0: the starting weights
    assert all(float(entry["windowsPerSecond"]) > 0 and "loss" in entry for entry in steps[1:])
    (end,) = [entry for entry in log if "epochDone" in entry]
    before, after = float(log[0]["validationLoss"]), float(end["validationLoss"])
    assert after < before, (before, after)  # falling
    assert "validation loss" in page.page.text_content("#train-readout")
    assert "(nats per token)" in page.page.text_content("#train-readout")
    # The trained model is the page's model now: TF.js runs it, ONNX Runtime waits for an export.
    page.page.wait_for_selector("body[data-runtime^='tfjs-']", timeout=TIMEOUT_MS)
    onnx = page.page.locator("#runtime option[value='onnx-wasm']")
    assert onnx.is_disabled() and "export the model to use ONNX Runtime" in onnx.text_content()
    texts = page.generate(**JOB)
    with page.page.expect_download() as download:
        page.page.click("#train-download")
    download.value.save_as(tmp_path / "model.zip")
    done = run_cli("export", "model.zip", "--onnx", "--tfjs", "--out", "bundle/", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "bundle" / "manifest.json").read_text())
    assert {"model.onnx", "tfjs/model.json", "parity/probe.json"} <= set(manifest["files"])
    assert manifest["description"] == "fine-tuned in the browser from small"
    done = run_cli(
        "generate", "--bundle", "bundle/", "-n", JOB["n"], "--temperature", JOB["temperature"],
        "--max-length", JOB["max_gen_length"], "--seed", JOB["seed"], cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == texts
    assert page.errors == []


@pytest.mark.browser
def test_a_foreign_file_gets_one_line_and_the_model_is_untouched(served, page):
    page.open(f"{served['url']}/?runtime=tfjs-cpu", "tfjs-cpu")
    drop(page, "photo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "image/png")
    page.page.wait_for_selector("#train-error:not([hidden])", timeout=TIMEOUT_MS)
    said = page.page.text_content("#train-error")
    assert said == "photo.png is not a UTF-8 text file; drop a plain text file (.txt), one text per line"
    page.page.click("#train-start")  # nothing to train on: still one line, still the same model
    assert page.page.text_content("#train-error").startswith("give text to train on")
    assert page.page.text_content("#model-name") == "small"
    assert page.page.get_attribute("body", "data-runtime") == "tfjs-cpu"
    assert page.page.get_attribute("body", "data-trained") is None
    assert page.errors == []


@pytest.mark.browser
@pytest.mark.slow
def test_stop_keeps_what_was_trained(served, page):
    page.open(f"{served['url']}/?runtime=tfjs-cpu", "tfjs-cpu")
    page.page.fill("#train-text", CORPUS)
    page.page.fill("#train-amount", "100000")
    page.page.fill("#train-batch", str(BATCH))
    page.page.select_option("#train-backend", "cpu")
    page.page.click("#train-start")
    page.page.locator("#train-log li").first.wait_for(state="attached", timeout=TIMEOUT_MS)
    assert page.page.evaluate("() => 1 + 1") == 2  # the page answers while the worker trains
    page.page.click("#train-stop")
    page.page.wait_for_selector("body[data-trained='1'], #train-error:not([hidden])", timeout=TIMEOUT_MS)
    assert page.page.locator("#train-error").is_hidden(), page.page.text_content("#train-error")
    steps = page.page.locator("#train-log li:not([data-epoch-done]):not([data-step='0'])").count()
    assert 1 <= steps < 100000
    page.page.wait_for_selector("#train-readout:has-text('Stopped after')", timeout=TIMEOUT_MS)
    assert page.page.text_content("#train-readout").startswith(f"Stopped after {steps} steps")
    page.page.wait_for_selector("body[data-runtime^='tfjs-']", timeout=TIMEOUT_MS)
    assert not page.page.locator("#train-download").is_disabled()
    assert page.errors == []
