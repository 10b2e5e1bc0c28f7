"""The page checks itself on the reader's device, in real Chromium: every runtime is run on the bundle's probe
windows and compared with the float64 reference under the bundle's tolerance (#self-check); the fastest runtime
that passes becomes the default; a runtime that fails (TF.js WebGL with float16 textures, as on many phones; TF.js
shards damaged and re-signed) is flagged and the page keeps writing Python's text with one that passes.  WebGPU
runs on SwiftShader here (test_browser.CHROMIUM_ARGS).  The Node CLI's --check is the same check.
Also: a second visit downloads nothing the browser already has.
"""

from __future__ import annotations

import json
import shutil
import struct
import threading
from pathlib import Path

import pytest
from test_browser import (  # noqa: F401  (browser: a fixture)
    CHROMIUM,
    CHROMIUM_ARGS,
    MEASURE_MS,
    TIMEOUT_MS,
    Page,
    browser,
)

from helpers import copy_bundle, node_cli, resign

JOB = {"n": 2, "temperature": 0.5, "max_gen_length": 30, "seed": 7}
CPU_SIDE = ("onnx-wasm", "tfjs-wasm", "tfjs-cpu")  # runtimes that open and check well within the limit here


def serve(mounts: dict[str, Path]):
    from textgen_export.web.serve import make_server

    server = make_server(mounts, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def damage_tfjs_shards(bundle: Path, out: Path) -> Path:
    """A copy whose TF.js weights are changed (a recurrent kernel scaled) and whose manifest is re-signed, so
    every file check passes and only a parity check can tell."""
    shutil.copytree(bundle, out)
    model = json.loads((out / "tfjs" / "model.json").read_text())
    offset = 0
    for spec in model["weightsManifest"][0]["weights"]:
        count = 1
        for d in spec["shape"]:
            count *= d
        if "recurrent_kernel" in spec["name"]:
            break
        offset += 4 * count
    shard = out / "tfjs" / model["weightsManifest"][0]["paths"][0]
    data = bytearray(shard.read_bytes())
    for i in range(offset, offset + 4 * min(count, 512), 4):
        (value,) = struct.unpack_from("<f", data, i)
        struct.pack_into("<f", data, i, value * 1.5)
    shard.write_bytes(bytes(data))
    resign(out)
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory, pretrained_bundle, tiny_bundle):
    root = tmp_path_factory.mktemp("selfcheck")
    tiny = copy_bundle(tiny_bundle, root / "tiny")
    mounts = {
        "/bundle/": pretrained_bundle,
        "/tiny/": tiny,
        "/damaged/": damage_tfjs_shards(pretrained_bundle, root / "damaged"),
    }
    server, url = serve(mounts)
    yield {"url": url, **mounts}
    server.shutdown()
    server.server_close()


def check_lines(page: Page) -> dict[str, dict]:
    """#self-check's line per runtime: its text and data-* figures."""
    items = page.page.locator("#self-check li[data-runtime]")
    return {
        d["runtime"]: d
        for d in items.evaluate_all("li => li.map(e => ({...e.dataset, text: e.textContent}))")
    }


@pytest.mark.browser
@pytest.mark.slow
def test_page_checks_and_times_every_runtime_and_defaults_to_the_fastest(site, browser, pretrained_textgen):  # noqa: F811
    # Its own browser: a WebGPU runtime that SwiftShader cannot answer in time leaves work queued in the GPU
    # process, which would hold up the next page's WebGL probe in a shared browser.
    own = browser.browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        page = Page(own)
        measured_default(site, page, pretrained_textgen)
    finally:
        own.close()


