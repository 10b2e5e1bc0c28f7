"""A bundle cannot make a runtime read outside it, and a runtime failure is one clear error, never an abort
(security and crashes).  Real bundles, real symlinks, FIFOs and ONNX Runtime."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from helpers import copy_bundle, resign, run_cli, run_python
from textgen_export.errors import UserError
from textgen_export.runtime import load_bundle

SECRET = '{"secret-token-from-outside": 1}'


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, tiny_bundle) -> Path:
    return copy_bundle(tiny_bundle, tmp_path_factory.mktemp("b") / "bundle")


@pytest.fixture
def copy(bundle, tmp_path) -> Path:
    shutil.copytree(bundle, tmp_path / "bundle")
    return tmp_path / "bundle"


def test_a_symlinked_vocab_does_not_leak_the_outside_file(copy, tmp_path):
    (tmp_path / "outside.json").write_text(SECRET)
    (copy / "vocab.json").unlink()
    os.symlink(tmp_path / "outside.json", copy / "vocab.json")
    resign(copy)
    with pytest.raises(UserError) as info:
        load_bundle(copy)
    assert "symlink 'vocab.json'" in str(info.value) and "secret" not in str(info.value)


def test_a_symlinked_tfjs_folder_fails_validation(copy):
    shutil.rmtree(copy / "tfjs")
    os.symlink("/etc", copy / "tfjs")
    done = run_cli("validate", copy)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "symlink 'tfjs'" in done.stderr, (
        done.stderr
    )


@pytest.mark.parametrize("name", ["../outside.bin", "/etc/hostname", "tfjs/../../outside.bin"])
def test_manifest_paths_cannot_leave_the_bundle(copy, tmp_path, name):
    (tmp_path / "outside.bin").write_bytes(b"x")
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["files"][name] = {"size": 1, "sha256": hashlib.sha256(b"x").hexdigest()}
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(UserError, match="unsafe path"):
        load_bundle(copy)


def test_files_the_runtime_reads_must_be_listed(copy):
    resign(copy, drop=("config.json",))
    with pytest.raises(UserError, match="does not list config.json"):
        load_bundle(copy)


def test_a_fifo_in_place_of_a_listed_file_does_not_hang(copy):
    (copy / "vocab.json").unlink()
    os.mkfifo(copy / "vocab.json")
    with pytest.raises(UserError, match="not a regular file"):
        load_bundle(copy)


def test_onnx_external_data_pointing_outside_is_refused(copy, tmp_path):
    import onnx

    model = onnx.load(copy / "model.onnx")
    onnx.save_model(
        model, copy / "model.onnx", save_as_external_data=True, location="ext.bin", size_threshold=0
    )
    shutil.move(copy / "ext.bin", tmp_path / "ext.bin")
    os.symlink(tmp_path / "ext.bin", copy / "ext.bin")  # inside by name, outside in fact
    resign(copy)
    with pytest.raises(UserError, match="symlink 'ext.bin'"):
        load_bundle(copy)


def test_onnx_external_data_inside_but_unlisted_is_refused(copy):
    import onnx

    model = onnx.load(copy / "model.onnx")
    onnx.save_model(
        model, copy / "model.onnx", save_as_external_data=True, location="ext.bin", size_threshold=0
    )
    resign(
        copy
    )  # model.onnx listed with its new checksum; ext.bin is a regular file the manifest does not list
    with pytest.raises(UserError, match="ONNX external data"):
        load_bundle(copy)


def test_our_own_models_use_no_external_data(bundle):
    from textgen_export.runtime.onnx_external import uses_external_data

    assert not uses_external_data((bundle / "model.onnx").read_bytes())


def test_zero_rows_and_runtime_failures_are_errors_not_aborts(bundle):
    done = run_python(
        f"""
        import numpy as np
        from textgen_export.runtime import load_bundle
        from textgen_export.errors import UserError
        rt = load_bundle({str(bundle)!r})
        empty = rt.probs(np.zeros((0, rt.config.max_length), np.int32))
        print(empty.shape, empty.dtype)
        try:
            rt.adapter.probs(np.full((1, rt.config.max_length), 10**6, np.int32))  # past the embedding
        except UserError as exc:
            print("UserError", str(exc).count(chr(10)), "ONNX Runtime failed" in str(exc))
        """
    )
    assert done.returncode == 0, done.stderr
    classes = json.loads((bundle / "manifest.json").read_text())["num_classes"]
    assert done.stdout.split("\n")[:2] == [f"(0, {classes}) float32", "UserError 0 True"]


def test_out_of_range_probe_windows_fail_validate_in_one_line(copy):
    probe = json.loads((copy / "parity" / "probe.json").read_text())
    probe["windows"][0][0] = 10**6
    (copy / "parity" / "probe.json").write_text(json.dumps(probe))
    resign(copy)
    done = run_cli("validate", copy)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert (
        "probe windows hold indices outside the vocabulary" in done.stderr
    )  # checked before any runtime runs


@pytest.mark.parametrize("threads", [10**6, 0, -1, True])
def test_absurd_thread_counts_are_refused(bundle, threads):
    with pytest.raises(UserError, match="threads must be an integer"):
        load_bundle(bundle, threads=threads)


def test_a_good_bundle_still_loads(bundle):
    rt = load_bundle(bundle, threads=1)
    assert rt.probs(np.zeros((2, rt.config.max_length), np.int32)).shape == (2, rt.vocab.num_classes)
