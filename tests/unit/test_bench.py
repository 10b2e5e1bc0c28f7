"""The benchmark suite: its method and roofline arithmetic, and `bench --quick` end to end (validity, not speed)."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from conftest import REPO, run_cli
from textgen_export.bench import method, report, roofline
from textgen_export.bench.suite import problems
from textgen_export.spec.config import ModelConfig


def test_flops_per_token_default_config_by_hand():
    # layer 1: 2·(100·512 + 128·512), layer 2: 2·(128·512 + 128·512), per step, 40 steps; attention 4·356·40;
    # output 2·356·465.  ≈ 20.2 MFLOP, the figure DESIGN.md quotes as "≈ 20 MFLOP".
    expected = (2 * (100 * 512 + 128 * 512) + 2 * (128 * 512 + 128 * 512)) * 40 + 4 * 356 * 40 + 2 * 356 * 465
    assert roofline.flops_per_token(ModelConfig(), 465) == expected == 20_212_680


def test_flops_follow_the_config():
    base = ModelConfig(rnn_size=32, max_length=10, dim_embeddings=8)
    flops = roofline.flops_per_token(base, 50)
    assert roofline.flops_per_token(base.replace(max_length=20), 50) > 1.9 * flops  # LSTM work is per step
    assert roofline.flops_per_token(base.replace(rnn_bidirectional=True), 50) > 2 * flops - 2 * 40 * 50 * 4
    assert roofline.flops_per_token(base.replace(rnn_layers=3), 50) > flops
    # batch shares the weight traffic, so intensity is linear in batch and int8 reads 4× fewer bytes
    assert roofline.intensity(base, 50, 64) == pytest.approx(64 * roofline.intensity(base, 50, 1))
    assert roofline.intensity(base, 50, 8, 1.0) == pytest.approx(4 * roofline.intensity(base, 50, 8))


def test_timing_percentiles_match_numpy():
    samples = [0.5, 0.1, 0.3, 0.2, 0.4]
    timing = method.Timing.of(samples)
    assert (timing.median, timing.reps) == (0.3, 5)
    assert timing.p10 == pytest.approx(np.percentile(samples, 10))
    assert timing.p90 == pytest.approx(np.percentile(samples, 90))


def test_measure_repeats_until_min_time_and_reps():
    calls = []
    timing = method.measure(lambda: calls.append(1), method.Budget(min_time=0.0, min_reps=7, warmup=2))
    assert timing.reps == 7 and len(calls) == 9
    # min_time far out of reach: max_reps is what stops it, exactly there
    capped = method.measure(
        lambda: time.sleep(0.001), method.Budget(min_time=60.0, min_reps=1, max_reps=3, warmup=0)
    )
    assert capped.reps == 3 and capped.median >= 0.001
    # min_time reached at once: min_reps decides
    quick = method.measure(lambda: None, method.Budget(min_time=0.0, min_reps=4, max_reps=50, warmup=0))
    assert quick.reps == 4


def fake_run(**changes) -> dict:
    """A minimal results document in the shape suite.run returns (for the report and validity code)."""
    cell = {"batch": 1, "mode": "call", "tokens": 1, "chars": 0, "note": ""}
    ok_checks = {
        "shape": [4, 30],
        "shape_ok": True,
        "finite": True,
        "nonnegative": True,
        "max_sum_error": 1e-7,
        "max_abs_diff_vs_float64": 1e-7,
        "greedy_text": "abc",
        "greedy_matches": True,
    }

    def row(name, seconds, status="ok", checks=None, fmt="keras", threads="all"):
        timing = {"median": seconds, "p10": seconds * 0.9, "p90": seconds * 1.1, "reps": 3}
        return {
            "model": "m",
            "runtime": name,
            "group": "python",
            "threads": threads,
            "status": status,
            "reason": "" if status == "ok" else "no GPU: none here",
            "format": fmt,
            "load_s": 0.1,
            "first_token_s": 0.01,
            "peak_rss_mb": 5.0,
            "checks": checks if checks is not None else (ok_checks if status == "ok" else {}),
            "cells": [dict(cell, timing=timing)] if status == "ok" else [],
        }

    data = {
        "started": "2026-11-24T07:00:00+00:00",
        "finished": "2026-11-24T07:01:00+00:00",
        "quick": True,
        "machine": {
            "cpu": "Test CPU",
            "cpu_flags": ["avx2"],
            "cores": {"usable": 2},
            "memory_gb": 1.0,
            "gpus": [],
            "python": {"numpy": "2"},
            "npm": {},
            "node": None,
            "chromium": None,
        },
        "roofs": {"sgemm_gflops_all_cores": 100.0, "sgemm_gflops_1_thread": 50.0, "copy_bandwidth_gbs": 20.0},
        "plan": {
            "batches": [1],
            "budget": method.QUICK.to_dict(),
            "gen_length": 12,
            "greedy_length": 24,
            "temperature": 0.5,
        },
        "models": [
            {
                "name": "m",
                "config": ModelConfig(rnn_size=8, max_length=5, dim_embeddings=4).to_dict(),
                "num_classes": 30,
                "flops_per_token": 1_000_000,
                "sizes": {"onnx-fp32": 1000, "tfjs-uint8": None},
                "unavailable_formats": {"tfjs-uint8": "exporter missing"},
            }
        ],
        "results": [
            row(report.BASELINE, 0.1),
            row("ort-cpu-fp32", 0.001, fmt="onnx-fp32", threads="1"),
            row("ort-cuda-fp32", 0, status="unavailable"),
        ],
    }
    data.update(changes)
    return data


def test_report_ratios_roofline_and_unavailable_rows(tmp_path):
    data = fake_run()
    files = report.write(data, tmp_path / "out", "textgen-export bench --quick")
    ort = data["results"][1]["cells"][0]
    assert ort["x_baseline"] == pytest.approx(100.0)
    assert ort["gflops"] == pytest.approx(1.0)  # 1,000 tok/s × 1 MFLOP
    assert ort["pct_roofline"] == pytest.approx(2.0)  # against the 1-thread peak (50 GFLOP/s)
    text = (tmp_path / "out" / "results.md").read_text()
    assert "| m | ort-cpu-fp32 | onnx-fp32 | 1 | 1 | model call | 1,000 |" in text
    assert "| ort-cuda-fp32 | all | unavailable | no GPU: none here | m |" in text
    assert "| m | tfjs-uint8 | – | exporter missing |" in text
    assert {"results.json", "results.md", "roofline.png", "speed-m.png"} <= set(files)
    assert (
        json.loads((tmp_path / "out" / "results.json").read_text())["command"]
        == "textgen-export bench --quick"
    )
    assert problems(data) == []


def test_problems_flags_invalid_outputs_but_not_int8_text():
    data = fake_run()
    bad = data["results"][1]
    bad["checks"] = dict(bad["checks"], max_sum_error=0.01, greedy_matches=False, greedy_text="abd")
    found = problems(data)
    assert len(found) == 2 and "sum to 1" in found[0] and "greedy text 'abd'" in found[1]
    bad["format"] = "onnx-int8"  # quantised: text may differ, probabilities must still be a distribution
    assert len(problems(data)) == 1
    data["results"][0]["status"] = "failed"
    assert any("failed" in p for p in problems(data))


def test_slow_batch_sizes_are_skipped_only_once_calls_are_compute_bound():
    from textgen_export.bench.scenarios import slow_call
    from textgen_export.bench.suite import Options, plan_for

    plan = plan_for(Options())
    assert slow_call(None, 8, plan) is None
    assert slow_call((1, 0.5), 256, plan) is None  # 0.5 s at B=1 is overhead, not compute
    assert slow_call((8, 2.0), 64, plan) == "skipped: ≈16 s per call (from B=8)"
    assert slow_call((8, 1.0), 64, plan) is None


def test_js_rows_are_judged_by_the_python_checks():
    from textgen_export.bench.jsjob import to_result
    from textgen_export.bench.models import BenchModel
    from textgen_export.spec.vocabulary import Vocabulary

    vocab = Vocabulary.from_texts(["abc"], 100, word_level=False)
    bench = BenchModel("m", None, ModelConfig(max_length=4), vocab, prefix="a")
    probs = np.full((2, vocab.num_classes), 1 / vocab.num_classes)
    reference = {"probs": probs, "greedy_text": "abc"}
    timing = {"median": 0.01, "p10": 0.009, "p90": 0.02, "reps": 5}
    row = {
        "runtime": "tfjs-node-cpu",
        "threads": "1",
        "status": "ok",
        "format": "tfjs-float32",
        "probs": (probs * 1.01).tolist(),  # sums to 1.01
        "greedy_tokens": ["<s>", "a", "b", "c", "<s>"],
        "cells": [{"batch": 1, "mode": "call", "tokens": 1, "chars": 0, "timing": timing}],
    }
    result = to_result(bench, "node", row, reference)
    assert result.checks["greedy_text"] == "abc" and result.checks["greedy_matches"]
    assert result.checks["max_sum_error"] == pytest.approx(0.01)
    assert result.cells[0].timing.median == 0.01
    failed = to_result(bench, "node", {"runtime": "x", "status": "failed", "reason": "boom"}, reference)
    assert (failed.status, failed.reason, failed.cells) == ("failed", "boom", [])


def run_bench(*args, timeout=600):
    return run_cli("bench", *args, timeout=timeout)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--batches", "0"], "--batches must be from 1 to 4096"),
        (["--model", "no/such/dir"], "is not a directory"),
        (["--runtimes", "tensorflow-lite"], "matches no runtime"),
        (["--out", "tests/unit/test_bench.py"], "exists and is not a directory"),
    ],
)
def test_bad_arguments_are_one_line_errors(args, message, tmp_path):
    done = run_bench("--quick", "--out", str(tmp_path / "out"), *args, timeout=120)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and message in done.stderr
    assert not (tmp_path / "out").exists()
    assert (
        (REPO / "tests" / "unit" / "test_bench.py").read_text().startswith('"""The benchmark suite')
    )  # untouched