def measured_default(site, page: Page, pretrained_textgen) -> None:
    page.open(f"{site['url']}/", None, timeout=MEASURE_MS)
    lines = check_lines(page)
    assert set(lines) == {"onnx-wasm", "onnx-webgpu", "tfjs-wasm", "tfjs-webgl", "tfjs-webgpu", "tfjs-cpu"}
    probe = json.loads((site["/bundle/"] / "parity" / "probe.json").read_text())
    for name in CPU_SIDE:
        line = lines[name]
        assert line["passed"] == "true", line["text"]
        assert float(line["maxDiff"]) <= float(line["tolerance"]) == pytest.approx(probe["tolerance"])
        assert line["text"].startswith("✓ ") and "vs float64, tolerance 3.6e-6" in line["text"]
        assert float(line["coldMs"]) > 0 and float(line["charsPerSecond"]) > 0
        assert line["fastPath"] == "true"  # the padded probe windows were answered by the padding fast path
    # Software GPU runtimes here either pass or are named too slow; none fails its check.
    for name in set(lines) - set(CPU_SIDE):
        assert lines[name]["passed"] == "true" or "too slow" in lines[name]["text"], lines[name]["text"]
    timed = {
        n: float(d["charsPerSecond"])
        for n, d in lines.items()
        if d["passed"] == "true" and "charsPerSecond" in d
    }
    fastest = max(timed, key=timed.get)
    assert page.page.get_attribute("#self-check", "data-chosen") == fastest
    assert page.page.get_attribute("body", "data-runtime") == fastest
    assert page.page.input_value("#runtime") == fastest
    assert "Fastest that passes" in page.page.text_content("#self-check")
    # The reader can still choose, and every switch is checked again.
    other = next(n for n in CPU_SIDE if n != fastest)
    page.page.select_option("#runtime", other)
    page.page.wait_for_selector(f"body[data-runtime='{other}']", timeout=TIMEOUT_MS)
    assert check_lines(page)[other]["passed"] == "true"
    assert page.generate(**JOB) == pretrained_textgen.generate(**JOB)
    assert page.errors == []


@pytest.mark.browser
@pytest.mark.parametrize("runtime", ["onnx-webgpu", "tfjs-webgpu"])
def test_webgpu_runtimes_pass_their_check_and_write_pythons_text(site, page, runtime):
    from textgen_export.runtime import load_bundle

    page.open(f"{site['url']}/?model=/tiny/&runtime={runtime}", runtime)
    line = check_lines(page)[runtime]
    assert line["passed"] == "true" and float(line["maxDiff"]) <= float(line["tolerance"]), line["text"]
    job = {**JOB, "n": 1, "max_gen_length": 10}  # SwiftShader's WebGPU is slow: a short text
    assert page.generate(**job) == load_bundle(site["/tiny/"]).generate(**job)
    assert page.errors == []


@pytest.mark.browser
def test_without_webgpu_its_runtimes_are_off_with_the_reason(site, browser):  # noqa: F811
    # Chromium without the WebGPU flags: navigator.gpu is there, but it offers no adapter.
    plain = browser.browser_type.launch(
        executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
    )
    try:
        page = Page(plain)
        page.open(f"{site['url']}/?model=/tiny/&runtime=onnx-wasm", "onnx-wasm")
        for name in ("onnx-webgpu", "tfjs-webgpu"):
            option = page.page.locator(f"#runtime option[value='{name}']")
            assert option.is_disabled()
            assert "— off: " in option.text_content() and "WebGPU" in option.text_content()
        assert page.errors == []
    finally:
        plain.close()


@pytest.mark.browser
def test_webgl_with_float16_textures_is_flagged_and_the_page_falls_back(site, page, pretrained_textgen):
    # TF.js reads its flags from the URL: float16 textures, as TF.js picks on many mobile GPUs.
    url = f"{site['url']}/?runtime=tfjs-webgl&tfjsflags=WEBGL_FORCE_F16_TEXTURES:true"
    page.page.goto(url)
    page.page.wait_for_selector("li.switched", timeout=MEASURE_MS)
    page.page.wait_for_selector("body[data-runtime]", timeout=TIMEOUT_MS)
    used = page.page.get_attribute("body", "data-runtime")
    assert used != "tfjs-webgl"
    line = check_lines(page)["tfjs-webgl"]
    assert line["passed"] == "false" and float(line["maxDiff"]) > float(line["tolerance"])
    assert line["text"].startswith("✗ TF.js · WebGL differs by ")
    assert check_lines(page)[used]["passed"] == "true"
    switched = page.page.text_content("li.switched")
    assert "Not using TF.js · WebGL" in switched and "which passes" in switched
    assert "switched to" in page.page.text_content("#status")
    option = page.page.locator("#runtime option[value='tfjs-webgl']")
    assert option.is_disabled() and "failed its self-check" in option.text_content()
    assert page.generate(**JOB) == pretrained_textgen.generate(**JOB)


