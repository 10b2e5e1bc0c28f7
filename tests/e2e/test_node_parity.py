"""TF.js (cpu, wasm) and ONNX Runtime (node, web) in real Node, with the page's own JS modules, against Keras.

For the pretrained model, a small random char model, a word-level and a bidirectional model: probabilities and attention on the
bundle's probe windows within 1e-4 of Keras, the same greedy text, and seeded text identical to Python's
`TextGen.generate(seed=...)` (one JS sampler, splitmix64).  Quantised TF.js bundles load and generate.
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers import export, probe, random_textgen, run_parity

pytestmark = [pytest.mark.node, pytest.mark.slow]

RUNTIMES = ("tfjs-cpu", "tfjs-wasm", "onnx", "onnx-web")
ATOL = 1e-4
JOBS = [
    {"n": 1, "temperature": 0.0, "prefix": None, "maxGenLength": 60, "seed": 1},
    {"n": 2, "temperature": [0.5, 1.0], "prefix": "The ", "maxGenLength": 60, "seed": 42, "stream": True},
    {"n": 1, "temperature": 0.8, "prefix": "a <b>", "maxGenLength": 40, "seed": 2**40 + 3},
]


def python_texts(textgen, job: dict) -> list[str]:
    return textgen.generate(
        n=job["n"],
        temperature=job["temperature"],
        prefix=job["prefix"],
        max_gen_length=job["maxGenLength"],
        seed=job["seed"],
    )


def word_textgen():
    return random_textgen(seed=3, word_level=True, max_length=8)


MODELS = {
    "pretrained": None,  # filled from the session fixture
    "char": lambda: random_textgen(seed=1),
    "word": word_textgen,
    "bidirectional": lambda: random_textgen(seed=2, rnn_bidirectional=True),
}


@pytest.fixture(scope="module", params=list(MODELS))
def case(request, tmp_path_factory):
    name = request.param
    if name == "pretrained":  # exported once per run (conftest)
        return (
            name,
            request.getfixturevalue("pretrained_textgen"),
            request.getfixturevalue("pretrained_bundle"),
        )
    textgen = MODELS[name]()
    bundle = export(textgen, tmp_path_factory.mktemp(name) / "bundle")
    return name, textgen, bundle


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_runtime_matches_keras(case, runtime, tmp_path):
    name, textgen, bundle = case
    reference = probe(bundle)
    out = run_parity(bundle, runtime, reference["windows"], JOBS, tmp_path)
    probs_diff = np.abs(np.array(out["probs"]) - np.array(reference["probs"])).max()
    attention_diff = np.abs(np.array(out["attention"]) - np.array(reference["attention"])).max()
    assert probs_diff <= ATOL, f"{runtime} probs differ from Keras by {probs_diff:.2e} ({name})"
    assert attention_diff <= ATOL, f"{runtime} attention differs from Keras by {attention_diff:.2e} ({name})"
    for job, texts in zip(JOBS, out["texts"], strict=True):
        assert texts == python_texts(textgen, job), f"{runtime} text differs from Python for {job} ({name})"
        assert all(texts), f"{runtime} generated empty text for {job}"
    # Streaming pieces join to exactly the generated texts.
    assert out["streamed"] == [out["texts"][1]]


@pytest.mark.parametrize("quantize", ["float16", "uint8"])
def test_quantised_tfjs_bundles_load_and_generate(quantize, tmp_path):
    textgen = random_textgen(seed=5)
    bundle = export(textgen, tmp_path / "bundle", onnx=False, quantize=quantize)
    weights = sorted((bundle / "tfjs").glob("*.bin"))
    float_bytes = sum(w.size for w in textgen.model.get_weights()) * 4
    assert sum(p.stat().st_size for p in weights) == float_bytes // (2 if quantize == "float16" else 4)
    reference = probe(bundle)
    job = {"n": 2, "temperature": 0.5, "prefix": None, "maxGenLength": 50, "seed": 9}
    for runtime in ("tfjs-cpu", "tfjs-wasm"):
        out = run_parity(bundle, runtime, reference["windows"], [job], tmp_path)
        diff = np.abs(np.array(out["probs"]) - np.array(reference["probs"])).max()
        assert diff < (0.01 if quantize == "float16" else 0.1), f"{quantize} {runtime}: diff {diff:.3g}"
        assert np.allclose(np.array(out["probs"]).sum(axis=1), 1.0, atol=1e-4)
        assert len(out["texts"][0]) == 2 and all(out["texts"][0])


TWIN_TEXTS = [
    "Hello, World! It's a \"test\" — isn't it… (yes) [no] {maybe} 50% $5 @home #tag\tTabs\nnew line",
    "ÀÉÎ Straße İstanbul ΣΊΣΥΦΟΣ ǅ 😀 emoji 👍🏽 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    '‘single’ “double” \'straight\' "a" "b" ... --- __init__ a.b.c x=1; y:2?',
    "  spaces   between\u00a0nbsp\u2003em-space  ",
    "<img src=x onerror=alert(1)>",
    "",
]


def test_js_twins_of_rng_and_tokens(tmp_path):
    """splitmix64 draws and char/word tokenising + detokenising are identical in Python and JS."""
    import json
    import random
    import subprocess

    from helpers import WEB_DEMO, node_ready
    from textgen_export.contract.tokens import Detokenizer, detokenize, tokenize
    from textgen_export.sampling.rng import SplitMix64

    rng = random.Random(0)
    alphabet = "aZ é.,!?'\"‘’“”()[]{}<>$%…—–-_\n\t 0😀ßİ"
    texts = TWIN_TEXTS + ["".join(rng.choice(alphabet) for _ in range(60)) for _ in range(40)]
    seeds = [0, 1, 42, 2**32, 2**63 - 1, 2**64 - 1, -1, -(2**40)]
    spec = tmp_path / "twins.json"
    spec.write_text(json.dumps({"seeds": [str(s) for s in seeds], "draws": 50, "texts": texts}))
    done = subprocess.run(
        [node_ready(), "test/twins.mjs", str(spec)], cwd=WEB_DEMO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    for seed, uniform, u64 in zip(seeds, out["uniform"], out["u64"], strict=True):
        a, b = SplitMix64(seed), SplitMix64(seed)
        assert uniform == [a.uniform() for _ in range(50)], seed
        assert [int(x) for x in u64] == [b.next_u64() for _ in range(50)], seed
    for text, chars, words, joined, streamed in zip(
        texts, out["char"], out["word"], out["joined"], out["streamed"], strict=True
    ):
        assert chars == tokenize(text, False), text
        assert words == tokenize(text, True), text
        assert joined == detokenize(words, True) == streamed, text
        joiner = Detokenizer(True)
        assert "".join(joiner.push(w) for w in words) == joined


def _resign(bundle):
    """Rewrite the manifest after a deliberate edit, so the edit itself (not the checksum) is what is caught."""
    import json

    from textgen_export.contract.bundle import write_manifest
    from textgen_export.contract.config import ModelConfig

    manifest = json.loads((bundle / "manifest.json").read_text())
    write_manifest(
        bundle, ModelConfig.load(bundle / "config.json"), manifest["num_classes"], manifest["parity"]
    )


def _break_weight_shape(bundle):
    import json

    path = bundle / "tfjs" / "model.json"
    model_json = json.loads(path.read_text())
    model_json["weightsManifest"][0]["weights"][0]["shape"][0] += 1
    path.write_text(json.dumps(model_json))
    _resign(bundle)


def _not_layers_model(bundle):
    path = bundle / "tfjs" / "model.json"
    path.write_text(path.read_text().replace('"layers-model"', '"graph-model"'))
    _resign(bundle)


def _bad_vocab(bundle):
    (bundle / "vocab.json").write_text('{"a": 1, "b": 1}')
    _resign(bundle)


BREAKAGES = {
    "truncated shard": (
        lambda b: _truncate(b / "tfjs" / "group1-shard1of1.bin"),
        "tfjs/group1-shard1of1.bin",
    ),
    "missing model.json": (lambda b: (b / "tfjs" / "model.json").unlink(), "tfjs/model.json"),
    "edited shard": (lambda b: _flip_byte(b / "tfjs" / "group1-shard1of1.bin"), "sha256"),
    "wrong weight shape": (_break_weight_shape, "tfjs/model.json: the shards hold"),
    "not a layers model": (_not_layers_model, "tfjs/model.json: not a TF.js layers-model"),
    "bad vocab": (_bad_vocab, "vocab.json"),
    "missing manifest": (lambda b: (b / "manifest.json").unlink(), "manifest.json"),
    "missing onnx (onnx runtime)": (lambda b: (b / "model.onnx").unlink(), "model.onnx"),
}


def _truncate(path):
    path.write_bytes(path.read_bytes()[:-5])


def _flip_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_bad_bundle_is_a_one_line_error_naming_the_file(breakage, tmp_path):
    import shutil
    import subprocess

    from helpers import WEB_DEMO, node_ready

    good = tmp_path / "good"
    export(random_textgen(seed=8), good)
    bad = tmp_path / "bad"
    shutil.copytree(good, bad)
    damage, named = BREAKAGES[breakage]
    damage(bad)
    runtime = "onnx" if "onnx" in breakage else "tfjs-cpu"
    done = subprocess.run(
        [node_ready(), "src/cli.mjs", str(bad), "--runtime", runtime, "--max-length", "5"],
        cwd=WEB_DEMO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout
    error = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(error) == 1 and named in error[0], done.stderr
