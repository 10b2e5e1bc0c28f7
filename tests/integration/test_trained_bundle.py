"""A model trained outside Python (the page's download: a .zip of TF.js files, vocab, config and a manifest marking
it as not validated) back in Python: `export` reads its TF.js weights into Keras by layer name and writes a full,
validated bundle; `generate --model` runs it; hostile zips get one line and exit status 2, and nothing is written.
"""

from __future__ import annotations

import json
import stat
import zipfile

import numpy as np
import pytest

from helpers import export, random_textgen, run_cli
from textgen_export.contract.bundle import TRAINED_FORMAT

pytestmark = [pytest.mark.slow]
JOB = {"n": 2, "temperature": 0.7, "max_gen_length": 30, "seed": 5}


def zip_folder(folder, out, prefix: str = ""):
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, prefix + path.relative_to(folder).as_posix())
    return out


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A model trained outside Python (the Node trainer's folder, the page's zip), from a random model's TF.js files."""
    root = tmp_path_factory.mktemp("trained")
    textgen = random_textgen(seed=3)
    folder = export(textgen, root / "tfjs_only", onnx=False, tfjs=True)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert "model.onnx" not in manifest["files"]
    # As the Node trainer and the page write it (docs/design.md §3): the same files, a manifest saying so.
    manifest = {
        "format": TRAINED_FORMAT,
        "format_version": 1,
        "trained_in": "node",
        "validated": False,
        "name": manifest["name"],
        "config": manifest["config"],
        "num_classes": manifest["num_classes"],
        "meta_token": manifest["meta_token"],
        "trained_from": {"name": "tiny", "tfjs_sha256": manifest["files"]["tfjs/model.json"]["sha256"]},
        "training": {"steps_done": 0, "loss_unit": "nats per token"},
        "files": {name: entry for name, entry in manifest["files"].items() if not name.startswith("parity/")},
    }
    for name in [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()]:
        if name.startswith("parity/"):
            (folder / name).unlink()
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return {"textgen": textgen, "root": root, "folder": folder, "zip": zip_folder(folder, root / "model.zip")}


def test_tfjs_weights_come_back_into_keras_exactly(trained):
    from textgen_export.export.from_tfjs import load_bundle_model

    for source in (trained["folder"], trained["zip"]):
        model, vocab, config = load_bundle_model(source)
        assert vocab.token_to_index == trained["textgen"].vocab.token_to_index
        assert config == trained["textgen"].config
        want = trained["textgen"].model
        for layer in ("embedding", "rnn_1", "rnn_2", "attention", "output"):
            for got, expected in zip(
                model.get_layer(layer).get_weights(), want.get_layer(layer).get_weights(), strict=True
            ):
                np.testing.assert_array_equal(got, expected)  # float32 in, float32 out: bit for bit


def test_export_turns_the_zip_into_a_validated_bundle_that_generates_the_same_text(trained):
    from textgen_export.runtime import load_bundle

    done = run_cli("export", "model.zip", "--onnx", "--tfjs", "--out", "full/", cwd=trained["root"])
    assert done.returncode == 0, done.stderr
    assert "TF.js shards as decoded" in done.stdout and "ONNX Runtime" in done.stdout
    full = trained["root"] / "full"
    manifest = json.loads((full / "manifest.json").read_text())
    assert {"model.onnx", "tfjs/model.json", "parity/probe.json"} <= set(manifest["files"])
    assert manifest["format"] == "textgen-export-bundle"  # validated now: a bundle like any other
    assert manifest["description"] == "fine-tuned in Node from tiny"
    assert load_bundle(full).generate(**JOB) == trained["textgen"].generate(**JOB)
    done = run_cli(
        "generate",
        "--model",
        "model.zip",
        "--seed",
        "5",
        "-n",
        "2",
        "--max-length",
        "30",
        "--temperature",
        "0.7",
        cwd=trained["root"],
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:2] == trained["textgen"].generate(**JOB)


def _hostile_zip(root, name, entries, link: str | None = None):
    path = root / name
    with zipfile.ZipFile(path, "w") as archive:
        for entry, data in entries.items():
            archive.writestr(entry, data)
        if link is not None:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    return path


@pytest.mark.parametrize(
    "case, says",
    [
        ("dotdot", "unsafe entry name"),
        ("absolute", "unsafe entry name"),
        ("symlink", "symlink"),
        ("foreign", "not a model downloaded from the page"),
        ("truncated", "not a zip file"),
        ("tampered", "does not match its checksum"),
    ],
)
def test_a_hostile_zip_gets_one_line_and_nothing_is_written(trained, case, says):
    root = trained["root"]
    good = {
        p.relative_to(trained["folder"]).as_posix(): p.read_bytes()
        for p in trained["folder"].rglob("*")
        if p.is_file()
    }
    if case == "dotdot":
        path = _hostile_zip(root, "dotdot.zip", {**good, "../x": b"escaped"})
    elif case == "absolute":
        path = _hostile_zip(root, "absolute.zip", {**good, "/tmp/x": b"escaped"})
    elif case == "symlink":
        path = _hostile_zip(root, "symlink.zip", good, link="tfjs/link.bin")
    elif case == "foreign":
        path = _hostile_zip(
            root, "foreign.zip", {"README.txt": b"holiday photos", "photo.jpg": b"\xff\xd8\xff"}
        )
    elif case == "truncated":
        path = root / "truncated.zip"
        path.write_bytes(trained["zip"].read_bytes()[:-40])
    else:
        shard = "tfjs/group1-shard1of1.bin"
        path = _hostile_zip(root, "tampered.zip", {**good, shard: bytes(len(good[shard]))})
    done = run_cli("export", path.name, "--out", f"out_{case}/", cwd=root)
    assert done.returncode == 2, done.stderr
    assert says in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not (root / f"out_{case}").exists() and not (root.parent / "x").exists()


@pytest.mark.node
def test_the_node_trainers_folder_exports_to_a_validated_bundle(trained):
    """`node web_demo/src/train.mjs BUNDLE CORPUS --out DIR` and then `textgen-export export DIR`: the Node half."""
    import subprocess

    from helpers import WEB_DEMO, node_ready

    root = trained["root"]
    source = export(trained["textgen"], root / "source", onnx=False, tfjs=True)
    (root / "corpus.txt").write_text("the quick brown fox jumps over the lazy dog.\n" * 40)
    done = subprocess.run(
        [node_ready(), WEB_DEMO / "src" / "train.mjs", source, "corpus.txt", "--steps", "3", "--batch-size", "16",
         "--train-size", "0.9", "--seed", "1", "--backend", "cpu", "--out", "node_out/"],
        capture_output=True, text=True, cwd=root, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    manifest = json.loads((root / "node_out" / "manifest.json").read_text())
    assert manifest["format"] == TRAINED_FORMAT and manifest["validated"] is False
    done = run_cli("export", "node_out/", "--onnx", "--tfjs", "--out", "node_bundle/", cwd=root)
    assert done.returncode == 0, done.stderr
    full = json.loads((root / "node_bundle" / "manifest.json").read_text())
    assert {"model.onnx", "tfjs/model.json", "parity/probe.json"} <= set(full["files"])
    assert full["description"].startswith("fine-tuned in Node from ")
