"""Export-time validation against the truth, Optimum-style: one probe set, a float64 reference, a printed max diff.

The reference is the float64 numpy forward pass (keras/oracle.py) on the source model's weights, never another
float32 runtime (float32 Keras itself is off by up to ~3e-5 on real models: docs/design.md §4).  Every runtime (ONNX Runtime, the TF.js shards as
decoded, real TF.js in Node) is compared with the reference on the probe windows, and passes when

    max |runtime − float64| ≤ tolerance = max(K_KERAS × (Keras float32's own max error), FLOOR)   (or --atol)

and greedy text on the probe prefixes is identical to the reference's (checked token by token along the
reference's greedy path: the runtime's argmax on each window must be the reference's, unless the two leading
tokens are closer than 2 × tolerance, a tie float32 cannot resolve).

`parity/probe.json` keeps everything a later check needs without TensorFlow: the probe windows, the float64
probabilities and attention, Keras's error, the tolerance and the greedy path.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..contract.bundle import ONNX, PROBE
from ..contract.config import ModelConfig, read_json
from ..contract.tokens import META_TOKEN
from ..contract.vocabulary import Vocabulary
from ..errors import UserError
from ..files.atomic import write_text
from ..sampling.generator import Generator
from ..sampling.sampler import pick

# The tolerance rule's constants and the measurements behind them: docs/design.md §7.
K_KERAS = 4.0
# The floor: 8 float32 ulps at 1.0, so tiny, near-exact models are not held to bit-identity.
FLOOR = 2.0**-20
# Our own sample text (not third-party): real-looking windows for the probe set and held-out bits per token.
SAMPLE_TEXT = (
    "The lighthouse keeper wrote every evening, even when nothing happened. Today the ferry was late, "
    "the gulls argued over a sandwich, and a letter arrived from my sister: she asks whether I still "
    "paint. I don't, but I told her I would start again on Sunday! What would you do with a quiet week?"
)
# Greedy text is compared after these prefixes (None: from the start token), for max_length + 20 tokens.
GREEDY_PREFIXES = (None, "The lighthouse keeper", "What would you")


class _Recorder:
    """A runtime adapter wrapper that keeps every window the generator asks about."""

    def __init__(self, adapter):
        self.adapter, self.seen = adapter, []

    def probs(self, windows: np.ndarray) -> np.ndarray:
        self.seen.append(np.array(windows))
        return self.adapter.probs(windows)


def sampled_windows(
    adapter, vocab: Vocabulary, config: ModelConfig, count: int = 12, seed: int = 0
) -> np.ndarray:
    """`count` windows picked at random from texts the model itself generates at temperature 1 (seeded).

    These are the inputs generation really meets.  Windows of uniformly random indices are not gated: on a
    trained model they drive the LSTMs into regions so sensitive that float32 Keras itself differs from the
    float64 reference by more than 1e-3 on some of them (the pretrained model).  The manifest still reports a
    runtime's difference on them (`uniform_random`, not gated).
    """
    recorder = _Recorder(adapter)
    Generator(recorder, vocab, config).generate(
        n=4, temperature=1.0, max_gen_length=config.max_length + 20, seed=seed
    )
    seen = np.concatenate(recorder.seen)
    rng = np.random.default_rng(seed)
    return seen[np.sort(rng.choice(len(seen), size=min(count, len(seen)), replace=False))]


def text_windows(vocab: Vocabulary, config: ModelConfig, count: int = 12) -> np.ndarray:
    """Windows over SAMPLE_TEXT ending at evenly spread positions: short left-padded ones, then full ones."""
    tokens = vocab.tokenize(SAMPLE_TEXT)
    if not config.single_text:
        tokens = [META_TOKEN, *tokens]
    ends = sorted({1, *np.linspace(1, len(tokens), num=count, dtype=int).tolist()})
    return vocab.windows([tokens[:end] for end in ends], config.max_length)


def uniform_windows(vocab: Vocabulary, config: ModelConfig, count: int = 8, seed: int = 0) -> np.ndarray:
    """Windows of uniformly random indices (padding included): reported, not gated (see sampled_windows)."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, vocab.num_classes, size=(count, config.max_length), dtype=np.int32)


