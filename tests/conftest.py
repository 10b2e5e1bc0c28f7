"""Fixtures (the pretrained model and its bundle, exported once per run; a tiny random model).  Plain helpers
live in tests/helpers.py.

Tests are organised like the code: unit/ (no model), integration/ (a model, one process or the CLI),
e2e/ (Node, Chromium, the demo: the product as a user reaches it).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import DATA, export, random_textgen


@pytest.fixture(scope="session")
def reference() -> dict:
    """Outputs of the original textgenrnn with its pretrained weights (tests/data/textgenrnn_reference.json)."""
    return json.loads((DATA / "textgenrnn_reference.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def pretrained_files() -> dict:
    from textgen_export.keras import pretrained

    return pretrained.paths()


@pytest.fixture(scope="session")
def pretrained_textgen():
    from textgen_export.api.textgen import TextGen

    return TextGen.pretrained()


@pytest.fixture(scope="session")
def pretrained_bundle(tmp_path_factory, pretrained_textgen) -> Path:
    """The pretrained model exported once per run (ONNX + TF.js); tests that damage a bundle copy it first."""
    return export(pretrained_textgen, tmp_path_factory.mktemp("pretrained") / "bundle")


@pytest.fixture
def tiny_textgen():
    return random_textgen()


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory) -> Path:
    """`random_textgen()` exported once per run (ONNX + TF.js).  Read-only: a test that changes a bundle, or adds
    files beside it, works on `copy_bundle(tiny_bundle, ...)`."""
    return export(random_textgen(), tmp_path_factory.mktemp("tiny") / "bundle")


@pytest.fixture(scope="session")
def tiny_onnx_bundle(tmp_path_factory) -> Path:
    """`random_textgen()` exported once per run, ONNX only (no tfjs/).  Read-only, as `tiny_bundle`."""
    return export(random_textgen(), tmp_path_factory.mktemp("tiny_onnx") / "bundle", tfjs=False)


MARKERS = ("slow", "browser", "node", "gpu")  # pyproject.toml's markers


def pytest_collection_modifyitems(items):
    """Each test's markers as a property in a JUnit report (`pytest --junitxml`), skipped tests included, so
    test counts per marker come from the test run (benchmarks/reliability.py)."""
    for item in items:
        item.user_properties.append(("markers", ",".join(m for m in MARKERS if item.get_closest_marker(m))))
