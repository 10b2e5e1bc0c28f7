"""The web demo in real Chromium (Debian's, driven by Playwright) against `textgen-export serve`'s server.

The page loads the default bundle (the pretrained model); every in-page runtime generates ≥ 200 characters with
no console errors and exactly Python's seeded text; the interactive mode works by clicks and matches Python's
InteractiveSession; a malformed bundle shows an error naming the file; a hostile vocab token renders as text.
Also (no browser): the server's MIME types, isolation headers, traversal refusal, and the page's CSP.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from helpers import REPO, WEB_DEMO, export, run_cli

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    # WebGPU on SwiftShader (software Vulkan): the page's WebGPU runtimes run here, slowly but for real.
    "--enable-unsafe-webgpu",
    "--use-webgpu-adapter=swiftshader",
    "--enable-features=Vulkan",
]
ARTIFACTS = REPO / "test-artifacts"
HOSTILE = "<img src=x onerror=alert(1)>"
RUNTIMES = ("tfjs-cpu", "tfjs-wasm", "tfjs-webgl", "onnx-wasm")
# Eight texts in one batch: ≥ 200 characters in few model calls, so even SwiftShader WebGL finishes quickly.
JOB = {"n": 8, "temperature": 0.5, "max_gen_length": 40, "seed": 7}
TIMEOUT_MS = 120_000
# Opening the page without ?runtime= checks and times every runtime first (each within 20 s, runtime/choose.js).
MEASURE_MS = 300_000


def hostile_textgen():
    """A tiny model whose vocabulary holds an HTML-looking token (vocab files are untrusted input)."""
    from textgen_export.api.textgen import TextGen
    from textgen_export.contract.config import ModelConfig
    from textgen_export.contract.vocabulary import Vocabulary

    vocab = Vocabulary({"a": 1, "b": 2, HOSTILE: 3, "<s>": 4})
    return TextGen.new(
        ModelConfig(rnn_size=8, max_length=6, dim_embeddings=4, rnn_layers=1, name="hostile"), vocab
    )


class Site(str):
    """The server's base URL (use it like a string) and the bundle folder behind each mount."""

    def __new__(cls, url: str, folders: dict[str, Path]):
        site = super().__new__(cls, url)
        site.folders = folders
        return site


