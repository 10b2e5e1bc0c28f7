"""The README's shell commands, run in the order the README gives them, as a new user runs them: in a bash shell, in
a folder that is not the checkout, with the README's relative paths, `textgen-export` on PATH.

Every line of every ```sh block runs.  A line whose literal form cannot run here, or not in bounded time, runs in
the form SUBSTITUTIONS gives for it, each with its reason: tiny epochs for training, one local worker for a
cluster, a free port and one request for a server, a dry run for installs and for the targets that run the whole
suite or every benchmark, and `make demo`'s run taken from the session's demo run (the same command, from a user's
folder: test_demo checks it).  A substitution whose README line is gone fails the test, so the table follows the
README.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import REPO

pytestmark = [pytest.mark.slow, pytest.mark.node]

README = REPO / "README.md"
TINY = "--steps-per-epoch 2"  # every training run: epochs of two batches
PY = shlex.quote(sys.executable)
# The lab's own argument parser, run on a README line's arguments (the suite itself is not run).
LAB_PARSE = (
    f"{PY} -c 'import argparse, sys; from benchmarks.__main__ import add_arguments, check_args; "
    "p = argparse.ArgumentParser(); add_arguments(p); check_args(p.parse_args(sys.argv[1:]))'"
)


def serve_once(command: str) -> str:
    """Start a server in the background, wait for the address it prints, fetch / once (must be 200), stop it."""
    url = r"http://127\.0\.0\.1:[0-9]+/"
    return (
        f"{command} > server.log 2>&1 & pid=$!; "
        f"for i in $(seq 300); do grep -qE '{url}' server.log && break; sleep 0.2; done; "
        f"if {PY} -c 'import sys, urllib.request; assert urllib.request.urlopen(sys.argv[1]).status == 200' "
        f"\"$(grep -oE '{url}' server.log | head -1)\"; then ok=1; else ok=0; cat server.log >&2; fi; "
        "kill $pid; wait $pid || true; rm server.log; test $ok = 1"
    )


def substitutions(port: int, demo_out: Path) -> dict[str, str]:
    """README line → the line run instead (see the module doc); `make` targets run what the Makefile runs.
    `demo_out`: the folder the session's `textgen-export demo --out demo_out --lines 40` run wrote."""
    wheel = "dist/textgen_export-0.1.0-py3-none-any.whl"
    dry = f"{PY} -m pip --disable-pip-version-check install --dry-run --no-deps --no-index"
    return {
        # The Makefile's demo recipe (`demo --out demo_out`) on a 40-line corpus, run once per session (the `demo`
        # fixture, checked by test_demo): its folder is copied here, where the README's next blocks use it.
        "make demo": f"cp -R {shlex.quote(str(demo_out))} demo_out",
        # The whole suite cannot run inside itself: check that the target's recipe is what the README says.
        "make test": f"make -n -C {REPO} test | grep 'pytest -q' > /dev/null",
        # A clean clone stands for "in a checkout" (a build must not write into the one under test).
        "pip wheel --no-deps -w dist/ .": f"git clone -q {REPO} clone && {PY} -m pip wheel -q --no-deps -w dist/ ./clone",
        f"pip install '{wheel}[runtime]'": f"{dry} '{wheel}[runtime]'",
        f"pip install '{wheel}[full]'": f"{dry} '{wheel}[full]'",
        "pip install 'textgen-export[runtime]'": f"{dry} --find-links dist/ 'textgen-export[runtime]'",
        # One choice, then stop: what a user types at the prompt.
        "textgen-export generate --interactive --top-n 5": "printf '1\\ns\\n' | textgen-export generate --interactive --top-n 5",
        "textgen-export train docstrings.txt --epochs 2 --train-size 0.9 --out my_model/": (
            f"textgen-export train docstrings.txt --epochs 2 --train-size 0.9 --out my_model/ {TINY}"
        ),
        "textgen-export train docstrings.txt --new-model --word-level --rnn-size 64 --epochs 10 --out words/": (
            f"textgen-export train docstrings.txt --new-model --word-level --rnn-size 64 --epochs 1 --out words/ {TINY}"
        ),
        # Three machines are one local worker here; corpus.txt is this machine's copy of the corpus.
        'export TF_CONFIG=\'{"cluster": {"worker": ["10.0.0.1:12345", "10.0.0.2:12345", "10.0.0.3:12345"]},': (
            f'export TF_CONFIG=\'{{"cluster": {{"worker": ["127.0.0.1:{port}"]}},'
        ),
        "textgen-export train corpus.txt --seed 7 --epochs 10 --batch-size 384 --out my_model/": (
            f"cp docstrings.txt corpus.txt && textgen-export train corpus.txt --seed 7 --epochs 1 --batch-size 384 "
            f"--out my_model/ {TINY}"
        ),
        "W=127.0.0.1:12345,127.0.0.1:12346": f"W=127.0.0.1:{port},127.0.0.1:{port + 1}",
        # Servers: a free port, one request, stopped.
        "textgen-export serve bundle/ --port 8000": serve_once("textgen-export serve bundle/ --port 0"),
        "python3 -m http.server 8000 -d site/": serve_once(
            f"{PY} -u -m http.server 0 --bind 127.0.0.1 -d site/"
        ),
        "pip install 'textgen-export[runtime,serve]'": f"{dry} --find-links dist/ 'textgen-export[runtime,serve]'",
        # The API server on a free port, in the background for the rest of its block (the curl line asks it).
        "textgen-export serve bundle/ --api --port 8000": (
            "textgen-export serve bundle/ --api --port 0 > api.log 2>&1 & api=$!; trap 'kill $api' EXIT; "
            "for i in $(seq 600); do grep -qE 'http://127[.]0[.]0[.]1:[0-9]+' api.log && break; sleep 0.2; done; "
            "API=$(grep -oE 'http://127[.]0[.]0[.]1:[0-9]+' api.log | head -1)"
        ),
        'curl -s http://127.0.0.1:8000/v1/completions -H "Content-Type: application/json" \\': (
            'curl -sf "$API/v1/completions" -H "Content-Type: application/json" \\'
        ),
        # The page's Node CLI lives in the checkout, not in the user's folder.
        "node web_demo/src/cli.mjs fa_bundle --context animal": (
            f"node {REPO}/web_demo/src/cli.mjs fa_bundle --context animal"
        ),
        # The Node trainer lives in the checkout; two small steps on the first 50 texts.
        "node web_demo/src/train.mjs demo_out/bundle/ docstrings.txt --steps 200 --batch-size 64 --train-size 0.9 --seed 7 --out tuned/": (
            f"head -50 docstrings.txt > few.txt && node {REPO}/web_demo/src/train.mjs demo_out/bundle/ few.txt "
            "--steps 2 --batch-size 16 --train-size 0.9 --seed 7 --out tuned/"
        ),
        # The user's bundle timed briefly, at one batch size.
        "textgen-export bench bundle/": "textgen-export bench bundle/ --batches 1 --seconds 0.2",
        # The benchmark suite takes hours: its targets and command lines are checked (every scenario name
        # parsed), not run.
        "make bench": f"make -n -C {REPO} bench | grep 'benchmarks --scenario all' > /dev/null",
        "python -m benchmarks": f"{LAB_PARSE}",
        "python -m benchmarks --scenario training-throughput training-memory web ort-options": (
            f"{LAB_PARSE} --scenario training-throughput training-memory web ort-options"
        ),
        "make bench-quick": f"make -n -C {REPO} bench-quick | grep 'benchmarks --quick' > /dev/null",
    }


