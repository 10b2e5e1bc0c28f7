"""TF.js (cpu, wasm) and ONNX Runtime (node, web) in real Node, with the page's own JS modules, against Keras.

For the pretrained model, a small random char model, a word-level and a bidirectional model: probabilities and attention on the
bundle's probe windows within 1e-4 of Keras, the same greedy text, and seeded text identical to Python's
`TextGen.generate(seed=...)` (one JS sampler, splitmix64).  Quantised TF.js bundles load and generate.
"""

from __future__ import annotations

import numpy as np
import pytest
from web_helpers import export, probe, run_parity

from conftest import random_textgen

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
    textgen = request.getfixturevalue("pretrained_textgen") if name == "pretrained" else MODELS[name]()
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

    from web_helpers import WEB_DEMO, node_ready

    from textgen_export.rng import SplitMix64
    from textgen_export.tokens import Detokenizer, detokenize, tokenize

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
