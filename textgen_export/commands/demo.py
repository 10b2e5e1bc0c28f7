"""textgen-export demo: the main job end to end on an embedded default, each step a command a user could type.

pretrained model → example corpus → fine-tune → export (ONNX + TF.js) → validate → the same seeded text from
every runtime (Keras, ONNX Runtime in Python, TF.js and ONNX Runtime in Node) → the page, ready to serve.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

from ..cli import main
from ..errors import UserError
from ..web.page import checkout_page, web_demo_dir

NAME = "demo"
HELP = "run the whole pipeline on the pretrained model and an example corpus (what `make demo` does)"
EXAMPLE = "textgen-export demo --out demo_out"
NEEDS_TENSORFLOW = True

WEB_DEMO = web_demo_dir()
SEED, LENGTH, PREFIX = 7, 120, "Return the "
# Step 6's options, as typed at a shell (the Python and the Node CLI read them alike).
OPTIONS = ["--prefix", PREFIX, "--temperature", "0.5", "--max-length", str(LENGTH), "--seed", str(SEED)]


def add_arguments(parser):
    parser.add_argument(
        "--out", default="demo_out", metavar="DIR", help="where to write everything (default demo_out)"
    )
    parser.add_argument("--lines", type=int, default=2000, help="corpus lines to fine-tune on (default 2000)")
    parser.add_argument("--epochs", type=int, default=1, help="fine-tuning epochs (default 1)")
    parser.add_argument("--port", type=int, default=8000, help="port for the page (default 8000)")
    parser.add_argument("--serve", action="store_true", help="serve the page at the end (until Ctrl-C)")


def step(number: int, total: int, title: str, command: str | None = None) -> None:
    print(f"\n== [{number}/{total}] {title}", flush=True)
    if command:
        print(f"$ {command}", flush=True)


def cli(*argv: str) -> None:
    """Run one textgen-export command in this process; a failure stops the demo with its own message."""

    status = main(list(argv))
    if status:
        raise UserError(f"demo step `textgen-export {' '.join(argv)}` failed (exit {status})")


def node_generate(script: str, *args: str) -> str:
    node = shutil.which("node")
    if node is None:
        return "(skipped: node is not installed)"
    if checkout_page() is None:
        return "(skipped: the Node runtimes run from a checkout's web_demo/ with its npm packages)"
    if not (WEB_DEMO / "node_modules").is_dir():
        return "(skipped: run `make node-deps` to install the npm packages)"
    done = subprocess.run([node, script, *args], cwd=WEB_DEMO, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise UserError(f"Node step {script} failed: {last}")
    return done.stdout.rstrip("\n")


def run(args):
    out = Path(args.out).resolve()
    corpus, model, bundle = out / "docstrings.txt", out / "model", out / "bundle"
    total = 7
    step(
        1,
        total,
        "pretrained model (textgenrnn's weights, fetched from PyPI once and cached)",
        "textgen-export fetch-pretrained",
    )
    cli("fetch-pretrained")
    step(
        2,
        total,
        "example corpus: first lines of the Python standard library's docstrings",
        f"textgen-export dataset python-docstrings --out {corpus} --limit {args.lines}",
    )
    cli("dataset", "python-docstrings", "--out", str(corpus), "--limit", str(args.lines))
    step(
        3,
        total,
        "fine-tune the pretrained model (validation loss before and after)",
        f"textgen-export train {corpus} --epochs {args.epochs} --train-size 0.9 --out {model}",
    )
    cli("train", str(corpus), "--epochs", str(args.epochs), "--train-size", "0.9", "--out", str(model))
    step(
        4,
        total,
        "export: ONNX + TF.js, validated against a float64 reference",
        f"textgen-export export {model} --out {bundle} --onnx --tfjs",
    )
    cli("export", str(model), "--out", str(bundle), "--onnx", "--tfjs")
    step(5, total, "validate the bundle again, without TensorFlow", f"textgen-export validate {bundle}")
    cli("validate", str(bundle))
    step(
        6,
        total,
        f"the same seeded text (seed {SEED}) from every runtime",
        shlex.join(["textgen-export", "generate", "--bundle", str(bundle), *OPTIONS])
        + f"  (the same with --model {shlex.quote(str(model))}, or node web_demo/src/cli.mjs BUNDLE --runtime R)",
    )
    texts = runtime_texts(model, bundle)
    width = max(len(name) for name in texts)
    for name, text in texts.items():
        print(f"  {name:<{width}}  {text!r}")
    seeded = {t for name, t in texts.items() if not t.startswith("(skipped")}
    print("  identical in every runtime: " + ("yes" if len(seeded) == 1 else "NO"), flush=True)
    step(7, total, "the page", f"textgen-export serve {bundle} --port {args.port}")
    url = f"http://127.0.0.1:{args.port}/"
    how = "`make serve` or the command above" if checkout_page() else "the command above"
    print(f"Page ready: {url}  (run {how}, then open the URL)", flush=True)
    if args.serve:
        cli("serve", str(bundle), "--port", str(args.port))
    return 0 if len(seeded) == 1 else 1


def runtime_texts(model: Path, bundle: Path) -> dict[str, str]:
    from ..api.textgen import TextGen
    from ..runtime import load_bundle

    options = dict(n=1, temperature=0.5, prefix=PREFIX, max_gen_length=LENGTH, seed=SEED)
    texts = {
        "Keras (Python)": TextGen.load(model).generate(**options)[0],
        "ONNX Runtime (Python)": load_bundle(bundle).generate(**options)[0],
    }
    node_args = [str(bundle), *OPTIONS]
    for backend, label in (
        ("tfjs-cpu", "TF.js cpu (Node)"),
        ("tfjs-wasm", "TF.js wasm (Node)"),
        ("onnx", "ONNX Runtime (Node)"),
    ):
        texts[label] = node_generate("src/cli.mjs", "--runtime", backend, *node_args)
    return texts
