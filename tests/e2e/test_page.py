"""The page as a product, in real Chromium: the attention matrix, next-token bars, errors that guide, a bundle
that names itself.  The numbers the page shows are checked against Python's (ONNX Runtime on the same bundle).

The run also writes web_demo/screenshot.png (the page after generating), which web_demo/README.md shows.
"""

from __future__ import annotations

import json
import os
import shutil
import threading

import numpy as np
import pytest
from test_browser import TIMEOUT_MS, Page, browser, hostile_textgen  # noqa: F401  (browser: a fixture)

from helpers import REPO, WEB_DEMO, export, node_cli, run_cli

JOB = {"n": 2, "temperature": 0.5, "max_gen_length": 40, "seed": 7}
TOP_N = 5
# ONNX Runtime Web (wasm) against ONNX Runtime in Python on the same model.onnx: float32 either way, and
# docs/design.md §4 measures float32 runtimes within ~1e-5 of each other on probabilities; attention is a softmax too.
ATOL = 1e-5
SCREENSHOT = WEB_DEMO / "screenshot.png"


@pytest.fixture(scope="module")
def site(tmp_path_factory, pretrained_bundle):
    from textgen_export.web.serve import make_server

    root = tmp_path_factory.mktemp("page")
    small = hostile_textgen()
    mounts = {
        "/bundle/": pretrained_bundle,
        "/onnxonly/": export(small, root / "onnxonly", tfjs=False),
        "/tfjsonly/": export(small, root / "tfjsonly", onnx=False),
    }
    model_dir = root / "my_model"
    small.save(model_dir)
    server = make_server(mounts, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    site = f"http://127.0.0.1:{server.server_address[1]}"
    yield {"url": site, "model_dir": model_dir, **mounts}
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(browser):  # noqa: F811
    opened = Page(browser, width=1280)
    yield opened
    opened.page.close()


@pytest.fixture(scope="module")
def python_traces(pretrained_bundle):
    """What Python's ONNX Runtime path records for the same job: per text, every step."""
    from textgen_export.runtime import load_bundle

    job = {k: v for k, v in JOB.items() if k != "n"}
    return load_bundle(pretrained_bundle).trace(n=JOB["n"], top_k=TOP_N, **job)


def matrix_rows(page: Page) -> list[list[float]]:
    rows = page.page.locator("#attention-matrix .matrix-row")
    return [
        [float(w) for w in row.locator(".cell").evaluate_all("cells => cells.map(c => c.dataset.weight)")]
        for row in rows.all()
    ]


@pytest.mark.browser
def test_attention_matrix_has_one_row_per_generated_token(site, page, python_traces):
    page.open(f"{site['url']}/?runtime=onnx-wasm", "onnx-wasm")
    texts = page.generate(**JOB)
    assert texts == [t.text for t in python_traces]
    trace = python_traces[0]
    rows = matrix_rows(page)
    assert len(rows) == len(trace.steps)  # one row per generated token (the end marker included)
    weights = np.array(rows)
    assert weights.shape[1] == 40
    assert np.abs(weights.sum(axis=1) - 1.0).max() <= 1e-5
    assert np.abs(weights - trace.attention_matrix()).max() <= ATOL
    labels = page.page.locator("#attention-matrix .row-label").all_text_contents()
    shown = {" ": "␣", "\n": "↵"}
    assert labels == [shown.get(s.token, s.token) for s in trace.steps]
    # The cells show the window each token read: its last cell is the token generated just before it.
    last_cells = page.page.locator("#attention-matrix .matrix-row .cell:last-child").all_text_contents()
    assert last_cells[1:] == labels[:-1]
    # Text 2's matrix on request.
    page.page.select_option("#attention-text", "1")
    assert len(matrix_rows(page)) == len(python_traces[1].steps)
    page.page.select_option("#attention-text", "0")

    # Pointing at a cell reads its weight; the keyboard moves a cursor through the matrix.
    cell = page.page.locator("#attention-matrix .matrix-row >> nth=3").locator(".cell").last
    cell.hover()
    readout = page.page.text_content("#attention-readout")
    assert f"{weights[3, -1]:.4g}" in readout and "Token 4" in readout
    page.page.focus("#attention-matrix")
    page.page.keyboard.press("Home")
    page.page.keyboard.press("ArrowDown")
    assert "Token 2" in page.page.text_content("#attention-readout")

    # Log and linear scales colour the same cell differently; the legend follows.
    colour = cell.evaluate("c => getComputedStyle(c).backgroundColor")
    assert page.page.text_content("#legend").startswith("1e-4")
    page.page.check("#scale-linear")
    assert cell.evaluate("c => getComputedStyle(c).backgroundColor") != colour
    assert page.page.text_content("#legend").startswith("0")
    page.page.check("#scale-log")
    assert page.errors == []


@pytest.mark.browser
def test_next_token_bars_are_the_samplers_numbers(site, page, python_traces):
    page.open(f"{site['url']}/?runtime=onnx-wasm", "onnx-wasm")
    page.page.fill("#top-n", str(TOP_N))
    page.generate(**JOB)
    steps = python_traces[0].steps
    for step in (0, 5, len(steps) // 2):
        page.page.locator(f"#outputs pre[data-index='0'] span.tok[data-step='{step}']").hover()
        page.page.locator(f"#next-token[data-step='{step}']").wait_for(timeout=TIMEOUT_MS)
        items = page.page.locator("#next-token li")
        tokens = items.evaluate_all("li => li.map(e => e.dataset.token)")
        probs = [float(p) for p in items.evaluate_all("li => li.map(e => e.dataset.p)")]
        want = steps[step].candidates
        assert tokens == [tok for tok, _ in want]
        assert np.abs(np.array(probs) - [p for _, p in want]).max() <= ATOL
        chosen = page.page.locator("#next-token li.chosen").evaluate_all("li => li.map(e => e.dataset.token)")
        assert chosen == ([steps[step].token] if steps[step].token in tokens else [])
    # The chosen token's bar: the generated text's hovered token is the one marked.
    page.page.locator("#outputs pre[data-index='0'] span.tok[data-step='5']").hover()
    # Every run writes test-artifacts/page.png; the README's copy is refreshed on request (or when missing),
    # so a test run does not leave the checkout modified by a speed readout that differs each time.
    shot = REPO / "test-artifacts" / "page.png"
    shot.parent.mkdir(exist_ok=True)
    page.page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("TEXTGEN_UPDATE_SCREENSHOT") == "1" or not SCREENSHOT.exists():
        shutil.copyfile(shot, SCREENSHOT)
    assert page.errors == []


@pytest.mark.browser
def test_interactive_mode_shows_the_candidates_bars(site, page, pretrained_bundle):
    from textgen_export.contract.tokens import META_TOKEN
    from textgen_export.runtime import load_bundle
    from textgen_export.sampling.trace import top_candidates

    runtime = load_bundle(pretrained_bundle)
    page.open(f"{site['url']}/?runtime=onnx-wasm", "onnx-wasm")
    page.page.fill("#prefix", "I like")
    page.page.fill("#temperature", "0.7")
    page.page.click("#interactive-start")
    page.page.locator("#next-token li").first.wait_for(timeout=TIMEOUT_MS)
    window = runtime.vocab.windows([[META_TOKEN, *"I like"]], 40)
    want = top_candidates(runtime.probs(window)[0], 0.7, TOP_N, runtime.vocab)
    items = page.page.locator("#next-token li")
    assert items.evaluate_all("li => li.map(e => e.dataset.token)") == [t for t, _ in want]
    probs = [float(p) for p in items.evaluate_all("li => li.map(e => e.dataset.p)")]
    assert np.abs(np.array(probs) - [p for _, p in want]).max() <= ATOL
    assert page.page.locator("#attention-matrix .matrix-row").count() == 1
    assert page.errors == []


@pytest.mark.browser
def test_a_stale_error_clears_and_the_next_one_shows(site, page):
    page.open(f"{site['url']}/?runtime=onnx-wasm", "onnx-wasm")
    error = page.page.locator("#error")
    page.page.fill("#temperature", "abc")
    assert error.is_visible() and "temperature" in error.text_content()
    assert page.page.get_attribute("#temperature", "aria-invalid") == "true"
    page.page.fill("#temperature", "0.5")
    assert error.is_hidden()
    page.page.fill("#seed", "1.5")
    assert error.is_visible() and "seed" in error.text_content() and "temperature" not in error.text_content()
    page.page.click(
        "#generate"
    )  # the form's own validation does not swallow the submit: the error stays right
    assert "seed" in error.text_content()
    page.page.fill("#max-length", "")
    assert "seed" in error.text_content()  # the first problem in the form is named; fixing it shows the next
    page.page.fill("#seed", "3")
    assert "max length" in error.text_content()
    page.page.fill("#max-length", "5")
    assert error.is_hidden()
    page.page.click("#generate")
    page.page.wait_for_selector("body[data-generated='1']", timeout=TIMEOUT_MS)
    assert error.is_hidden()


@pytest.mark.browser
@pytest.mark.parametrize(
    ("mount", "asked", "used", "lacking", "message"),
    [
        ("onnxonly", "tfjs-cpu", "onnx-wasm", "tfjs", "this bundle has no TF.js model; export with --tfjs"),
        ("tfjsonly", "onnx-wasm", "tfjs-wasm", "onnx", "this bundle has no ONNX model; export with --onnx"),
    ],
)
def test_runtimes_the_bundle_lacks_are_off_with_the_reason(site, page, mount, asked, used, lacking, message):
    page.open(f"{site['url']}/?model=/{mount}/&runtime={asked}", used)
    assert page.page.text_content("#model-name") == "hostile"
    options = page.page.locator("#runtime option")
    for value, disabled, label in zip(
        options.evaluate_all("o => o.map(e => e.value)"),
        options.evaluate_all("o => o.map(e => e.disabled)"),
        options.all_text_contents(),
        strict=True,
    ):
        off = value.startswith(lacking)
        assert disabled == off, value
        assert (message in label) == off, label
    note = page.page.text_content("#runtime-note")
    assert "is off" in note and message in note
    texts = page.generate(n=1, temperature=1.0, max_gen_length=8, seed=2)
    assert len(texts) == 1 and page.errors == []


@pytest.mark.browser
def test_a_model_directory_is_explained_with_the_export_command(site, page):
    page.open(f"{site['url']}/?runtime=onnx-wasm", "onnx-wasm")
    page.page.set_input_files("#bundle-picker", str(site["model_dir"]))
    error = page.page.locator("#error")
    error.wait_for(state="visible", timeout=TIMEOUT_MS)
    text = error.text_content()
    assert "model directory" in text and "not an exported bundle" in text
    assert "textgen-export export my_model/ --out my_model_bundle/ --onnx --tfjs" in text


@pytest.mark.browser
def test_webgl_on_a_software_renderer_is_warned(site, page):
    page.open(f"{site['url']}/?runtime=onnx-wasm", "onnx-wasm")
    # The renderer as the browser reports it, read independently of the page's code.
    renderer = page.page.evaluate(
        """() => { const gl = document.createElement('canvas').getContext('webgl');
                   if (!gl) return null;
                   const info = gl.getExtension('WEBGL_debug_renderer_info');
                   return gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER); }"""
    )
    assert renderer is not None, "Chromium here offers WebGL (SwiftShader); the page's WebGL runtime needs it"
    software = any(s in renderer.lower() for s in ("swiftshader", "llvmpipe", "softpipe", "software"))
    assert software, (
        f"the tests launch Chromium with --disable-gpu, so WebGL is software here, yet: {renderer}"
    )
    label = page.page.locator("#runtime option[value='tfjs-webgl']").text_content()
    assert ("software renderer" in label) == software
    page.page.select_option("#runtime", "tfjs-webgl")
    page.page.wait_for_selector("body[data-runtime='tfjs-webgl']", timeout=TIMEOUT_MS)
    note = page.page.text_content("#runtime-note")
    assert ("software renderer" in note and renderer in note) == software
    page.page.select_option("#runtime", "onnx-wasm")
    assert page.page.locator("#runtime-note").is_hidden()


@pytest.mark.browser
def test_runtime_labels_fit_at_1280_px(site, page):
    page.open(f"{site['url']}/?runtime=onnx-wasm", "onnx-wasm")
    # Each label's width in the select's own font against the room the closed select gives it (its content box,
    # less the drop-down arrow).
    fits = page.page.locator("#runtime").evaluate(
        """select => {
            const style = getComputedStyle(select);
            const ctx = document.createElement('canvas').getContext('2d');
            ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
            const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 24;
            return [...select.options].map(o => [o.textContent, ctx.measureText(o.textContent).width, room]);
        }"""
    )
    for label, width, room in fits:
        assert width <= room, f"{label!r} needs {width:.0f}px, the select gives {room:.0f}px"


@pytest.mark.browser
def test_train_and_export_name_the_bundle_and_the_page_shows_it(page, tmp_path):
    from textgen_export.web.serve import make_server

    corpus = tmp_path / "tiny_poems.txt"
    corpus.write_text(
        "roses are red\nviolets are blue\nsugar is sweet\nand so are you\n" * 4, encoding="utf-8"
    )
    small = (
        "--new-model",
        "--rnn-size",
        "8",
        "--rnn-layers",
        "1",
        "--max-length",
        "6",
        "--dim-embeddings",
        "4",
    )
    fit = ("--epochs", "1", "--gen-epochs", "0", "--batch-size", "16", "--seed", "1")
    done = run_cli("train", corpus, *small, *fit, "--out", tmp_path / "model")
    assert done.returncode == 0, done.stderr
    done = run_cli("export", tmp_path / "model", "--out", tmp_path / "plain", "--onnx")
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "plain" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["name"] == "tiny_poems"  # defaults: the training file's name ...
    assert manifest["description"] == "new model trained on tiny_poems.txt"  # ... and what train recorded
    named = ("--name", "Pocket poet", "--description", "Four-line rhymes, one character at a time")
    done = run_cli("export", tmp_path / "model", "--out", tmp_path / "named", "--onnx", *named)
    assert done.returncode == 0, done.stderr
    bad = run_cli("export", tmp_path / "model", "--out", tmp_path / "bad", "--name", "two\nlines")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--name" in bad.stderr
    assert not (tmp_path / "bad").exists()

    server = make_server({"/bundle/": tmp_path / "named"}, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page.open(f"http://127.0.0.1:{server.server_address[1]}/?runtime=onnx-wasm", "onnx-wasm")
        assert page.page.text_content("#model-name") == "Pocket poet"
        assert page.page.text_content("#model-description") == "Four-line rhymes, one character at a time"
        assert page.page.locator("#model-description").is_visible()
    finally:
        server.shutdown()
        server.server_close()


# --- the Node CLI (no browser) ----------------------------------------------------------------------------------


def test_node_cli_help_and_argument_errors(site):
    done = node_cli("--help")
    assert (
        done.returncode == 0
        and done.stdout.startswith("usage: node src/cli.mjs BUNDLE")
        and done.stderr == ""
    )
    assert "--runtime" in done.stdout and "example:" in done.stdout
    for args, says in [
        (("--bogus",), "Unknown option '--bogus'"),
        ((site["/bundle/"], "--n", "x"), "--n must be an integer"),
        ((site["/bundle/"], "--seed", "1.5"), "--seed must be an integer"),
        ((site["/bundle/"], "--temperature", "hot"), "--temperature must be numbers"),
        ((site["/bundle/"], "--runtime", "gpu"), "--runtime must be one of"),
        ((), "give exactly one BUNDLE folder"),
        (
            (site["/onnxonly/"], "--runtime", "tfjs-cpu"),
            "has no TF.js model for --runtime tfjs-cpu; export with --tfjs",
        ),
        (
            (site["/tfjsonly/"], "--runtime", "onnx"),
            "has no ONNX model for --runtime onnx; export with --onnx",
        ),
    ]:
        done = node_cli(*args)
        assert done.returncode == 2 and done.stdout == "", args
        assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: ") and says in done.stderr, (
            done.stderr
        )


def test_node_cli_tfjs_prints_only_the_text(site, pretrained_textgen):
    job = {"n": 2, "temperature": 0.5, "max_gen_length": 30, "seed": 7}
    args = ("--runtime", "tfjs-cpu", "--seed", "7", "--max-length", "30", "--n", "2", "--json")
    done = node_cli(site["/bundle/"], *args, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no "install tfjs-node" banner
    assert [json.loads(line) for line in done.stdout.splitlines()] == pretrained_textgen.generate(**job)