@pytest.fixture(scope="module")
def site(tmp_path_factory, pretrained_bundle):
    from textgen_export.web.serve import Mount, make_server

    root = tmp_path_factory.mktemp("site")
    default = pretrained_bundle
    hostile = export(hostile_textgen(), root / "hostile")
    truncated = root / "truncated"
    shutil.copytree(hostile, truncated)
    shard = truncated / "tfjs" / "group1-shard1of1.bin"
    shard.write_bytes(shard.read_bytes()[:-7])
    no_vocab = root / "novocab"
    shutil.copytree(hostile, no_vocab)
    (no_vocab / "vocab.json").unlink()
    mounts = {"/bundle/": default, "/hostile/": hostile, "/truncated/": truncated, "/novocab/": no_vocab}
    # The server verifies a bundle before serving it; the damaged ones reach the page as plain folders, so the
    # page's own checks meet them.
    damaged = {prefix: Mount(mounts[prefix]) for prefix in ("/truncated/", "/novocab/")}
    server = make_server({p: f for p, f in mounts.items() if p not in damaged}, port=0, extra=damaged)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Site(f"http://127.0.0.1:{server.server_address[1]}", mounts)
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (make test does)")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (make test does)")
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Page:
    """A page plus everything it reported: console errors, uncaught exceptions, dialogs (alert() must not run)."""

    def __init__(self, browser, width: int = 1100):
        self.page = browser.new_page(viewport={"width": width, "height": 900})
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def open(self, url: str, runtime: str | None, timeout: int = TIMEOUT_MS) -> None:
        """Open `url` and wait until `runtime` (None: whichever the page measured fastest) is live."""
        self.page.goto(url)
        live = f"body[data-runtime='{runtime}']" if runtime else "body[data-runtime]"
        self.page.wait_for_selector(f"{live}, #error:not([hidden])", timeout=timeout)
        assert self.page.locator("#error").is_hidden(), self.page.text_content("#error")

    def generate(self, prefix: str = "", **job) -> list[str]:
        done = int(self.page.get_attribute("body", "data-generated") or 0)
        self.page.fill("#prefix", prefix)
        self.page.fill("#temperature", str(job["temperature"]))
        self.page.fill("#max-length", str(job["max_gen_length"]))
        self.page.fill("#count", str(job["n"]))
        self.page.fill("#seed", str(job["seed"]))
        self.page.click("#generate")
        self.page.wait_for_selector(
            f"body[data-generated='{done + 1}'], #error:not([hidden])", timeout=TIMEOUT_MS
        )
        assert self.page.locator("#error").is_hidden(), self.page.text_content("#error")
        return self.page.locator("#outputs pre").all_text_contents()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_each_runtime_generates_pythons_seeded_text(site, page, runtime, pretrained_textgen):
    page.open(f"{site}/?runtime={runtime}", runtime)
    assert "textgenrnn" in page.page.text_content("#model-name")
    texts = page.generate(**JOB)
    assert texts == pretrained_textgen.generate(**JOB)
    assert sum(len(t) for t in texts) >= 200
    assert int(page.page.text_content("#speed")) > 0
    # The attention matrix of text 1: a row per generated token, max_length cells each (tests/e2e/test_page.py).
    rows = page.page.locator("#attention-matrix .matrix-row")
    assert rows.count() > 0
    assert rows.first.locator(".cell").count() == pretrained_textgen.config.max_length
    assert page.errors == []
    # The padding fast path served the padded windows (ONNX: model_tail.onnx; TF.js on the CPU side: tfjs_tail.js;
    # WebGL keeps whole windows, one shape): the same text
    fast = "false" if runtime == "tfjs-webgl" else "true"
    assert page.page.get_attribute("body", "data-fast-path") == fast
    if runtime == "onnx-wasm":
        ARTIFACTS.mkdir(exist_ok=True)
        page.page.screenshot(path=str(ARTIFACTS / "web_demo.png"), full_page=True)


@pytest.mark.browser
@pytest.mark.slow
def test_interactive_mode_by_clicks(site, page, pretrained_textgen):
    from textgen_export.sampling.interactive import InteractiveSession

    page.open(f"{site}/?runtime=onnx-wasm", "onnx-wasm")
    page.page.fill("#prefix", "I like")
    page.page.fill("#temperature", "0.5")
    page.page.click("#interactive-start")
    options = page.page.locator("#options button")
    options.first.wait_for(timeout=TIMEOUT_MS)
    expected = InteractiveSession(pretrained_textgen.generator, prefix="I like", temperature=0.5, top_n=5)
    for _ in range(3):
        want = expected.options()
        shown = page.page.locator("#options button").all_text_contents()
        assert shown == [{" ": "␣", "\n": "↵"}.get(t, t) for t in want]
        expected.choose(want[0])
        text_before = page.page.text_content("#interactive-text")
        page.page.click("#options button >> nth=0")
        _wait_text_change(page, text_before)
    assert page.page.text_content("#interactive-text") == expected.text
    # Keyboard: focus stays on the choices, so Enter picks the (new) first option.
    expected.choose(expected.options()[0])
    before = page.page.text_content("#interactive-text")
    page.page.keyboard.press("Enter")
    _wait_text_change(page, before)
    assert page.page.text_content("#interactive-text") == expected.text
    before = expected.text
    expected.backspace()
    page.page.click("#backspace")
    _wait_text_change(page, before)
    assert page.page.text_content("#interactive-text") == expected.text
    page.page.fill("#own-text", " bus")
    before = expected.text
    page.page.press("#own-text", "Enter")  # keyboard: the form submits on Enter
    _wait_text_change(page, before)
    assert page.page.text_content("#interactive-text") == expected.text + " bus"
    page.page.click("#interactive-stop")
    page.page.locator("#options button").first.wait_for(state="detached", timeout=TIMEOUT_MS)
    assert page.errors == []


