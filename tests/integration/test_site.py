"""`textgen-export site` and the page's npm fetcher, without a browser (tests/e2e/test_install.py opens them).

The site holds the page, the bundle and only the runtime JS its formats need; it replaces only an earlier site;
a damaged bundle writes nothing.  The fetcher refuses a registry whose integrity differs from the lockfile's and a
tarball that does not match it, ignores a damaged npm cache entry, and offline ends in one line.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from helpers import copy_bundle, run_cli
from textgen_export.errors import UserError
from textgen_export.web import npm


@pytest.fixture(scope="module")
def onnx_bundle(tmp_path_factory, tiny_onnx_bundle):
    return copy_bundle(tiny_onnx_bundle, tmp_path_factory.mktemp("b") / "bundle")


def test_site_has_the_page_the_bundle_and_only_the_runtime_it_needs(onnx_bundle, tmp_path):
    out = tmp_path / "site"
    done = run_cli("site", onnx_bundle, "--out", out, "--title", "<b>mine</b>", "--description", "Hi & bye")
    assert done.returncode == 0, done.stderr
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {"index.html", "style.css", "src/app.js", "bundle/manifest.json", "bundle/model.onnx"} <= files
    packages = {f.split("/dist/")[0] for f in files if f.startswith("node_modules/")}
    assert packages == {"node_modules/onnxruntime-web"}  # no TF.js for an ONNX-only bundle
    assert "src/cli.mjs" not in files
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "<title>&lt;b&gt;mine&lt;/b&gt; · " in html and "Hi &amp; bye" in html
    assert '<h1 id="page-title">&lt;b&gt;mine&lt;/b&gt;</h1>' in html  # the heading too, not "textgen-export"
    assert html.count("Hi &amp; bye") == 1  # once (the model line shows it), not also as the tagline
    # Only the runtimes it carries.
    assert re.findall(r'<option value="([\w-]+)"', html) == ["onnx-wasm", "onnx-webgpu"]
    summary = json.loads((out / "textgen-export-site.json").read_text())
    assert summary["bytes"] == sum((out / f).stat().st_size for f in files if f != "textgen-export-site.json")
    # An earlier site is ours to replace.
    assert run_cli("site", onnx_bundle, "--out", out).returncode == 0


def test_site_refuses_a_folder_that_is_not_a_site_and_a_damaged_bundle(onnx_bundle, tmp_path):
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("keep me")
    done = run_cli("site", onnx_bundle, "--out", theirs)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "not a static site" in done.stderr
    assert [p.name for p in theirs.iterdir()] == ["notes.txt"]
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    for f in onnx_bundle.rglob("*"):
        if f.is_file():
            (damaged / f.relative_to(onnx_bundle)).parent.mkdir(parents=True, exist_ok=True)
            (damaged / f.relative_to(onnx_bundle)).write_bytes(f.read_bytes())
    (damaged / "model.onnx").write_bytes(b"\0" * 10)
    done = run_cli("site", damaged, "--out", tmp_path / "new")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "model.onnx" in done.stderr
    assert not (tmp_path / "new").exists()
    done = run_cli("site", onnx_bundle, "--out", tmp_path / "x", "--base", "myproject")
    assert done.returncode == 2 and "--base" in done.stderr


class Registry:
    """A registry on 127.0.0.1 that answers metadata and tarballs as told (the error paths of the fetcher)."""

    def __init__(self, tarball: bytes, integrity_of=lambda name, pin: pin["integrity"]):
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path.endswith(".tgz"):
                    body = tarball
                else:
                    name = self.path.strip("/").rsplit("/", 1)[0].replace("%2F", "/")
                    pin = registry.pins[name]
                    url = f"{registry.url}{name}.tgz"
                    body = json.dumps(
                        {"dist": {"integrity": integrity_of(name, pin), "tarball": url}}
                    ).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.pins = npm.pinned_packages()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def empty_caches(tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTGEN_EXPORT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "npm"))
    return tmp_path


def test_fetch_refuses_a_tarball_that_does_not_match_the_lockfile(empty_caches, monkeypatch):
    registry = Registry(b"not the package")
    monkeypatch.setenv("npm_config_registry", registry.url)
    # A damaged entry in npm's own cache is not trusted either: the fetcher falls through to the registry.
    first = next(iter(registry.pins.values()))
    hexd = npm.integrity_digest(first["integrity"]).hex()
    entry = empty_caches / "npm" / "_cacache" / "content-v2" / "sha512" / hexd[:2] / hexd[2:4] / hexd[4:]
    entry.parent.mkdir(parents=True)
    entry.write_bytes(b"damaged")
    try:
        with pytest.raises(UserError, match="does not match its sha512"):
            npm.fetch_packages(log=lambda _: None)
    finally:
        registry.close()
    assert not list((empty_caches / "cache").rglob("*.js"))


def test_fetch_refuses_a_registry_that_disagrees_with_the_lockfile(empty_caches, monkeypatch):
    other = "sha512-" + base64.b64encode(hashlib.sha512(b"x").digest()).decode()
    registry = Registry(b"", integrity_of=lambda name, pin: other)
    monkeypatch.setenv("npm_config_registry", registry.url)
    try:
        with pytest.raises(UserError, match="differs from the page's lockfile"):
            npm.fetch_packages(log=lambda _: None)
    finally:
        registry.close()


def test_fetch_offline_is_one_line(empty_caches, monkeypatch):
    monkeypatch.setenv("npm_config_registry", "http://127.0.0.1:9/")  # nothing listens on the discard port
    with pytest.raises(UserError) as info:
        npm.fetch_packages(log=lambda _: None)
    message = str(info.value)
    assert "\n" not in message and "textgen-export fetch-web" in message and "onnxruntime-web" in message


def test_a_tfjs_site_carries_the_train_panel_and_its_worker(tiny_bundle, tmp_path):
    done = run_cli("site", tiny_bundle, "--out", tmp_path / "site")
    assert done.returncode == 0, done.stderr
    files = {
        p.relative_to(tmp_path / "site").as_posix() for p in (tmp_path / "site").rglob("*") if p.is_file()
    }
    worker = {
        "src/page/train_panel.js",
        "src/page/train_worker.js",
        "src/files/zip.js",
        "src/training/trained_bundle.js",
        "src/training/fine_tune.js",
        "node_modules/@tensorflow/tfjs/dist/tf.min.js",  # the worker's importScripts (no import map in a worker)
        "node_modules/@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js",
    }
    assert worker <= files, worker - files
    # the Node trainer's modules (node:fs) are not the page's
    assert not {"src/train.mjs", "src/cli_common.js", "src/training/out_dir.js"} & files
