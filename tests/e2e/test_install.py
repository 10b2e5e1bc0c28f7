"""The product as someone who installs it (not clones it) reaches it.

A wheel is built from a clean clone of this repository (`git clone` of HEAD) and installed in a fresh venv with
`[runtime]` only (numpy + onnxruntime, no TensorFlow).  That install generates from a bundle exactly the text the
full install's Keras model generates for the same seed; a TensorFlow command answers one line, exit 2; `serve`
fetches the page's JS into an empty user cache and the page generates in Chromium; `site` writes a static site
that `python -m http.server` serves under a sub-path, and the page generates there too (a TF.js-only
bundle's site carries no ONNX Runtime and starts on TF.js by itself).

Offline and fast: the runtime's dependencies are the current venv's installed distributions, repacked as wheels
and installed with `pip --no-index`; the npm tarballs come from npm's own cache (left by `npm ci`) when present,
else from the registry (checked against the lockfile's sha512 either way).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib.metadata as metadata
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from helpers import REPO, resign

pytestmark = [pytest.mark.slow]
JOB = {"n": 2, "temperature": 0.5, "max_gen_length": 40, "seed": 7}
TIMEOUT_MS = 120_000


def run(cmd, timeout=600, **kw):
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kw)
    assert done.returncode == 0, f"{cmd} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


def runtime_closure(names=("numpy", "onnxruntime")) -> list[metadata.Distribution]:
    """The installed distributions `[runtime]` needs: these and everything they require (no extras)."""
    from packaging.requirements import Requirement

    seen, todo, found = set(), list(names), []
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        dist = metadata.distribution(name)
        found.append(dist)
        for spec in dist.requires or []:
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return found


def repack(dist: metadata.Distribution, out: Path) -> Path:
    """An installed distribution back into a wheel (its files per RECORD, a fresh RECORD), without a network."""
    site = Path(dist.locate_file(""))
    info = Path(dist._path)  # the .dist-info folder
    tags = [
        line.split(":", 1)[1].strip()
        for line in (info / "WHEEL").read_text().splitlines()
        if line.startswith("Tag:")
    ]
    name = re.sub(r"[-_.]+", "_", dist.metadata["Name"])
    parts = [
        list(dict.fromkeys(t.split("-")[i] for t in tags)) for i in range(3)
    ]  # py2-none-any + py3-… → py2.py3
    wheel = out / f"{name}-{dist.version}-{'-'.join('.'.join(p) for p in parts)}.whl"
    skip = {"INSTALLER", "REQUESTED", "direct_url.json", "RECORD"}
    rows = []
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_STORED) as archive:
        for entry in csv.reader((info / "RECORD").read_text().splitlines()):
            rel = entry[0]
            path = site / rel
            if rel.startswith("..") or "__pycache__" in rel or not path.is_file():
                continue
            if path.parent == info and path.name in skip:
                continue
            data = path.read_bytes()
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            archive.writestr(rel, data)
            rows.append(f"{rel},sha256={digest},{len(data)}")
        rows.append(f"{info.name}/RECORD,,")
        archive.writestr(f"{info.name}/RECORD", "\n".join(rows) + "\n")
    return wheel


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv holding the wheel built from a clean clone, installed with [runtime] only."""
    root = tmp_path_factory.mktemp("install")
    clone, wheels, venv = root / "clone", root / "wheels", root / "venv"
    run(["git", "clone", "--quiet", "--no-hardlinks", REPO, clone])
    wheels.mkdir()
    built = run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", wheels, clone])
    assert "Warning" not in built.stderr, built.stderr[-2000:]  # e.g. setuptools on the license's format
    (ours,) = wheels.glob("textgen_export-*.whl")
    with zipfile.ZipFile(ours) as archive:
        names = archive.namelist()
    assert "textgen_export/web/page_files/index.html" in names
    assert not any("node_modules" in n for n in names), "third-party JS must not be packaged"
    lab = [n for n in names if n.startswith(("benchmarks/", "textgen_export/bench/"))]
    assert lab == [], f"the benchmark lab must not ship in the wheel: {lab[:5]}"
    assert (
        "textgen_export/commands/bench.py" in names and "textgen_export/web/page_files/src/bench.mjs" in names
    )
    for dist in runtime_closure():
        repack(dist, wheels)
    run([sys.executable, "-m", "venv", venv])
    py = venv / "bin" / "python"
    run([py, "-m", "pip", "install", "--quiet", "--no-index", "--find-links", wheels, f"{ours}[runtime]"])
    listed = run([py, "-m", "pip", "list", "--format=json"]).stdout
    assert "tensorflow" not in {p["name"].lower() for p in json.loads(listed)}
    env = {**os.environ, "TEXTGEN_EXPORT_CACHE": str(root / "cache"), "PYTHONPATH": ""}
    where = "from textgen_export.web.page import web_demo_dir; print(web_demo_dir())"
    page = run([py, "-c", where], env=env, cwd=root).stdout.strip()
    assert page.startswith(str(venv)) and page.endswith("page_files"), (
        page
    )  # the wheel's copy, not the checkout
    return {"bin": venv / "bin", "env": env, "root": root}