@pytest.mark.browser
@pytest.mark.slow
def test_stop_button_stops_a_long_run(site, page):
    page.open(f"{site}/?runtime=tfjs-cpu", "tfjs-cpu")  # the slowest runtime: plenty of time to press Stop
    page.page.fill("#max-length", "2000")
    page.page.fill("#count", "1")
    page.page.fill("#seed", "")
    page.page.fill("#prefix", "a")
    page.page.fill(
        "#temperature", "0"
    )  # greedy from "a" never ends before max length: a sampled <s> cannot win the race
    page.page.click("#generate")
    page.page.locator("#stop:not([disabled])").wait_for(timeout=TIMEOUT_MS)
    page.page.wait_for_timeout(1500)
    page.page.click("#stop")
    page.page.wait_for_selector("body[data-generated='1']", timeout=TIMEOUT_MS)
    assert page.page.text_content("#status") == "Stopped."
    assert page.page.locator("#generate").is_enabled()
    assert page.errors == []


@pytest.mark.browser
def test_folder_picker_loads_another_bundle(site, page):
    page.open(f"{site}/?runtime=tfjs-cpu", "tfjs-cpu")
    assert "textgenrnn" in page.page.text_content("#model-name")
    page.page.set_input_files("#bundle-picker", str(site.folders["/hostile/"]))
    page.page.locator("#model-name", has_text="hostile").wait_for(timeout=TIMEOUT_MS)
    page.page.wait_for_selector("body[data-runtime='tfjs-cpu']", timeout=TIMEOUT_MS)
    texts = page.generate(n=2, temperature=1.0, max_gen_length=10, seed=1)
    assert len(texts) == 2
    assert page.errors == []


@pytest.mark.browser
@pytest.mark.parametrize(
    ("field", "value", "message"), [("#temperature", "hot", "temperature"), ("#seed", "", "")]
)
def test_bad_settings_show_an_error(site, page, field, value, message):
    page.open(f"{site}/?runtime=onnx-wasm", "onnx-wasm")
    page.page.fill("#max-length", "5")
    page.page.fill(field, value)
    if not message:  # control case: the same steps with valid settings generate
        page.page.click("#generate")
        page.page.wait_for_selector("body[data-generated='1']", timeout=TIMEOUT_MS)
        assert page.page.locator("#error").is_hidden()
        return
    page.page.click("#generate")
    page.page.locator("#error").wait_for(state="visible", timeout=TIMEOUT_MS)
    assert message in page.page.text_content("#error")
    assert page.page.locator("#generate").is_enabled()


def _wait_text_change(page: Page, before: str) -> None:
    """Poll from Python: wait_for_function would need eval, which the page's CSP (rightly) forbids."""
    locator = page.page.locator("#interactive-text")
    for _ in range(600):
        if locator.text_content() != before:
            return
        page.page.wait_for_timeout(50)
    raise AssertionError("the interactive text did not change after the click")


@pytest.mark.browser
@pytest.mark.parametrize(
    ("bundle", "named"),
    [("truncated", "tfjs/group1-shard1of1.bin"), ("novocab", "vocab.json"), ("missing", "manifest.json")],
)
def test_bad_bundle_shows_an_error_naming_the_file(site, page, bundle, named):
    page.page.goto(f"{site}/?model=/{bundle}/&runtime=tfjs-cpu")
    error = page.page.locator("#error")
    error.wait_for(state="visible", timeout=TIMEOUT_MS)
    assert named in error.text_content()
    assert page.errors == [] or all("404" in e for e in page.errors)  # only the browser's own fetch log