def probe_windows(adapter, vocab: Vocabulary, config: ModelConfig, seed: int = 0) -> np.ndarray:
    """The gated probe set, int32 [B, max_length]: windows of sampled text + windows of real text."""
    sampled = sampled_windows(adapter, vocab, config, seed=seed)
    return np.concatenate([sampled, text_windows(vocab, config)]).astype(np.int32)


def greedy_path(reference_adapter, vocab: Vocabulary, config: ModelConfig) -> dict:
    """The reference's greedy texts after GREEDY_PREFIXES and every window met on the way, with the two leading
    tokens of each window and their probability margin (what `greedy_check` needs, without the model)."""
    texts, windows, steps = [], [], []
    for prefix in GREEDY_PREFIXES:
        recorder = _Recorder(reference_adapter)
        generator = Generator(recorder, vocab, config)
        texts += generator.generate(temperature=0.0, prefix=prefix, max_gen_length=config.max_length + 20)
        windows += recorder.seen
        steps.append(int(sum(len(w) for w in recorder.seen)))
    stacked = np.concatenate(windows).astype(np.int32)
    probs = np.asarray(reference_adapter.probs(stacked), dtype=np.float64)
    order = np.argsort(-probs, axis=1, kind="stable")[:, :2]  # first index on ties, as pick() at T = 0
    rows = np.arange(len(probs))
    return {
        "prefixes": list(GREEDY_PREFIXES),
        "steps": steps,
        "texts": texts,
        "windows": stacked,
        "best": order[:, 0],
        "runner_up": order[:, 1],
        "margin": probs[rows, order[:, 0]] - probs[rows, order[:, 1]],
    }


def make_reference(reference_adapter, vocab: Vocabulary, config: ModelConfig, windows: np.ndarray) -> dict:
    """The float64 reference on the probe windows plus its greedy path: what every runtime is checked against."""
    probs, attention = reference_adapter.outputs(windows)
    return {
        "windows": np.asarray(windows, dtype=np.int32),
        "probs": np.asarray(probs, dtype=np.float64),
        "attention": np.asarray(attention, dtype=np.float64),
        "greedy": greedy_path(reference_adapter, vocab, config),
    }


