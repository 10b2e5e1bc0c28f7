"""The Node CLI as a user types it: the Python CLI's grammar (`-n 2`, `--seed -3`, `--temperature 1.0 0.5`), from
another folder with a relative bundle path, quiet when its reader goes away, no ONNX Runtime log lines, and one
line for a model whose weights are not finite."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from helpers import REPO, WEB_DEMO, copy_bundle, node_ready, resign, run_cli

pytestmark = [pytest.mark.node]
CLI = WEB_DEMO / "src" / "cli.mjs"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, tiny_bundle):
    """A user's folder holding `bundle/` (ONNX + TF.js)."""
    folder = tmp_path_factory.mktemp("user")
    copy_bundle(tiny_bundle, folder / "bundle")
    return folder


def node(workdir, *args, timeout=120):
    return subprocess.run(
        [node_ready(), str(CLI), *args], cwd=workdir, capture_output=True, text=True, timeout=timeout
    )


def changed_onnx(workdir, tmp_path, change) -> str:
    """A copy of the bundle whose ONNX graphs `change(model)` edited (model.onnx and its padding fast path
    model_tail.onnx, which holds the same weights), re-signed; returns its relative path."""
    import onnx

    copy = tmp_path / "changed"
    shutil.copytree(workdir / "bundle", copy)
    for name in ("model.onnx", "model_tail.onnx"):
        if (copy / name).is_file():
            model = onnx.load(copy / name)
            change(model)
            onnx.save(model, copy / name)
    resign(copy)
    return str(copy)


@pytest.mark.parametrize(
    "args, python_args",
    [
        (["-n", "2", "--seed", "-3", "--temperature", "1.0", "0.5", "0.2", "--max-length", "20"], None),
        (
            ["--n", "2", "--seed=-3", "--temperature=1.0,0.5,0.2", "--max-length", "20"],
            ["--n", "2", "--seed=-3", "--temperature", "1.0", "0.5", "0.2", "--max-length", "20"],
        ),
        (["--temperature", "0.7", "--seed", "5", "-n", "1", "--prefix", "The ", "--max-length", "15"], None),
    ],
)
def test_the_python_clis_forms_give_the_python_clis_text(workdir, args, python_args):
    python = run_cli("generate", "--bundle", "bundle/", *(python_args or args), cwd=workdir)
    assert python.returncode == 0, python.stderr
    for bundle_args in (["bundle/"], ["--bundle", "bundle/"]):
        done = node(workdir, *bundle_args, "--runtime", "onnx", *args)
        assert done.returncode == 0 and done.stderr == "", done.stderr
        assert done.stdout == python.stdout


@pytest.mark.parametrize(
    "args, says",
    [
        (["--temperature", "-1"], "--temperature must be between 0 and 100"),
        (["--max-length", "400000"], "--max-length must be an integer from 1 to 100000"),
        (["-n", "0"], "-n must be an integer of at least 1"),
        (["--seed"], "argument --seed: expected one value"),
    ],
)
def test_errors_name_the_flag_in_one_line(workdir, args, says):
    done = node(workdir, "bundle/", "--runtime", "onnx", *args)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and says in done.stderr, done.stderr


@pytest.mark.parametrize("runtime", ["onnx", "tfjs-cpu"])
def test_a_reader_that_goes_away_ends_the_run_quietly(workdir, runtime):
    """`node cli.mjs … | head -c 5`."""
    done = subprocess.run(
        f"{node_ready()} {CLI} bundle/ --runtime {runtime} -n 3 --max-length 2000 | head -c 5",
        shell=True,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert len(done.stdout) == 5 and done.stderr == "", done.stderr


def test_onnx_runtime_log_lines_are_not_shown(workdir, tmp_path):
    from onnx import numpy_helper

    def unused_initializer(model):  # ORT warns "Removing initializer ..." in colour when it loads this
        model.graph.initializer.append(numpy_helper.from_array(np.zeros(3, np.float32), "unused_weight"))

    changed = changed_onnx(workdir, tmp_path, unused_initializer)
    for runtime in ("onnx", "onnx-web"):
        done = node(workdir, changed, "--runtime", runtime, "--seed", "1", "--max-length", "5")
        assert done.returncode == 0 and done.stderr == "", done.stderr


def test_weights_that_are_not_finite_are_refused_in_both_languages(workdir, tmp_path):
    from onnx import numpy_helper

    def nan_weights(model):  # the first float weight of the graph
        first = next(t for t in model.graph.initializer if numpy_helper.to_array(t).dtype.kind == "f")
        array = numpy_helper.to_array(first).copy()
        array[...] = np.nan
        first.CopyFrom(numpy_helper.from_array(array, first.name))

    changed = changed_onnx(workdir, tmp_path, nan_weights)
    says = "probabilities are not finite numbers"
    done = node(workdir, changed, "--runtime", "onnx", "--seed", "1", "--max-length", "5")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and says in done.stderr, done.stderr
    done = run_cli("generate", "--bundle", changed, "--seed", "1", "--max-length", "5", cwd=workdir)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and says in done.stderr, done.stderr
    assert done.stdout == ""


def test_node_cli_runs_from_the_repository_root_with_the_readmes_path():
    done = subprocess.run(
        [node_ready(), "web_demo/src/cli.mjs", "--help"], cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 0 and "-n N, --n N" in done.stdout, done.stderr


def test_npm_reads_the_page_folder_without_warnings():
    """Set-up runs npm in web_demo/: no "Unknown project config" warning (onnxruntime-node's install option is
    an environment variable in the Makefile, not a .npmrc entry)."""
    done = subprocess.run(
        ["npm", "pkg", "get", "name"], cwd=WEB_DEMO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and "warn" not in done.stderr.lower(), done.stderr