@pytest.mark.browser
def test_hostile_token_renders_as_text(site, page):
    page.open(f"{site}/?model=/hostile/&runtime=tfjs-cpu", "tfjs-cpu")
    page.page.fill("#temperature", "1.0")
    page.page.click("#interactive-start")
    hostile = page.page.locator("#options button", has_text=HOSTILE)
    hostile.wait_for(timeout=TIMEOUT_MS)  # a 3-token vocab: every token is among the top 5
    hostile.click()
    page.page.locator("#interactive-text", has_text=HOSTILE).wait_for(timeout=TIMEOUT_MS)
    texts = page.generate(n=4, temperature=1.0, max_gen_length=30, seed=3)
    assert page.page.locator("img").count() == 0  # never parsed as HTML
    assert page.dialogs == []
    assert len(texts) == 4
    assert page.errors == []


@pytest.mark.browser
def test_phone_width_has_no_horizontal_scroll(site, browser):
    phone = Page(browser, width=360)
    try:
        phone.open(f"{site}/", None, timeout=MEASURE_MS)  # the default bundle, the runtime measured fastest
        width = phone.page.locator("body").bounding_box()["width"]
        assert width <= 360
        for control in ("#prefix", "#generate", "#runtime", "#bundle-picker"):
            box = phone.page.locator(control).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 360, control
    finally:
        phone.page.close()


# --- the server and the page's static contract (no browser) -------------------------------------------------


def _get(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), b""


def test_server_types_headers_and_traversal(site):
    status, headers, body = _get(f"{site}/")
    assert status == 200 and headers["Content-Type"].startswith("text/html") and b"textgen-export" in body
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Cross-Origin-Embedder-Policy"] == "require-corp"
    wasm = "/node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm"
    assert _get(site + wasm)[1]["Content-Type"] == "application/wasm"
    assert _get(f"{site}/node_modules/onnxruntime-web/dist/ort.wasm.min.mjs")[1]["Content-Type"].startswith(
        "text/javascript"
    )
    assert _get(f"{site}/src/app.js")[1]["Content-Type"].startswith("text/javascript")
    assert _get(f"{site}/bundle/manifest.json")[1]["Content-Type"] == "application/json"
    for bad in (
        "/../pyproject.toml",
        "/%2e%2e/pyproject.toml",
        "/bundle/../../etc/passwd",
        "/bundle/%2e%2e/%2e%2e/etc/passwd",
        "/src/..%2f..%2fpyproject.toml",
        "/package.json",
        "/test/parity.mjs",
        "/bundle/",
        "/src/",
    ):
        assert _get(site + bad)[0] == 404, bad


def test_page_csp_allows_only_its_own_import_map():
    html = (WEB_DEMO / "index.html").read_text(encoding="utf-8")
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    importmap = re.search(r'<script type="importmap">(.*?)</script>', html, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(importmap.encode()).digest()).decode()
    script_src = re.search(r"script-src ([^;]+)", csp).group(1).split()
    assert sorted(script_src) == sorted(["'self'", "'wasm-unsafe-eval'", f"'sha256-{digest}'"])
    assert "unsafe-inline" not in csp and "unsafe-eval'" not in csp.replace("wasm-unsafe-eval'", "")
    # No inline scripts or handlers besides the import map; no innerHTML anywhere in the page's code.
    assert len(re.findall(r"<script\b", html)) == 2
    assert not re.findall(r"<[^>]*\son[a-z]+\s*=", html, re.I), "inline event handler"
    for source in (WEB_DEMO / "src").rglob("*.js"):
        text = source.read_text(encoding="utf-8")
        assert "innerHTML" not in text and "insertAdjacentHTML" not in text, source


def test_serve_command_prints_the_url_and_serves_the_bundle(tmp_path):
    import subprocess
    import sys

    from helpers import random_textgen

    bundle = export(random_textgen(), tmp_path / "bundle", onnx=False)
    server = subprocess.Popen(
        [sys.executable, "-m", "textgen_export", "serve", str(bundle), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        status, _, body = _get(url + "bundle/tfjs/model.json")
        assert status == 200 and json.loads(body)["format"] == "layers-model"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_serve_command_rejects_a_folder_that_is_not_a_bundle(tmp_path):
    done = run_cli("serve", tmp_path, "--port", "0", timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "not a bundle" in done.stderr
