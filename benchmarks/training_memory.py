"""The training-memory scenario: peak resident memory of `textgen-export train` on one large single text.

The text is made at run time (nothing third-party is committed): the Python-docstrings corpus harvested from
this machine's standard library (our own words in --quick), lines shuffled (seeded) and appended until the
size is reached. Training runs as the real CLI in a child process (new char-level model, default
architecture, largetext mode, one epoch of `steps` batches); its peak RSS is sampled from here every 50 ms and
also read from getrusage(RUSAGE_CHILDREN) after it exits (the larger is reported). Target: ≤ 1.5 GB at 100 MB.
"""

from __future__ import annotations

import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from . import rows

LIMIT_MB = 1536


def make_text(path: Path, megabytes: float, lines: list[str], seed: int = 0) -> int:
    rng = random.Random(seed)
    target = int(megabytes * 1_000_000)
    written = 0
    with path.open("w", encoding="utf-8") as f:
        while written < target:
            rng.shuffle(lines)
            block = "\n".join(lines) + "\n"
            f.write(block)
            written += len(block.encode("utf-8"))
    return path.stat().st_size


def run(
    quick: bool, log: Callable[[str], None] = print, megabytes: float | None = None, steps: int | None = None
) -> dict:
    import psutil

    megabytes = megabytes or (2 if quick else 100)
    steps = steps or (5 if quick else 200)
    if quick:
        from .models import own_text

        lines = own_text(2000)
    else:
        from textgen_export.datasets.python_docstrings import harvest

        lines = harvest()
    with tempfile.TemporaryDirectory(prefix="textgen-bench-memory-") as tmp:
        text = Path(tmp) / "big.txt"
        size = make_text(text, megabytes, lines)
        out = Path(tmp) / "model"
        command = [
            sys.executable, "-m", "textgen_export", "train", str(text), "--largetext", "--new-model",
            "--epochs", "1", "--steps-per-epoch", str(steps), "--gen-epochs", "0", "--seed", "0",
            "--out", str(out),
        ]  # fmt: skip
        log(f"  training on {size / 1e6:.1f} MB, {steps} steps")
        started = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        process = psutil.Process(child.pid)
        sampled, timeline = 0, []
        while child.poll() is None:
            try:
                rss = process.memory_info().rss // 2**20
            except psutil.NoSuchProcess:
                break
            sampled = max(sampled, rss)
            timeline.append((round(time.perf_counter() - started, 1), rss))
            time.sleep(0.05)
        output = child.stdout.read()
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        # ru_maxrss of all children is a maximum: it names this child only if it is a new maximum
        peak = max(sampled, after / 1024 if after > before else 0)
        if child.returncode != 0:
            reason = (output.strip().splitlines() or ["failed"])[-1][:200]
            found = rows.missing(
                "char model", "textgen-export train", f"{size / 1e6:.0f} MB text", "MB", "failed", reason
            )
            return {"what": "peak RSS of training on a large single text", "rows": [found]}
        metadata = json.loads((out / "metadata.json").read_text())
    test = f"train {size / 1e6:.0f} MB text, {steps} steps"
    found = rows.row(
        "char model (default architecture)",
        "textgen-export train --largetext",
        test,
        "MB peak RSS",
        median=peak,
        reps=1,
        higher_is_better=False,
        limit_mb=LIMIT_MB,
        note=f"limit {LIMIT_MB} MB: {'pass' if peak <= LIMIT_MB else 'FAIL'}",
    )
    return {
        "what": "peak RSS of `textgen-export train --largetext --new-model` on a generated single text",
        "text_bytes": size,
        "corpus_tokens": metadata["corpus"]["tokens"],
        "training_sequences": metadata["corpus"]["training_sequences"],
        "steps": steps,
        "batch_size": metadata["batch_size"],
        "wall_seconds": wall,
        "limit_mb": LIMIT_MB,
        "passed": peak <= LIMIT_MB,
        "rss_timeline_s_mb": timeline[:: max(1, len(timeline) // 60)],
        "rows": [found],
    }