def readme_blocks() -> list[list[str]]:
    """The README's ```sh blocks, each as its lines (comments after `#` dropped, blank lines skipped)."""
    blocks = re.findall(r"^```sh\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.M | re.S)
    out = []
    for block in blocks:
        lines = []
        for line in block.splitlines():
            code = re.sub(r"(^|\s+)#(?![^']*'\s*$).*$", "", line).rstrip()  # a trailing comment
            if code and not line.lstrip().startswith("#"):
                lines.append(code)
        out.append(lines)
    return out


def free_port_pair() -> int:
    for _ in range(100):
        with socket.socket() as a, socket.socket() as b:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
            try:
                b.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return port
    raise RuntimeError("no two adjacent free ports")


def tools(folder: Path) -> Path:
    """bin/ with `textgen-export` (this checkout's CLI under this interpreter) and `textgen-export-parse`."""
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    (bin_dir / "textgen-export").write_text(f'#!/bin/sh\nexec {PY} -m textgen_export "$@"\n')
    (bin_dir / "textgen-export-parse").write_text(
        f"#!/bin/sh\nexec {PY} -c 'import sys; from textgen_export.cli import build_parser; "
        'build_parser().parse_args(sys.argv[1:])\' "$@"\n'
    )
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    return bin_dir


def test_every_substitution_names_a_readme_line():
    lines = [line for block in readme_blocks() for line in block]
    stale = [line for line in substitutions(12345, Path("demo_out")) if line not in lines]
    assert stale == [], f"README lines no longer there (update SUBSTITUTIONS): {stale}"


def test_readme_commands_run_in_order_from_another_folder(tmp_path, pretrained_files, demo):
    demo_out, demo_run = demo  # `make demo`'s run (see substitutions)
    assert demo_run.returncode == 0 and "Traceback" not in demo_run.stderr, demo_run.stderr[-3000:]
    user = tmp_path / "user"  # the user's own folder: not the checkout
    user.mkdir()
    env = {
        **os.environ,
        "PATH": f"{tools(tmp_path)}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": os.pathsep.join(p for p in [str(REPO), os.environ.get("PYTHONPATH", "")] if p),
    }
    env.pop("TF_CONFIG", None)
    table = substitutions(free_port_pair(), demo_out)
    for number, block in enumerate(readme_blocks(), 1):
        script = "\n".join(table.get(line, line) for line in block)
        done = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", script],
            cwd=user,
            env=env,
            capture_output=True,
            text=True,
            timeout=1500,
        )
        assert done.returncode == 0, (
            f"README sh block {number} failed:\n{script}\n--- stdout\n{done.stdout[-3000:]}\n"
            f"--- stderr\n{done.stderr[-3000:]}"
        )
        assert "Traceback" not in done.stderr, done.stderr[-3000:]
    for made in (
        "demo_out/bundle/manifest.json",
        "my_model",
        "words",
        "two",
        "bundle/model.onnx",
        "site/index.html",
    ):
        assert (user / made).exists(), made


DOCS = [README, REPO / "weights" / "README.md", REPO / "web_demo" / "README.md"]
# Where a path in a doc may be rooted: the repository, the doc's folder, the package, the page.
ROOTS = [REPO, REPO / "textgen_export", REPO / "web_demo"]
BUNDLE_FILES = ("tfjs/", "parity/")  # the bundle's own layout, not the repository's


def test_every_file_the_docs_name_exists():
    """A doc that names a moved file (as weights/README once named the pretrained module) sends users nowhere."""
    missing = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for match in re.finditer(r"`([\w./-]+/[\w.-]+\.(?:py|mjs|js|md|json|html))`", text):
            path = match[1]
            if path.startswith(BUNDLE_FILES) or text[max(0, match.start() - 8) : match.start()].endswith(
                "former "
            ):
                continue  # the bundle's layout, or a file the doc says is gone
            if not any((root / path).is_file() for root in [doc.parent, *ROOTS]):
                missing.append(f"{doc.relative_to(REPO)}: {path}")
    assert missing == []
