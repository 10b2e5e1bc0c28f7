"""Every command takes relative paths from any working directory, and --out may be an existing empty folder
(checked before any work).  Run as a user does: the CLI in a subprocess, from a folder that is not the checkout."""

from __future__ import annotations

import pytest

from helpers import copy_bundle, run_cli

pytestmark = [pytest.mark.slow]


@pytest.fixture
def workdir(tmp_path, tiny_bundle):
    """A user's folder holding `bundle/` (ONNX + TF.js) and an empty `empty/`."""
    copy_bundle(tiny_bundle, tmp_path / "bundle")
    (tmp_path / "empty").mkdir()
    return tmp_path


@pytest.mark.node
def test_validate_takes_a_relative_bundle_from_another_folder(workdir):
    done = run_cli("validate", "bundle/", cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert "@tensorflow/tfjs in Node" in done.stdout and done.stdout.rstrip().endswith("ok")


@pytest.mark.node
def test_a_node_failure_while_validating_does_not_blame_an_export(tmp_path):
    import numpy as np

    from textgen_export.errors import UserError
    from textgen_export.export.node_check import run_parity

    with pytest.raises(UserError) as caught:
        run_parity(tmp_path / "no-bundle", np.zeros((1, 4), np.int32), then="re-export the bundle")
    assert "re-export the bundle" in str(caught.value) and "no bundle was written" not in str(caught.value)


def test_site_accepts_an_existing_empty_folder(workdir):
    done = run_cli("site", "bundle/", "--out", "empty/", cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert (workdir / "empty" / "index.html").is_file()


def test_export_accepts_an_existing_empty_folder(workdir, tiny_textgen):
    tiny_textgen.save(workdir / "model")
    done = run_cli("export", "model/", "--out", "empty/", cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert (workdir / "empty" / "manifest.json").is_file()


@pytest.mark.parametrize("command", ["export", "site"])
def test_out_is_checked_before_any_work(workdir, command):
    (workdir / "taken").mkdir()
    (workdir / "taken" / "notes.txt").write_text("mine", encoding="utf-8")
    argv = ["export", "--out", "taken/"] if command == "export" else ["site", "bundle/", "--out", "taken/"]
    done = run_cli(*argv, cwd=workdir)
    assert done.returncode == 2 and "--out" in done.stderr and "not a" in done.stderr
    assert "ONNX Runtime" not in done.stdout + done.stderr  # refused before the model was loaded or validated
    assert (workdir / "taken" / "notes.txt").read_text(encoding="utf-8") == "mine"
