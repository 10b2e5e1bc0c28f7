"""The TF.js export loaded in real `@tensorflow/tfjs` (Node, cpu backend) and compared with the float64 reference.

Runs only where Node and the page's npm packages are installed (web_demo/node_modules); elsewhere the export says
it did not run.  The reference is the float64 forward pass on the weights as TF.js decodes them, so a quantised
export is checked for what TF.js computes from its own (quantised) weights.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..contract.bundle import TFJS_DIR
from ..contract.config import ModelConfig
from ..contract.vocabulary import Vocabulary
from ..errors import UserError
from .validate import check, compare, make_reference, summary

RUNTIME = "tfjs-cpu"
TIMEOUT_S = 600


def node_parity_script() -> tuple[str, Path] | None:
    """(node binary, web_demo/test/parity.mjs) when both and @tensorflow/tfjs are installed, else None."""
    from ..web.page import web_demo_dir

    node, web = shutil.which("node"), web_demo_dir()
    script = web / "test" / "parity.mjs"
    if node is None or not script.is_file() or not (web / "node_modules" / "@tensorflow" / "tfjs").is_dir():
        return None
    return node, script


def run_parity(
    bundle: Path,
    windows: np.ndarray,
    runtime: str = RUNTIME,
    then: str = "no bundle was written",
    context: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(probs, attention) of `runtime` in Node on `windows` of the bundle in `bundle`; with `context` (label
    vectors, one per window) those of the bundle's context head; a failure says `then`.

    Node runs in web_demo/, so the bundle's path goes to it absolute (a relative one would name another folder)."""
    found = node_parity_script()
    if found is None:
        from ..web.page import node_setup

        raise UserError(f"TF.js in Node needs {node_setup()}")
    node, script = found
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "spec.json"
        job = {"windows": np.asarray(windows).tolist(), "jobs": []}
        if context is not None:
            job["context"] = np.asarray(context, dtype=np.float64).tolist()
        spec.write_text(json.dumps(job), encoding="utf-8")
        try:
            done = subprocess.run(
                [node, str(script), str(Path(bundle).resolve()), runtime, str(spec)],
                cwd=script.parent.parent,
                capture_output=True,
                text=True,
                timeout=TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            raise UserError(f"TF.js in Node did not answer within {TIMEOUT_S} s; {then}") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1][:200]
        raise UserError(f"@tensorflow/tfjs in Node cannot run the TF.js model ({last}); {then}")
    out = json.loads(done.stdout)
    return np.asarray(out["probs"], dtype=np.float64), np.asarray(out["attention"], dtype=np.float64)


def check_in_node(
    folder: Path,
    vocab: Vocabulary,
    config: ModelConfig,
    context: dict,
    log: Callable[[str], None],
    fix: str | None = None,
) -> dict | None:
    """Load `folder` (a complete bundle with manifest) in real TF.js and gate it like every runtime.

    `context`: {"reference": the float64 reference (validate.make_reference / read_probe), "keras_error",
    "bound", "rule"}."""
    if node_parity_script() is None:
        from ..web.page import node_setup

        log(f"-[ ] TF.js in Node: not checked here (needs {node_setup()})")
        return None
    from ..keras.oracle import OracleAdapter
    from .tfjs import decode_model

    decoded, quantization = decode_model(folder / TFJS_DIR, config)
    reference = context["reference"]
    if quantization is not None:  # what TF.js should compute from its quantised weights
        reference = make_reference(OracleAdapter(decoded, config), vocab, config, reference["windows"])
    windows, greedy = reference["windows"], reference["greedy"]["windows"]
    then = "no bundle was written" if fix is None else fix
    probs, attention = run_parity(folder, np.concatenate([windows, greedy]), then=then)
    n = len(windows)
    result = compare(reference, (probs[:n], attention[:n]), probs[n:], context["bound"], context["rule"])
    what = f"@tensorflow/tfjs in Node ({RUNTIME})"
    if quantization:
        what += f", {quantization} weights vs float64 on the decoded weights"
    log(summary(what, result, None if quantization else context["keras_error"]))
    check(result, what, vocab, fix)
    return result


class _NodeHead:
    """The head in real TF.js in Node, for one label vector, as an adapter (probs / outputs)."""

    def __init__(self, folder: Path, vector: np.ndarray):
        self.folder, self.vector = folder, vector

    def outputs(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        context = np.repeat(self.vector[None, :], len(windows), axis=0)
        return run_parity(self.folder, windows, context=context)

    def probs(self, windows: np.ndarray) -> np.ndarray:
        return self.outputs(windows)[0]


def check_head_in_node(
    folder: Path, vocab: Vocabulary, config: ModelConfig, head: dict, log: Callable[[str], None], fix=None
) -> dict | None:
    """The context head of `folder` loaded in real TF.js (tfjs/context.json), gated for every label like the
    text path (quantised weights: reported)."""
    from .context import gate_head, report_head
    from .tfjs import CONTEXT_JSON, decode_weights

    if node_parity_script() is None:
        return None
    what = f"@tensorflow/tfjs in Node ({RUNTIME})"
    if decode_weights(folder / TFJS_DIR, CONTEXT_JSON)[1] is not None:
        return report_head(what, head, lambda v: _NodeHead(folder, v), log, "quantised: reported, not gated")
    return gate_head(what, head, lambda v: _NodeHead(folder, v), vocab, log, fix)