def cli(installed, *args, timeout=300, check=True):
    done = subprocess.run(
        [str(installed["bin"] / "textgen-export"), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=installed["env"],
        cwd=installed["root"],  # not the repository: nothing may come from the checkout
    )
    if check:
        assert done.returncode == 0, done.stderr[-3000:]
    return done


def test_runtime_install_generates_the_full_installs_text(installed, pretrained_bundle, pretrained_textgen):
    done = cli(
        installed,
        "generate",
        "--bundle",
        pretrained_bundle,
        "-n",
        JOB["n"],
        "--seed",
        JOB["seed"],
        "--temperature",
        JOB["temperature"],
        "--max-length",
        JOB["max_gen_length"],
    )
    assert done.stdout.splitlines() == pretrained_textgen.generate(**JOB)
    assert "ok" in cli(installed, "validate", pretrained_bundle).stdout


def test_installed_bench_times_the_users_bundle_in_one_table(installed, pretrained_bundle):
    """`textgen-export bench BUNDLE` from the wheel: ONNX Runtime in Python timed at each batch size; the Node
    runtimes need npm packages beside the page, which an installed package does not have: one line says so."""
    done = cli(installed, "bench", pretrained_bundle, "--batches", 1, 4, "--seconds", 0.05)
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["runtime", "batch", "tokens/s", "ms/call"], done.stdout
    assert [line.split()[2] for line in lines[1:3]] == ["1", "4"] and lines[1].startswith(
        "python onnxruntime "
    )
    assert sum(line.startswith("node") and "not timed" in line for line in lines) == 1, done.stdout
    assert "one stream (B=1): python onnxruntime," in done.stdout and "most tokens/s: " in done.stdout


@pytest.mark.parametrize(
    "args", [["train", "corpus.txt", "--out", "m"], ["generate", "-n", "1"], ["export", "--out", "b"]]
)
def test_tensorflow_commands_answer_one_line(installed, args):
    done = cli(installed, *args, check=False)
    assert done.returncode == 2 and done.stdout == ""
    assert (
        done.stderr
        == f"textgen-export {args[0]}: error: needs TensorFlow: pip install 'textgen-export[full]'\n"
    )
    assert "[needs TensorFlow]" in cli(installed, "--help").stdout


@pytest.fixture(scope="module")
def browser():
    from test_browser import CHROMIUM, CHROMIUM_ARGS

    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (make test does)")
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def generate_in_page(browser, url: str, runtime: str | None) -> list[str]:
    """Open the page (choosing `runtime`, or None: the one it measures fastest) and generate JOB."""
    from test_browser import MEASURE_MS, Page

    page = Page(browser)
    try:
        if runtime:
            page.open(f"{url}?runtime={runtime}", runtime)
        else:
            page.open(url, None, timeout=MEASURE_MS)
            assert page.page.get_attribute("body", "data-runtime").startswith("tfjs-")
        texts = page.generate(**JOB)
        assert page.errors == []
        return texts
    finally:
        page.page.close()


def started(cmd, env, pattern: str) -> tuple[subprocess.Popen, str]:
    """A server process and the first match of `pattern` in its output (its address)."""
    proc = subprocess.Popen(
        [str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if found := re.search(pattern, line):
            return proc, found.group(1)
    proc.wait(timeout=30)
    raise AssertionError("server did not start:\n" + "".join(seen))


@pytest.mark.browser
def test_installed_serve_fetches_the_page_js_and_generates(
    installed, browser, pretrained_bundle, pretrained_textgen
):
    server, port = started(
        [installed["bin"] / "textgen-export", "serve", pretrained_bundle, "--port", "0"],
        installed["env"],
        r"http://127\.0\.0\.1:(\d+)/",
    )
    try:
        texts = generate_in_page(browser, f"http://127.0.0.1:{port}/", "tfjs-wasm")
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert texts == pretrained_textgen.generate(**JOB)
    cached = list((installed["root"] / "cache" / "web").glob("npm-*/node_modules"))
    assert len(cached) == 1 and (cached[0] / "onnxruntime-web/dist/ort.wasm.min.mjs").is_file()


@pytest.mark.browser
def test_static_site_generates_under_a_sub_path(installed, browser, pretrained_bundle, pretrained_textgen):
    from helpers import export

    www = installed["root"] / "www"
    done = cli(installed, "site", pretrained_bundle, "--out", www / "myproject", "--base", "/myproject/")
    summary = json.loads((www / "myproject" / "textgen-export-site.json").read_text())
    assert f"{summary['bytes'] / 1e6:.1f} MB" in done.stdout
    html = (www / "myproject" / "index.html").read_text()
    importmap = html.split('<script type="importmap">')[1].split("</script>")[0]
    assert "<title>textgenrnn · " in html and '"/' not in importmap  # relative URLs only
    # A TF.js-only bundle: its site carries no ONNX Runtime, and the page starts on a TF.js runtime by itself
    # (the fastest that passes its self-check here).
    tfjs_only = export(pretrained_textgen, installed["root"] / "tfjs_bundle", onnx=False)
    cli(installed, "site", tfjs_only, "--out", www / "tfjs")
    assert not (www / "tfjs" / "node_modules" / "onnxruntime-web").exists()
    server, port = started(
        [sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", www],
        {**os.environ, "PYTHONUNBUFFERED": "1"},
        r"port (\d+)",
    )
    try:
        onnx_texts = generate_in_page(browser, f"http://127.0.0.1:{port}/myproject/", "onnx-wasm")
        tfjs_texts = generate_in_page(browser, f"http://127.0.0.1:{port}/tfjs/", None)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert onnx_texts == tfjs_texts == pretrained_textgen.generate(**JOB)


def test_runtime_install_hints_name_only_what_it_has(installed, pretrained_bundle, tmp_path):
    """No `node web_demo/src/cli.mjs`, no web_demo/node_modules: a wheel user has neither."""
    import shutil

    tfjs_only = tmp_path / "tfjs_only"
    shutil.copytree(pretrained_bundle, tfjs_only)
    (tfjs_only / "model.onnx").unlink()
    resign(tfjs_only, drop=("model.onnx",))
    said = [
        cli(installed, "validate", pretrained_bundle).stdout,
        cli(installed, "generate", "--bundle", tfjs_only, check=False).stderr,
    ]
    assert "TF.js in Node: not checked here" in said[0] and "textgen-export serve" in said[1]
    for text in said:
        assert "web_demo" not in text and "make node-deps" not in text, text
    serve = cli(installed, "serve", "--port", "0", check=False)
    assert serve.returncode == 2 and serve.stderr.startswith(
        "textgen-export serve: error: serve without BUNDLE exports the pretrained model once, which needs TensorFlow"
    )
    line = next(x for x in cli(installed, "--help").stdout.splitlines() if x.startswith("  serve "))
    assert "[needs TensorFlow without BUNDLE" in line
