"""Fuzzing bundle loading: random byte mutations of a valid bundle end in a clean one-line error or a bundle
that still generates — never a crash, a hang or a traceback.  Half the cases re-sign the manifest so the
mutation gets past the checksums and reaches the JSON, vocabulary and ONNX parsers themselves."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import random_textgen
from textgen_export.contract.bundle import MANIFEST, file_entry
from textgen_export.errors import UserError
from textgen_export.runtime import load_bundle


@pytest.fixture(scope="module")
def valid_bundle(tmp_path_factory) -> Path:
    from textgen_export.export.writer import export_bundle

    tg = random_textgen(seed=1)
    folder = tmp_path_factory.mktemp("fuzz") / "bundle"
    export_bundle(tg.model, tg.vocab, tg.config, folder, onnx=True, log=lambda _: None)
    return folder


def _resign(folder: Path) -> None:
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    manifest["files"] = {
        name: file_entry(folder / name) for name in manifest["files"] if (folder / name).exists()
    }
    (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


@given(data=st.data(), resign=st.booleans())
@settings(max_examples=80, deadline=10_000, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_mutated_bundles_fail_cleanly_or_still_work(tmp_path, valid_bundle, data, resign):
    folder = tmp_path / "b"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(valid_bundle, folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    target = data.draw(st.sampled_from(files), label="file")
    blob = bytearray(target.read_bytes())
    for _ in range(data.draw(st.integers(1, 12), label="flips")):
        if blob:
            blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans(), label="truncate"):
        blob = blob[: data.draw(st.integers(0, len(blob)))]
    target.write_bytes(bytes(blob))
    if resign and target.name != MANIFEST:
        _resign(folder)
    try:
        runtime = load_bundle(folder)
        texts = runtime.generate(n=2, max_gen_length=8, seed=1, temperature=0.7)
    except UserError as exc:  # our one-line errors only: a bare numpy ValueError is a crash
        message = str(exc)
        assert message and "\n" not in message and "Traceback" not in message
    else:
        assert len(texts) == 2
