"""The examples for other apps run against a real bundle and print the original textgenrnn's greedy text."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from helpers import REPO

PYTHON_EXAMPLE = REPO / "examples" / "python_onnx.py"
NODE_EXAMPLE = REPO / "web_demo" / "examples" / "node_onnx.mjs"
PREFIXES = ["Why I", "Ask HN: How do", ""]


def expected(reference, prefix: str) -> str:
    return reference["greedy"]["texts"][prefix]  # generate(temperature=0, max_gen_length=120)


def test_python_example_is_short_and_needs_only_numpy_and_onnxruntime(pretrained_bundle):
    assert len(PYTHON_EXAMPLE.read_text().splitlines()) <= 40
    code = (
        "import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__'); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'textgen_export')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(PYTHON_EXAMPLE), str(pretrained_bundle), "Why I", "40"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"


@pytest.mark.parametrize("prefix", PREFIXES)
def test_python_example_prints_the_original_greedy_text(pretrained_bundle, reference, prefix):
    done = subprocess.run(
        [sys.executable, str(PYTHON_EXAMPLE), str(pretrained_bundle), prefix, "120"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected(reference, prefix) + "\n"


@pytest.mark.node
@pytest.mark.parametrize("prefix", PREFIXES)
def test_node_example_prints_the_original_greedy_text(pretrained_bundle, reference, prefix):
    node = shutil.which("node")
    if node is None or not (REPO / "web_demo" / "node_modules" / "onnxruntime-node").is_dir():
        pytest.skip("needs node and `npm ci` in web_demo/")
    done = subprocess.run(
        [node, str(NODE_EXAMPLE), str(pretrained_bundle), prefix, "120"],
        capture_output=True,
        text=True,
        cwd=REPO / "web_demo",
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected(reference, prefix) + "\n"


@pytest.mark.node
def test_node_example_refuses_a_damaged_bundle(pretrained_bundle, tmp_path):
    node = shutil.which("node")
    if node is None or not (REPO / "web_demo" / "node_modules" / "onnxruntime-node").is_dir():
        pytest.skip("needs node and `npm ci` in web_demo/")
    copy = tmp_path / "bundle"
    shutil.copytree(pretrained_bundle, copy)
    with open(copy / "model.onnx", "ab") as f:
        f.write(b"\0")
    done = subprocess.run(
        [node, str(NODE_EXAMPLE), str(copy)],
        capture_output=True,
        text=True,
        cwd=REPO / "web_demo",
        timeout=120,
    )
    assert done.returncode != 0
    assert "bundle file model.onnx does not match its checksum" in done.stderr
