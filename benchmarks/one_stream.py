"""Where one stream's time goes, full path against padding fast path: both ONNX graphs alone and generation on
both paths, side by side in one process (ONNX Runtime, Python, one thread).

The windows are those of one seeded generation (pretrained model, empty prefix, up to 32 tokens, temperature 0.5,
seed 2026: the fast path section's gen32 B=1 test).  Each round times, in turn: `model.onnx` alone on every
window, `model_tail.onnx` alone on every window's unpadded tail, generation on the full path, generation on the
fast path, and the generation loop alone (an adapter that replays the probabilities the model gave, so the same
text).  Figures: medians over rounds, per call / per token; ratios: medians of the rounds' ratios, with their
10th–90th percentile.

    python -m benchmarks.one_stream [--bundle DIR] [--rounds N] [--out DIR]

Writes OUT/results.json and OUT/results.md (default benchmarks/results/one-stream/).  Without --bundle the
pretrained model is exported to a temporary folder first (needs TensorFlow).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from textgen_export.contract.bundle import INPUT, ONNX, ONNX_TAIL, PROBS, TAIL
from textgen_export.runtime.onnx import OnnxRuntime, open_session
from textgen_export.runtime.padding import tail_length
from textgen_export.sampling.generator import Generator

from .fast_path import SEED, TEMPERATURE, TESTS
from .machine import cpu_model
from .page_self_check import export_pretrained

HERE = Path(__file__).resolve().parent
OPTIONS = {"n": 1, "temperature": TEMPERATURE, "max_gen_length": TESTS["gen32"], "seed": SEED}


class Replay:
    """An adapter that gives back recorded probabilities in order: the generation loop without a model."""

    def __init__(self, recorded: list[np.ndarray]):
        self.recorded, self.calls = recorded, 0

    def probs(self, windows: np.ndarray) -> np.ndarray:
        out = self.recorded[self.calls % len(self.recorded)]
        self.calls += 1
        return out


class Recording:
    def __init__(self, adapter):
        self.adapter, self.windows, self.probs_seen = adapter, [], []

    def probs(self, windows: np.ndarray) -> np.ndarray:
        out = self.adapter.probs(windows)
        self.windows.append(windows.copy())
        self.probs_seen.append(out.copy())
        return out


def measure(bundle: Path, rounds: int) -> dict:
    from textgen_export.runtime import load_bundle

    runtime = load_bundle(bundle)
    full = OnnxRuntime(bundle / ONNX, threads=1)
    fast = OnnxRuntime(bundle / ONNX, threads=1, tail=bundle / ONNX_TAIL)
    generators = {p: Generator(a, runtime.vocab, runtime.config) for p, a in (("full", full), ("fast", fast))}
    recording = Recording(full)
    text = Generator(recording, runtime.vocab, runtime.config).generate(**OPTIONS)
    assert generators["full"].generate(**OPTIONS) == generators["fast"].generate(**OPTIONS) == text
    windows = recording.windows
    # a window without padding (a model with a short max_length) runs whole through the tail graph too (k = L)
    tails = [np.ascontiguousarray(w[:, -(tail_length(w) or w.shape[1]) :]) for w in windows]
    replay = Replay(recording.probs_seen)
    replayed = Generator(replay, runtime.vocab, runtime.config)

    def graph(session, name, inputs):
        def run():
            for x in inputs:
                session.run([PROBS], {name: x})

        return run

    jobs = {
        "model.onnx alone": graph(open_session(bundle / ONNX, threads=1), INPUT, windows),
        "model_tail.onnx alone": graph(open_session(bundle / ONNX_TAIL, threads=1), TAIL, tails),
        "generation, full path": lambda: generators["full"].generate(**OPTIONS),
        "generation, fast path": lambda: generators["fast"].generate(**OPTIONS),
        "generation loop alone (replayed probabilities)": lambda: replayed.generate(**OPTIONS),
    }
    times: dict[str, list[float]] = {name: [] for name in jobs}
    for job in jobs.values():  # warm-up
        job()
    for _ in range(rounds):
        for name, job in jobs.items():
            start = time.perf_counter()
            job()
            times[name].append(time.perf_counter() - start)
    calls = len(windows)
    per_call_us = {name: float(np.median(t)) / calls * 1e6 for name, t in times.items()}

    def ratio(a: str, b: str) -> dict:
        r = np.asarray(times[a]) / np.asarray(times[b])
        return {
            "median": float(np.median(r)),
            "p10": float(np.percentile(r, 10)),
            "p90": float(np.percentile(r, 90)),
        }

    return {
        "text": text,
        "calls": calls,
        "mean_tail_positions": float(np.mean([t.shape[1] for t in tails])),
        "rounds": rounds,
        "per_call_us": per_call_us,
        "graphs_full_over_fast": ratio("model.onnx alone", "model_tail.onnx alone"),
        "generation_full_over_fast": ratio("generation, full path", "generation, fast path"),
        "added_by_generation_us": {
            "full": per_call_us["generation, full path"] - per_call_us["model.onnx alone"],
            "fast": per_call_us["generation, fast path"] - per_call_us["model_tail.onnx alone"],
        },
    }


def report(result: dict) -> str:
    us = result["per_call_us"]
    graphs, generation = result["graphs_full_over_fast"], result["generation_full_over_fast"]
    added = result["added_by_generation_us"]
    lines = [
        "# Where one stream's time goes: full path against padding fast path",
        "",
        f"`{result['command']}` — {result['when']}; {result['machine']}; 1-minute load average "
        f"{result['load_average_1min']['before']:.1f} before, {result['load_average_1min']['after']:.1f} after.",
        f"ONNX Runtime (Python), one thread; the {result['calls']} windows of one seeded generation (pretrained "
        f"model, empty prefix, up to 32 tokens, temperature 0.5, seed {SEED}; tails of {result['mean_tail_positions']:.1f} "
        f"positions on average); {result['rounds']} rounds, each timing every line below in turn; medians.",
        "",
        "| what | µs per call (per token) |",
        "|---|---:|",
        *(f"| {name} | {value:,.0f} |" for name, value in us.items()),
        "",
        f"- The graphs alone, full / fast: **{graphs['median']:.2f}×** (p10–p90 {graphs['p10']:.2f}–{graphs['p90']:.2f}).",
        f"- Generation, full / fast: **{generation['median']:.2f}×** (p10–p90 {generation['p10']:.2f}–{generation['p90']:.2f}).",
        f"- What generation adds to the graph, per token: {added['full']:,.0f} µs on the full path, "
        f"{added['fast']:,.0f} µs on the fast path (the loop alone: {us['generation loop alone (replayed probabilities)']:,.0f} µs; "
        "the rest is the adapter and ONNX Runtime's Python binding, and caches the model's run has emptied).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "one-stream")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        bundle = args.bundle or export_pretrained(Path(tmp) / "bundle")
        measured = measure(bundle, args.rounds)
    result = {
        "command": "python -m benchmarks.one_stream " + " ".join(argv if argv is not None else sys.argv[1:]),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{cpu_model()}, {len(os.sched_getaffinity(0))} CPU cores",
        "load_average_1min": {"before": load_before[0], "after": os.getloadavg()[0]},
        **measured,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    text = report(result)
    (args.out / "results.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