@pytest.mark.browser
def test_damaged_resigned_tfjs_shards_are_flagged_and_onnx_takes_over(site, page, pretrained_textgen):
    page.page.goto(f"{site['url']}/?model=/damaged/&runtime=tfjs-wasm")
    page.page.wait_for_selector("li.switched", timeout=MEASURE_MS)
    page.page.wait_for_selector("body[data-runtime]", timeout=TIMEOUT_MS)
    assert page.page.get_attribute("body", "data-runtime") == "onnx-wasm"  # the first runtime that passes
    lines = check_lines(page)
    assert lines["tfjs-wasm"]["passed"] == "false" and lines["onnx-wasm"]["passed"] == "true"
    # The same files are used by every TF.js backend: switching to another is checked, and refused too.
    page.page.select_option("#runtime", "tfjs-cpu")
    page.page.wait_for_selector("li[data-runtime='tfjs-cpu'][data-passed='false']", timeout=TIMEOUT_MS)
    page.page.wait_for_selector("body[data-runtime='onnx-wasm']", timeout=TIMEOUT_MS)
    assert page.generate(**JOB) == pretrained_textgen.generate(**JOB)


def test_node_cli_check_passes_an_intact_bundle_and_fails_damaged_shards(site):
    for runtime in ("tfjs-cpu", "onnx"):
        done = node_cli(site["/bundle/"], "--runtime", runtime, "--check", timeout=300)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("✓ ") and "vs float64, tolerance 3.6e-6" in done.stdout
        assert done.stdout.count("\n") == 1
    damaged = node_cli(site["/damaged/"], "--runtime", "tfjs-cpu", "--check", timeout=300)
    assert damaged.returncode == 1 and damaged.stdout.startswith("✗ TF.js cpu differs by "), damaged.stdout
    # Its ONNX model is intact: the check tells the two apart.
    assert node_cli(site["/damaged/"], "--runtime", "onnx", "--check", timeout=300).returncode == 0


@pytest.mark.browser
def test_a_second_visit_downloads_nothing_it_already_has(site, browser, tmp_path):  # noqa: F811
    from textgen_export.web.serve import make_server

    served: list[tuple[str, int]] = []
    server = make_server({"/bundle/": site["/tiny/"]}, port=0)

    class Counting(server.RequestHandlerClass):
        def log_request(self, code="-", size="-"):
            served.append((self.path.split("?")[0], int(code)))

    server.RequestHandlerClass = Counting
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # A browser profile on disk, as a reader's browser has (a private window's memory cache drops a 14 MB wasm).
    context = browser.browser_type.launch_persistent_context(
        tmp_path / "profile", executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
    )
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/?runtime=onnx-wasm"
        for visit in range(2):
            tab = context.new_page()
            tab.goto(url)
            tab.wait_for_selector("body[data-runtime='onnx-wasm']", timeout=TIMEOUT_MS)
            tab.close()
            if visit == 0:
                first = dict(served)
                served.clear()
        big = [p for p in first if p.endswith((".wasm", ".onnx", ".mjs"))]
        assert any(p.endswith("ort-wasm-simd-threaded.wasm") for p in big) and first[big[0]] == 200
        second = dict(served)
        downloaded = [p for p, code in second.items() if code == 200]
        assert downloaded == [], f"downloaded again: {downloaded}"
        assert all(second.get(p) in (304, None) for p in big)  # asked (no-cache) and told: not modified
    finally:
        context.close()
        server.shutdown()
        server.server_close()
