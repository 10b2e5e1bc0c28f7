"""What a user reads: --help lists each command once, errors name the flag typed (not a Python keyword), a
reader that goes away ends generate quietly, and the Python API refuses what it cannot honour in one clear line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from helpers import REPO, copy_bundle, export, random_textgen, run_cli


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, tiny_onnx_bundle):
    folder = tmp_path_factory.mktemp("user")
    copy_bundle(tiny_onnx_bundle, folder / "bundle")
    (folder / "corpus.txt").write_text("one line\nanother line\n", encoding="utf-8")
    return folder


def test_help_lists_each_command_once():
    from textgen_export.cli import COMMANDS

    done = run_cli("--help")
    assert done.returncode == 0 and done.stdout.startswith(
        "usage: textgen-export [-h] [--version] [--debug] COMMAND"
    )
    for name in COMMANDS:
        shown = name.replace("_", "-")
        assert done.stdout.count(f"\n  {shown} ") == 1, shown
    usage = run_cli("generate", "--help").stdout
    assert usage.startswith("usage: textgen-export generate ")


def test_serve_is_marked_as_needing_tensorflow_without_a_bundle():
    assert "serve" in run_cli("--help").stdout
    line = next(x for x in run_cli("--help").stdout.splitlines() if x.startswith("  serve "))
    assert "[needs TensorFlow without BUNDLE" in line


@pytest.mark.parametrize(
    "argv, says",
    [
        (["generate", "--bundle", "bundle/", "--max-length", "0"], "error: --max-length must be from 1 to"),
        (["generate", "--bundle", "bundle/", "-n", "0"], "error: -n (number of texts) must be"),
        (["generate", "--bundle", "bundle/", "--temperature", "-1"], "error: --temperature must be between"),
        (["generate", "--bundle", "bundle/", "--interactive", "--top-n", "0"], "error: --top-n must be"),
        (["train", "corpus.txt", "--out", "m/", "--epochs", "0"], "error: --epochs must be an integer ≥ 1"),
        (["train", "corpus.txt", "--out", "m/", "--dropout", "2"], "error: --dropout must be in [0, 1)"),
        (
            ["train", "corpus.txt", "--out", "m/", "--train-size", "2"],
            "error: --train-size must be in (0, 1]",
        ),
        (["train", "corpus.txt", "--out", "m/", "--patience", "2"], "set --train-size below 1"),
    ],
)
def test_errors_name_the_flag_not_the_python_keyword(workdir, argv, says):
    done = run_cli(*argv, cwd=workdir)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and says in done.stderr, done.stderr
    assert "_" not in done.stderr.split("error: ", 1)[1].split(",")[0]


@pytest.mark.parametrize("n", ["1", "4"])
def test_a_reader_that_goes_away_ends_generate_quietly(workdir, n):
    """`textgen-export generate … | head -c 5`: one streamed text, or several printed whole.  Seeded: the random
    model ends about one unseeded text in ten within 4 characters, which would leave `head` less than it reads."""
    done = subprocess.run(
        f"{sys.executable} -m textgen_export generate --bundle bundle/ -n {n} --max-length 3000 --seed 3 "
        "| head -c 5; "
        "exit ${PIPESTATUS[0]}",
        shell=True,
        executable="/bin/bash",
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0 and len(done.stdout) == 5 and done.stderr == "", done.stderr


def test_a_lone_surrogate_prefix_is_refused_by_the_python_api(workdir):
    from textgen_export.runtime import load_bundle

    runtime = load_bundle(workdir / "bundle")
    for prefix in ["ab\ud800c", "\udcff"]:
        with pytest.raises(ValueError, match="prefix is not valid UTF-8 text"):
            runtime.generate(prefix=prefix, seed=1, max_gen_length=5)
        with pytest.raises(ValueError, match="prefix is not valid UTF-8 text"):
            list(runtime.stream(prefix=prefix, seed=1, max_gen_length=5))


@pytest.mark.parametrize("threads", [0, -1, 10**6])
def test_a_bad_thread_count_is_the_callers_error_not_the_bundles(workdir, threads):
    from textgen_export.runtime import load_bundle

    with pytest.raises(ValueError) as caught:
        load_bundle(workdir / "bundle", threads=threads)
    assert str(caught.value).startswith("threads must be an integer from 1 to") and "re-export" not in str(
        caught.value
    )


def test_a_tfjs_only_bundle_names_the_node_cli_only_in_a_checkout(tmp_path):
    export(random_textgen(), tmp_path / "tfjs_only", onnx=False, tfjs=True)
    done = run_cli("generate", "--bundle", "tfjs_only/", cwd=tmp_path)
    assert done.returncode == 2 and "node web_demo/src/cli.mjs tfjs_only/" in done.stderr
    assert (REPO / "web_demo" / "src" / "cli.mjs").is_file()  # this is a checkout; tests/e2e/test_install.py
    # checks that an installed wheel's messages name neither web_demo/ nor its node_modules
