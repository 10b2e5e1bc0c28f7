"""`textgen-export bench BUNDLE`: the runtimes installed here timed on the user's bundle, one table.

Run as a user runs it: the CLI in a subprocess, from the bundle's parent folder with a relative path.  Speed is
not asserted (it lives in benchmarks/); what is: every runtime that can run here has a row per batch size,
tokens/s and ms/call agree, the advice names the best row, and what cannot run says why in one line.
"""

from __future__ import annotations

import re
import shutil

import pytest

from helpers import export, random_textgen, run_cli

pytestmark = [pytest.mark.slow]
ROW = re.compile(r"^(\S.*?)\s+(\d+)\s+([\d,]+)\s+(\d+\.\d\d)$")
BATCHES = (1, 4)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A folder holding `bundle/`: a small model exported to ONNX (fp32 and int8) and TF.js."""
    root = tmp_path_factory.mktemp("bench")
    export(random_textgen(), root / "bundle", quantize="int8")
    return root


def bench(folder, *args, env=None):
    return run_cli("bench", "bundle", "--seconds", "0.05", *args, cwd=folder, env=env, timeout=600)


def table(stdout: str) -> dict[tuple[str, int], float]:
    """(runtime, batch) → tokens/s, checked against the row's ms/call (printed to 0.01 ms)."""
    lines = stdout.splitlines()
    assert lines[0].split() == ["runtime", "batch", "tokens/s", "ms/call"], stdout
    rows = {}
    for line in lines[1:]:
        found = ROW.match(line)
        if not found:
            break
        name, batch, tokens, ms = found[1], int(found[2]), float(found[3].replace(",", "")), float(found[4])
        assert tokens > 0 and ms >= 0.01, line
        assert batch * 1000 / (ms + 0.005) - 1 <= tokens <= batch * 1000 / (ms - 0.005) + 1, line
        rows[name, batch] = tokens
    return rows


def check_advice(stdout: str, rows: dict) -> None:
    one = re.search(r"^one stream \(B=1\): (.+), [\d.]+ ms per token$", stdout, re.M)
    best = re.search(r"^most tokens/s: (.+) at B=(\d+) \(([\d,]+) tokens/s\)$", stdout, re.M)
    assert one and best, stdout
    assert rows[one[1], 1] == max(t for (_, b), t in rows.items() if b == 1)
    assert rows[best[1], int(best[2])] == max(rows.values())


def test_without_node_times_python_onnxruntime_and_says_why_node_is_missing(folder, tmp_path):
    import os

    env = {**os.environ, "PATH": str(tmp_path)}  # an empty folder: no node on PATH
    done = bench(folder, "--batches", *BATCHES, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = table(done.stdout)
    assert set(rows) == {
        (name, b) for name in ("python onnxruntime", "python onnxruntime int8") for b in BATCHES
    }
    assert "node: not timed (node is not installed)\n" in done.stdout
    check_advice(done.stdout, rows)
    assert done.stderr == ""


@pytest.mark.node
def test_with_node_times_onnx_and_tfjs_in_node_too(folder):
    assert shutil.which("node"), "node is not installed (the Node tests need Node 20+)"
    done = bench(folder)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = table(done.stdout)
    names = {name for name, _ in rows}
    assert {"python onnxruntime", "node onnx", "node tfjs-wasm", "node tfjs-cpu", "node onnx-web"} <= names
    assert {b for _, b in rows} == {1, 8, 64}  # the default batch sizes
    assert "not timed" not in done.stdout
    check_advice(done.stdout, rows)


def test_bad_arguments_and_a_damaged_bundle_are_one_line_errors(folder, tmp_path):
    for args, message in (
        (["--batches", "0"], "--batches must be from 1 to 4096, got 0"),
        (["--seconds", "0"], "--seconds must be more than 0"),
    ):
        done = bench(folder, *args)
        assert done.returncode == 2 and done.stdout == "" and done.stderr.count("\n") == 1, done.stderr
        assert message in done.stderr
    missing = run_cli("bench", "no-such-bundle", cwd=tmp_path)
    assert (
        missing.returncode == 2
        and missing.stderr.count("\n") == 1
        and "bundle directory not found" in missing.stderr
    )
    damaged = tmp_path / "bundle"
    shutil.copytree(folder / "bundle", damaged)
    with open(damaged / "model.onnx", "ab") as f:
        f.write(b"\0")
    done = run_cli("bench", "bundle", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "checksum" in done.stderr, done.stderr