def keras_outputs(export_keras_model, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The Keras export model's float32 [probs, attention] on `windows`."""
    probs, attention = export_keras_model(windows, training=False)
    return np.asarray(probs, dtype=np.float32), np.asarray(attention, dtype=np.float32)


def tolerance(keras_error: float, atol: float | None = None) -> tuple[float, str]:
    """The bound a runtime's max error vs float64 must meet, and how it was derived (for the report)."""
    if atol is not None:
        if not (isinstance(atol, int | float) and 0 < atol < 1):
            raise UserError(f"--atol must be a number between 0 and 1 (e.g. 1e-5), got {atol!r}")
        return float(atol), "--atol"
    bound = max(K_KERAS * keras_error, FLOOR)
    rule = f"{K_KERAS:g} x Keras's {keras_error:.1e}" if bound > FLOOR else "float32 floor 2^-20"
    return bound, rule


def max_abs_diff(reference: np.ndarray, candidate: np.ndarray) -> float:
    return worst(reference, candidate)[0]


def worst(reference: np.ndarray, candidate: np.ndarray) -> tuple[float, int, int]:
    """(max abs difference, row, column where it is); NaN counts as the worst possible difference."""
    reference, candidate = np.asarray(reference, np.float64), np.asarray(candidate, np.float64)
    if reference.shape != candidate.shape:
        raise UserError(
            f"output shape {list(candidate.shape)} differs from the reference {list(reference.shape)}"
        )
    if not reference.size:
        return 0.0, 0, 0
    diff = np.abs(reference - candidate).reshape(len(reference), -1)
    diff = np.where(np.isnan(diff), np.inf, diff)
    row, column = np.unravel_index(int(np.argmax(diff)), diff.shape)
    return float(diff[row, column]), int(row), int(column)


def greedy_check(greedy: dict, probs: np.ndarray, bound: float) -> dict:
    """Does a runtime's greedy text equal the reference's?  Its pick on every window of the reference's greedy
    path must be the reference's (so it walks the same path), unless the reference's two leading tokens differ
    by at most 2 × bound: then both runtimes are within float32 error of a tie and either pick is faithful."""
    picks = pick(np.asarray(probs), 0.0, [])
    same = picks == greedy["best"]
    tie = ~same & (picks == greedy["runner_up"]) & (greedy["margin"] <= 2 * bound)
    result: dict = {"tokens": int(len(picks)), "identical": bool(same.all()), "ties": int(tie.sum())}
    wrong = np.flatnonzero(~(same | tie))
    if len(wrong):
        at = int(wrong[0])
        ends = np.cumsum(greedy["steps"])
        which = int(np.searchsorted(ends, at, side="right"))
        result["first_difference"] = {
            "prefix": greedy["prefixes"][which],
            "token": at - (int(ends[which - 1]) if which else 0),
            "picked": int(picks[at]),
            "expected": int(greedy["best"][at]),
            "margin": float(greedy["margin"][at]),
        }
    return result


def compare(
    reference: dict, outputs: tuple[np.ndarray, np.ndarray], greedy_probs: np.ndarray, bound: float, rule: str
) -> dict:
    """A runtime's outputs on the probe windows and the greedy path against the float64 reference."""
    probs, attention = outputs
    diff_probs, row, column = worst(reference["probs"], probs)
    diff_attention = max_abs_diff(reference["attention"], attention)
    greedy = greedy_check(reference["greedy"], greedy_probs, bound)
    return {
        "reference": "float64",
        "max_abs_diff": max(diff_probs, diff_attention),
        "max_abs_diff_probs": diff_probs,
        "max_abs_diff_attention": diff_attention,
        "worst": {"window": row, "index": column},
        "windows": int(len(reference["windows"])),
        "tolerance": bound,
        "tolerance_rule": rule,
        "greedy": greedy,
        "passed": bool(diff_probs <= bound and diff_attention <= bound and "first_difference" not in greedy),
    }


def _greedy_words(greedy: dict) -> str:
    if "first_difference" in greedy:
        return "greedy text DIFFERS"
    if greedy["identical"]:
        return "greedy text identical"
    return f"greedy text identical up to {greedy['ties']} float32 tie(s)"


def summary(what: str, result: dict, keras_error: float | None = None, note: str | None = None) -> str:
    """One report line: `-[✓] ONNX Runtime: probs max diff 1.2e-06 vs float64 (Keras: 9.1e-07), ...`.

    With `note` the line is informational (`-[i] ... (note)`), not a gate."""
    mark = "i" if note else ("✓" if result["passed"] else "x")
    keras = f" (Keras: {keras_error:.1e})" if keras_error is not None else ""
    tail = f" ({note})" if note else f", tolerance {result['tolerance']:.1e}"
    return (
        f"-[{mark}] {what}: probs max diff {result['max_abs_diff_probs']:.1e} vs float64{keras}, attention "
        f"{result['max_abs_diff_attention']:.1e}, {_greedy_words(result['greedy'])}{tail}"
    )


def check(result: dict, what: str, vocab: Vocabulary | None = None, fix: str | None = None) -> None:
    """Fail (UserError → exit 2) naming the window and output index that differ most, or the greedy token."""
    fix = fix or "the export is not faithful, no bundle was written (or give --atol for your own bound)"
    if result["passed"]:
        return

    def name(index: int) -> str:
        return f" {vocab.token(index)!r}" if vocab is not None else ""

    greedy = result["greedy"].get("first_difference")
    if result["max_abs_diff"] > result["tolerance"] or greedy is None or np.isnan(result["max_abs_diff"]):
        w = result["worst"]
        raise UserError(
            f"{what} differs from the float64 reference by {result['max_abs_diff']:.3g} (> tolerance "
            f"{result['tolerance']:.3g}, {result['tolerance_rule']}); the largest difference is at probe window "
            f"{w['window']}, output index {w['index']}{name(w['index'])}; {fix}"
        )
    raise UserError(
        f"{what} writes different greedy text: after prefix {greedy['prefix']!r}, token {greedy['token']} is "
        f"{greedy['picked']}{name(greedy['picked'])} where the float64 reference picks "
        f"{greedy['expected']}{name(greedy['expected'])} (margin {greedy['margin']:.2g}); {fix}"
    )


def _digits(array: np.ndarray, digits: int) -> list:
    return [[float(f"{v:.{digits}g}") for v in row] for row in np.asarray(array, np.float64).tolist()]


def probe_record(reference: dict, keras_error: float, bound: float, rule: str) -> dict:
    """A reference as probe JSON: what a later check needs without TensorFlow."""
    greedy = reference["greedy"]
    return {
        "about": "float64 reference outputs (textgen_export/keras/oracle.py) on fixed probe windows and the "
        "reference's greedy path: every runtime of this bundle must match them within `tolerance`",
        "reference": "float64",
        "windows": np.asarray(reference["windows"]).tolist(),
        # 12 significant digits: far below any float32 difference, at 2/3 the size of float64 repr.
        "probs": _digits(reference["probs"], 12),
        "attention": _digits(reference["attention"], 12),
        "keras_max_diff": keras_error,
        "tolerance": bound,
        "tolerance_rule": rule,
        "greedy": {
            "prefixes": greedy["prefixes"],
            "steps": greedy["steps"],
            "texts": greedy["texts"],
            "windows": np.asarray(greedy["windows"]).tolist(),
            "best": np.asarray(greedy["best"]).tolist(),
            "runner_up": np.asarray(greedy["runner_up"]).tolist(),
            "margin": [float(f"{m:.12g}") for m in greedy["margin"]],
        },
    }


def write_probe(folder: Path, reference: dict, keras_error: float, bound: float, rule: str) -> None:
    probe = probe_record(reference, keras_error, bound, rule)
    write_text(folder / PROBE, json.dumps(probe, separators=(",", ":"), ensure_ascii=False) + "\n")


def read_probe(path: Path, max_length: int, num_classes: int) -> dict:
    return parse_probe(read_json(path, "bundle parity probe"), path, max_length, num_classes)


def parse_probe(data, path: Path, max_length: int, num_classes: int) -> dict:
    """A probe record (see `probe_record`) as arrays, every shape checked against the bundle's."""
    try:
        probe = {
            "windows": np.asarray(data["windows"], dtype=np.int32),
            "probs": np.asarray(data["probs"], dtype=np.float64),
            "attention": np.asarray(data["attention"], dtype=np.float64),
            "keras_max_diff": float(data["keras_max_diff"]),
            "tolerance": float(data["tolerance"]),
            "tolerance_rule": str(data["tolerance_rule"]),
        }
        g = data["greedy"]
        probe["greedy"] = {
            "prefixes": list(g["prefixes"]),
            "steps": [int(s) for s in g["steps"]],
            "texts": list(g["texts"]),
            "windows": np.asarray(g["windows"], dtype=np.int32).reshape(-1, max_length),
            "best": np.asarray(g["best"], dtype=np.int64),
            "runner_up": np.asarray(g["runner_up"], dtype=np.int64),
            "margin": np.asarray(g["margin"], dtype=np.float64),
        }
    except (KeyError, TypeError, ValueError):
        raise UserError(f"{path} is malformed or from an older version; re-export the bundle") from None
    rows, steps = len(probe["windows"]), len(probe["greedy"]["windows"])
    expected = {"windows": (rows, max_length), "probs": (rows, num_classes), "attention": (rows, max_length)}
    for key, shape in expected.items():
        if probe[key].shape != shape:
            raise UserError(f"{path}: '{key}' has shape {list(probe[key].shape)}, expected {list(shape)}")
    g = probe["greedy"]
    if not (len(g["best"]) == len(g["runner_up"]) == len(g["margin"]) == steps == sum(g["steps"])):
        raise UserError(f"{path}: the greedy path's arrays disagree in length; re-export the bundle")
    if len(g["prefixes"]) != len(g["steps"]):
        raise UserError(f"{path}: the greedy path's prefixes and steps disagree; re-export the bundle")
    for key in ("windows",):
        if probe[key].size and (probe[key].min() < 0 or probe[key].max() >= num_classes):
            raise UserError(
                f"{path}: probe windows hold indices outside the vocabulary; re-export the bundle"
            )
    return probe


def by_padding(adapter_outputs):
    """`adapter_outputs` called once per group of windows with the same padding, so that every window of a mixed
    probe set reaches a fast path with exactly its own padding skipped (runtime/padding.py)."""
    from ..runtime.padding import leading_zeros

    def outputs(windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        padding = leading_zeros(windows)
        results = {int(p): adapter_outputs(windows[padding == p]) for p in np.unique(padding)}
        first = next(iter(results.values()))
        probs = np.empty((len(windows), first[0].shape[1]), first[0].dtype)
        attention = np.empty((len(windows), first[1].shape[1]), first[1].dtype)
        for p, (group_probs, group_attention) in results.items():
            probs[padding == p], attention[padding == p] = group_probs, group_attention
        return probs, attention

    return outputs


def run_checks(adapter_outputs, probe: dict, atol: float | None = None) -> dict:
    """Run `adapter_outputs(windows) -> (probs, attention)` on a stored probe and compare (TF-free)."""
    bound, rule = (probe["tolerance"], probe["tolerance_rule"]) if atol is None else tolerance(0.0, atol)
    outputs = adapter_outputs(probe["windows"])
    greedy_probs = adapter_outputs(probe["greedy"]["windows"])[0]
    return compare(probe, outputs, greedy_probs, bound, rule)


def validate_bundle(
    folder: str | Path, model_file: str = ONNX, atol: float | None = None, fast: bool = False
) -> dict:
    """Run a bundle's ONNX model (TF-free) on its stored probe and compare with the float64 figures.
    `fast`: through the padding fast path (model_tail.onnx), each window with its own padding skipped."""
    from ..runtime import load_bundle

    runtime = load_bundle(folder, model_file=model_file, fast=fast)
    probe = read_probe(runtime.bundle.path(PROBE), runtime.config.max_length, runtime.vocab.num_classes)
    result = run_checks(by_padding(runtime.adapter.outputs) if fast else runtime.adapter.outputs, probe, atol)
    result["keras_max_diff"] = probe["keras_max_diff"]
    return result


def validate_tfjs(folder: str | Path, atol: float | None = None) -> dict:
    """Decode a bundle's TF.js shards exactly as TF.js does and run the float64 forward pass on them (TF-free)."""
    from ..contract.bundle import TFJS_DIR, TFJS_MODEL, Bundle
    from ..keras.oracle import OracleAdapter
    from .tfjs import decode_model

    bundle = Bundle(folder)
    probe = read_probe(bundle.path(PROBE), bundle.config.max_length, bundle.vocab.num_classes)
    weights, quantization = decode_model(
        bundle.path(TFJS_MODEL).parent, bundle.config, read=lambda shard: bundle.read(f"{TFJS_DIR}/{shard}")
    )
    result = run_checks(OracleAdapter(weights, bundle.config).outputs, probe, atol)
    result["keras_max_diff"] = probe["keras_max_diff"]
    result["quantization"] = quantization
    return result