@pytest.mark.slow
@pytest.mark.node
@pytest.mark.browser
def test_quick_run_every_available_runtime_is_valid_and_agrees(tmp_path):
    out = tmp_path / "quick"
    done = run_bench("--quick", "--out", str(out))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    data = json.loads((out / "results.json").read_text())
    assert problems(data) == []
    by_name = {(r["runtime"], r["threads"]): r for r in data["results"]}
    ran = {name for (name, _), r in by_name.items() if r["status"] == "ok"}
    # what must run on any machine that passes `make setup` (CPU only)
    for name in (
        "keras-predict (textgenrnn way)",
        "tf.function",
        "tf.function-xla",
        "ort-cpu-fp32",
        "ort-cpu-int8",
    ):
        assert name in ran, by_name.get((name, "all"))
    for r in data["results"]:
        assert r["status"] in ("ok", "unavailable"), (r["runtime"], r["reason"])
        if r["status"] == "unavailable":
            assert r["reason"]  # an absent runtime says why
        else:
            assert r["checks"]["shape"] == [4, data["models"][0]["num_classes"]]
            assert {c["batch"] for c in r["cells"]} == set(data["plan"]["batches"])
            for c in r[
                "cells"
            ]:  # a generation test too slow for the budget is skipped with a note, never silently
                assert (
                    (c["timing"]["reps"] >= 1 and c["tokens"] >= 1) if c["timing"] else "skipped" in c["note"]
                )
    if not data["machine"]["gpus"]:
        gpu = [r for r in data["results"] if r["group"] == "gpu"]
        assert gpu and all(r["status"] == "unavailable" and "no GPU" in r["reason"] for r in gpu)
    greedy = {
        r["checks"]["greedy_text"]
        for r in data["results"]
        if r["status"] == "ok" and r["format"] != "onnx-int8"
    }
    assert len(greedy) == 1 and greedy == {data["models"][0]["reference_greedy_text"]}
    for name in ("results.md", "roofline.png", "speed-tiny-char.png"):
        assert (out / name).stat().st_size > 0
