"""The Node CLI generates for a context label with the page's own modules, on every JS runtime, and writes the
same seeded text as Python; an unknown label is one line, exit 2."""

from __future__ import annotations

import json

import pytest

from helpers import context_textgen, export, node_cli

pytestmark = [pytest.mark.node, pytest.mark.slow]

RUNTIMES = ("tfjs-cpu", "tfjs-wasm", "onnx", "onnx-web")
OPTIONS = dict(n=3, temperature=0.7, max_gen_length=14, seed=11)
ARGS = ["-n", "3", "--temperature", "0.7", "--max-length", "14", "--seed", "11", "--json"]


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    textgen = context_textgen(seed=1)
    return textgen, export(textgen, tmp_path_factory.mktemp("context") / "bundle")


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_node_generates_pythons_text_for_labels(made, runtime):
    textgen, bundle = made
    for labels in (["plant"], ["animal", "fruit"], None):
        flags = ["--context", *labels] if labels else []
        done = node_cli(bundle, "--runtime", runtime, *ARGS, *flags)
        assert done.returncode == 0, done.stderr[-2000:]
        texts = [json.loads(line) for line in done.stdout.splitlines()]
        assert texts == textgen.generate(**OPTIONS, context=labels), (runtime, labels)


def test_node_refuses_an_unknown_label_in_one_line(made):
    _, bundle = made
    done = node_cli(bundle, "--context", "tree", "--seed", "1")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        "error: unknown context label 'tree'; this model knows: animal, fruit, plant"
    ]
