"""Shared by the Node parity and browser tests: exported bundles and running the web_demo's Node scripts."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

WEB_DEMO = Path(__file__).resolve().parent.parent / "web_demo"


def node_ready() -> str:
    """The node binary; fails (CI must not skip these tests) when node or the npm packages are missing."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed (the Node parity tests need Node 20+)")
    if not (WEB_DEMO / "node_modules" / "@tensorflow" / "tfjs").is_dir():
        pytest.fail("web_demo/node_modules is missing: run `make node-deps` (npm ci in web_demo/)")
    return node


def export(textgen, folder: Path, onnx: bool = True, tfjs: bool = True, quantize: str | None = None) -> Path:
    from textgen_export.export.export_bundle import export_bundle

    export_bundle(
        textgen.model,
        textgen.vocab,
        textgen.config,
        folder,
        onnx=onnx,
        tfjs=tfjs,
        quantize=quantize,
        log=lambda _: None,
    )
    return folder


def probe(bundle: Path) -> dict:
    return json.loads((bundle / "parity" / "probe.json").read_text(encoding="utf-8"))


def run_parity(bundle: Path, runtime: str, windows: list, jobs: list[dict], tmp: Path) -> dict:
    """Run web_demo/test/parity.mjs: one runtime, one bundle; returns its JSON output."""
    spec = tmp / f"spec-{runtime}.json"
    spec.write_text(json.dumps({"windows": windows, "jobs": jobs}), encoding="utf-8")
    done = subprocess.run(
        [node_ready(), "test/parity.mjs", str(bundle), runtime, str(spec)],
        cwd=WEB_DEMO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{runtime} on {bundle.name} failed:\n{done.stderr[-3000:]}"
    return json.loads(done.stdout)
