"""The benchmark lab (benchmarks/): its method and roofline arithmetic, report, validity rules and command line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

from benchmarks import gpu, method, report, roofline, roofs, rows, sampling, suite
from benchmarks.sampling import problems
from helpers import REPO, run_cli
from textgen_export.contract.config import ModelConfig


def test_flops_per_token_default_config_by_hand():
    # layer 1: 2·(100·512 + 128·512), layer 2: 2·(128·512 + 128·512), per step, 40 steps; attention 4·356·40;
    # output 2·356·465.  ≈ 20.2 MFLOP, the figure docs/design.md quotes as "≈ 20 MFLOP".
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


def fake_roofs(fp32=(50.0, 100.0), int8=(200.0, 400.0), cache_gbs=100.0) -> dict:
    """Roofs in the shape roofs.machine_roofs returns, for a 2-core machine."""
    gemm = {
        t: {"numpy": v / 2, "onnxruntime": v, "tensorflow": None} for t, v in zip("12", fp32, strict=True)
    }
    return {
        "threads": [1, 2],
        "gemm_size": 1024,
        "gemm_gflops": gemm,
        "gemm_int8_gops": {t: {"onnxruntime": v} for t, v in zip("12", int8, strict=True)},
        "compute_fp32": {t: {"gflops": v, "library": "onnxruntime"} for t, v in zip("12", fp32, strict=True)},
        "compute_int8": {t: {"gflops": v, "library": "onnxruntime"} for t, v in zip("12", int8, strict=True)},
        "cache_bandwidth_gbs": cache_gbs,
        "cache_bandwidth_by_method": {"copy": cache_gbs, "gemv": cache_gbs / 2},
        "dram_bandwidth_gbs": 20.0,
        "theoretical": None,
        "gpu": None,
    }


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
        "what": "next-token speed",
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
        "roofs": fake_roofs(),
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


def as_suite_run(data: dict) -> dict:
    """A sampling document inside a suite run, as suite.run returns it."""
    machine = data.pop("machine")
    scenario = {**data, "status": "ok"}
    return {"started": data["started"], "finished": data["finished"], "quick": True, "machine": machine,
            "scenarios": {"sampling": scenario}}  # fmt: skip


def test_report_ratios_roofs_and_unavailable_rows(tmp_path):
    run_data = as_suite_run(fake_run())
    files = report.write(run_data, tmp_path / "out", "python -m benchmarks --quick")
    data = run_data["scenarios"]["sampling"]
    ort = data["results"][1]["cells"][0]
    assert ort["gflops"] == pytest.approx(1.0)  # 1,000 tok/s × 1 MFLOP
    # 1-thread fp32 roof 50 GFLOP/s = 50,000 tok/s; the latency roof (2 layers × 5 steps × 8×32 fp32 = 10 KB at
    # 100 GB/s ≈ 0.1 µs per call) is far higher, so compute binds
    assert (ort["bound"], ort["pct_roof"]) == ("compute", pytest.approx(2.0))
    row = next(r for r in data["rows"] if r["runtime"] == "ort-cpu-fp32")
    assert row["x_baseline"] == pytest.approx(100.0) and row["test"] == "call B=1"
    text = (tmp_path / "out" / "results.md").read_text()
    assert text.startswith("# textgen-export benchmark") and "Made by: `python -m benchmarks --quick`" in text
    assert "| ort-cpu-fp32 | onnx-fp32 | 1 | call B=1 | 1,000 (909–1,111) | 100.0× | 2 (compute) |" in text
    assert "| ort-cuda-fp32 | all | unavailable | no GPU: none here | m |" in text
    assert "| m | tfjs-uint8 | – | exporter missing |" in text
    assert (
        "| 1 | 25 | 50 | – | **50** (onnxruntime) | 200 |" in text
    )  # every library's GEMM, the best is the roof
    assert {"results.json", "results.md", "roofline.png", "speed-m.png"} <= set(files)
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert saved["command"] == "python -m benchmarks --quick"
    assert saved["scenarios"]["sampling"]["rows"][1]["pct_roof"] == pytest.approx(2.0)
    assert problems(data) == [] and suite.problems(run_data) == []


def test_latency_roof_binds_one_stream_and_a_figure_above_its_roof_is_a_problem():
    config = ModelConfig()  # 2×128, max_length 40: 80 steps each reading a 128×512 fp32 kernel (256 KB)
    assert roofline.recurrent_bytes_per_token(config) == 80 * 128 * 512 * 4
    floor = roofline.latency_floor_s(config, cache_gbs=100.0, threads=1)
    assert floor == pytest.approx(80 * 262_144 / 100e9)  # ≈ 210 µs per token on one core
    roof = roofline.cell_roof(config, 465, fake_roofs(fp32=(200.0, 400.0)), threads=1, batch=1, int8=False)
    assert roof["bound"] == "latency" and roof["tok_s"] == pytest.approx(1 / floor)
    # batching shares the kernel reads: at B=64 the compute roof (200 GFLOP/s / 20.2 MFLOP) binds
    big = roofline.cell_roof(config, 465, fake_roofs(fp32=(200.0, 400.0)), threads=1, batch=64, int8=False)
    assert big["bound"] == "compute" and big["tok_s"] == pytest.approx(200e9 / 20_212_680)
    # int8 rows: the int8 GEMM roof and a quarter of the bytes
    q = roofline.cell_roof(config, 465, fake_roofs(fp32=(200.0, 400.0)), threads=1, batch=1, int8=True)
    assert q["latency_tok_s"] == pytest.approx(4 / floor)
    # all cores: private L2s, so the latency floor halves on 2 threads
    two = roofline.cell_roof(config, 465, fake_roofs(), threads=2, batch=1, int8=False)
    assert two["latency_tok_s"] == pytest.approx(2 / floor)

    data = fake_run()
    data["results"][1]["cells"][0]["timing"] = {"median": 1e-5, "p10": 1e-5, "p90": 1e-5, "reps": 3}
    report.derive(data)  # 100,000 tok/s × 1 MFLOP = 100 GFLOP/s on a 50 GFLOP/s 1-thread roof
    found = problems(data)
    assert len(found) == 1 and "200 % of its compute roof" in found[0]


def test_theoretical_peak_from_isa_and_clock(monkeypatch):
    monkeypatch.setattr(roofs, "cpu_clock_mhz", lambda: (2500.0, "test"))
    peak = roofs.theoretical_peak(["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni"], cores=2)
    assert peak["fp32_flop_per_cycle_per_core"] == 16 * 2 * 2
    assert peak["fp32_gflops"] == {"1": 160.0, "2": 320.0}
    assert peak["int8_gops"] == {"1": 640.0, "2": 1280.0}
    assert roofs.theoretical_peak(["avx", "avx2", "fma"], 1)["fp32_gflops"] == {"1": 80.0}
    assert roofs.theoretical_peak(["avx2", "fma"], 1)["int8_gops"] is None  # no VNNI: no int8 peak claimed
    monkeypatch.setattr(roofs, "cpu_clock_mhz", lambda: (None, "no clock readable"))
    assert roofs.theoretical_peak(["avx2"], 2) is None


def test_gemm_graphs_compute_the_product_they_time():
    """The ORT MatMul / MatMulInteger graphs behind the roof compute A×B (checked against numpy), so the roof
    times real work."""
    import onnxruntime as ort

    for int8 in (False, True):
        model = roofs.matmul_model(32, int8)
        session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        b = next(
            np.frombuffer(t.raw_data, dtype=np.int8 if int8 else np.float32) for t in model.graph.initializer
        )
        b = b.reshape(32, 32)
        rng = np.random.default_rng(3)
        if int8:
            a = rng.integers(0, 256, (32, 32), dtype=np.uint8)
            assert np.array_equal(session.run(None, {"A": a})[0], a.astype(np.int32) @ b.astype(np.int32))
        else:
            a = rng.standard_normal((32, 32), dtype=np.float32)
            np.testing.assert_allclose(session.run(None, {"A": a})[0], a @ b, rtol=1e-5, atol=1e-4)
    assert roofs.ort_gemm(1, 64, min_time=0.0) > 0 and roofs.numpy_gemm(64, min_time=0.0) > 0
    assert roofs.best_of({"numpy": 100.0, "onnxruntime": 230.0, "tensorflow": None}) == {
        "gflops": 230.0,
        "library": "onnxruntime",
    }


def test_gpu_rows_follow_the_devices_a_machine_reports():
    none = gpu.Devices()
    for row, reason in gpu.plan(none):
        assert reason and reason.startswith("no GPU here"), (row.name, reason)
    assert [r.name for r, _ in gpu.plan(none)] == [
        "tensorflow-gpu (cuDNN)",
        "tensorflow-gpu-xla",
        "ort-cuda-fp32",
        "ort-cuda-fp16",
        "ort-tensorrt-fp32",
    ]
    assert gpu.training_devices(none)[1][2].startswith("no GPU here")

    h200 = gpu.Devices(
        ["/physical_device:GPU:0"], ["CUDAExecutionProvider", "CPUExecutionProvider"], ["NVIDIA H200"]
    )
    plan = {row.name: (row, reason) for row, reason in gpu.plan(h200)}
    assert plan["tensorflow-gpu (cuDNN)"] == (plan["tensorflow-gpu (cuDNN)"][0], None)
    assert plan["tensorflow-gpu-xla"][0].jit_compile and plan["tensorflow-gpu-xla"][1] is None
    assert plan["ort-cuda-fp16"][1] is None and plan["ort-cuda-fp16"][0].format == "onnx-fp16"
    assert plan["ort-cuda-fp32"][0].providers == ("CUDAExecutionProvider", "CPUExecutionProvider")
    assert "not in this onnxruntime build" in plan["ort-tensorrt-fp32"][1]
    trt = gpu.providers_for("TensorrtExecutionProvider")
    assert trt == ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
    assert gpu.training_devices(h200) == [("cpu", "/CPU:0", None), ("gpu", "/GPU:0", None)]
    # a GPU that TensorFlow cannot use (no CUDA build) is named in the reason
    bare = gpu.Devices([], ["CPUExecutionProvider"], ["NVIDIA H200"])
    assert (
        "nvidia-smi sees NVIDIA H200"
        in dict((r.name, why) for r, why in gpu.plan(bare))["tensorflow-gpu (cuDNN)"]
    )
    # GPU rows measure batches up to the thousands in a full run, the plan's in --quick or with --batches
    from benchmarks.sampling import Options, plan_for

    assert max(plan_for(Options()).gpu_batches) >= 1024
    assert plan_for(Options(quick=True)).gpu_batches is None
    assert plan_for(Options(batches=[1, 8])).gpu_batches is None


def test_gpu_runtimes_in_the_suite_ask_the_device_plan(monkeypatch):
    from benchmarks.runtimes import python_runtimes

    monkeypatch.setattr(gpu, "detect", lambda: gpu.Devices())
    found = {r.name: r for r in python_runtimes() if r.group == "gpu"}
    assert set(found) == {row.name for row in gpu.GPU_ROWS}
    assert all(r.unavailable(None).startswith("no GPU here") for r in found.values())
    assert all(r.batches == gpu.GPU_BATCHES for r in found.values())


def test_rows_spread_and_baseline():
    spread = rows.spread([1.0, 2.0, 3.0, 4.0, 5.0])
    assert (
        spread["median"] == 3.0
        and spread["reps"] == 5
        and spread["sd"] == pytest.approx(np.std([1, 2, 3, 4, 5], ddof=1))
    )
    table = [
        rows.row("m", "base", "train", "windows/s", [100.0, 100.0]),
        rows.row("m", "ours", "train", "windows/s", [300.0, 300.0]),
        rows.row("m", "base-mem", "peak", "MB", median=200.0, higher_is_better=False),
    ]
    rows.add_baseline(table, "base")
    assert table[1]["x_baseline"] == pytest.approx(3.0) and table[0]["x_baseline"] == 1.0
    text = report.model_table(table)
    assert "| ours | – | – | train | 300 windows/s (300–300) | 3.0× | – |" in text


def test_reliability_counts_a_real_pytest_junit_report(tmp_path):
    """A real pytest run's JUnit XML (a pass, a failure, a skip in a "fault injection" file) counted per file and
    group, written as markdown by the command line; a failed case is a failing exit status."""
    from benchmarks import reliability

    sample = tmp_path / "tests" / "unit" / "test_atomic_writes.py"
    sample.parent.mkdir(parents=True)
    sample.write_text(
        "import pytest\n\nclass TestWrites:\n    def test_ok(self):\n        pass\n\n"
        "def test_bad():\n    assert False\n\n@pytest.mark.skip\n@pytest.mark.slow\ndef test_skipped():\n    pass\n"
    )
    shutil.copy(
        REPO / "tests" / "conftest.py", tmp_path / "tests" / "conftest.py"
    )  # records markers in JUnit
    shutil.copy(REPO / "tests" / "helpers.py", tmp_path / "tests" / "helpers.py")
    junit = tmp_path / "junit.xml"
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}", "tests"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert ran.returncode == 1, ran.stdout[-2000:]
    found = reliability.counts(reliability.read_cases(junit, root=tmp_path))
    file = "tests/unit/test_atomic_writes.py"
    assert found["files"] == {file: {"passed": 1, "failed": 1, "skipped": 1}}
    assert found["groups"]["fault injection"] == {"files": [file], "passed": 1, "failed": 1, "skipped": 1}
    assert found["groups"]["fuzzing"]["files"] == [] and found["data_lost"] == 1
    assert found["failed"] == [f"{file}::test_bad"]
    assert found["markers"] == {
        "slow": {"passed": 0, "failed": 0, "skipped": 1},
        "unmarked": {"passed": 1, "failed": 1, "skipped": 0},
    }
    out = tmp_path / "reliability.md"
    done = run_cli(junit, "--out", out, module="benchmarks.reliability")
    assert done.returncode == 1 and done.stdout == f"3 cases, 1 failed; wrote {out}\n"
    text = out.read_text()
    assert "| fault injection | 1 | 1 | 1 |" in text and "| fuzzing | not in this run | | |" in text
    assert f"| {file} | 1 | 1 | 1 |" in text and f"- `{file}::test_bad`" in text
    assert "| slow | 0 | 0 | 1 |" in text and "| unmarked | 1 | 1 | 0 |" in text
    bad = run_cli(tmp_path / "absent.xml", "--out", out, module="benchmarks.reliability")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "cannot read" in bad.stderr


def test_distributed_scenario_reports_windows_per_second_and_allreduce_bytes_as_rows(monkeypatch):
    """What `measure` returns becomes the suite's rows (the report showed "Nothing measured" when it did not)."""
    from benchmarks import distributed

    def trial(workers, batch, each):
        return {"workers": workers, "global_batch": batch, "per_worker_batch": batch // workers,
                "windows_per_second_each_trial": each}  # fmt: skip

    measured = {
        "trainable_weights": 461_693,
        "allreduce_bytes_per_step": 461_693 * 4,
        "allreduce_seconds_2_workers_loopback": {"seconds": [0.004, 0.005, 0.003]},
        "runs": [trial(1, 128, [400.0, 500.0, 450.0]), trial(2, 128, [500.0]), trial(2, 256, [900.0])],
    }
    asked = []
    monkeypatch.setattr(
        distributed, "measure", lambda settings, cores, log: asked.append(settings) or measured
    )
    data = suite.run_scenario("distributed", sampling.Options(quick=True), {}, lambda _: None)
    assert asked == [distributed.Settings.quick()]
    found = {(r["runtime"], r["test"]): r for r in data["rows"]}
    one = found["1 worker", "train B=128"]
    assert (one["median"], one["reps"], one["x_baseline"]) == (450.0, 3, 1.0)
    assert found["2 workers", "train B=256 (128 per worker)"]["x_baseline"] == pytest.approx(2.0)
    assert found["2 workers", "all-reduce per step"]["median"] == 1_846_772
    assert found["2 workers (loopback)", "all-reduce time"]["median"] == pytest.approx(4.0)
    text = report.scenario_markdown("distributed", {**data, "status": "ok", "started": "s", "finished": "f"})
    assert "Nothing measured" not in text
    assert "| 1 worker | – | 1 | train B=128 | 450 windows/s (410–490) | 1.0× | – |" in text
    assert "| 2 workers | – | 1 | train B=128 (64 per worker) | 500 windows/s | 1.1× | – |" in text
    assert "| 2 workers | – | 1 | all-reduce per step | 1,846,772 bytes | – | – |" in text
    assert suite.problems({"scenarios": {"distributed": {**data, "status": "ok"}}}) == []


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
    from benchmarks.runtimes import slow_call
    from benchmarks.sampling import Options, plan_for

    plan = plan_for(Options())
    assert slow_call(None, 8, plan) is None
    assert slow_call((1, 0.5), 256, plan) is None  # 0.5 s at B=1 is overhead, not compute
    assert slow_call((8, 2.0), 64, plan) == "skipped: ≈16 s per call (from B=8)"
    assert slow_call((8, 1.0), 64, plan) is None


def test_js_rows_are_judged_by_the_python_checks():
    from benchmarks.jsjob import to_result
    from benchmarks.models import BenchModel
    from textgen_export.contract.vocabulary import Vocabulary

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
    return run_cli(*args, timeout=timeout, module="benchmarks")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--batches", "0"], "--batches must be from 1 to 4096"),
        (["--model", "no/such/dir"], "is not a directory"),
        (["--runtimes", "tensorflow-lite"], "matches no runtime"),
        (["--out", "tests/unit/test_benchmarks.py"], "exists and is not a directory"),
        (["--scenario", "sampling", "gpu-only"], "invalid choice: 'gpu-only'"),
    ],
)
def test_bad_arguments_are_one_line_errors(args, message, tmp_path):
    done = run_bench("--quick", "--out", str(tmp_path / "out"), *args, timeout=120)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and message in done.stderr
    assert not (tmp_path / "out").exists()
    assert (
        (REPO / "tests" / "unit" / "test_benchmarks.py").read_text().startswith('"""The benchmark lab')
    )  # untouched


def test_targets_are_judged_against_the_named_roof():
    from textgen_export.contract.config import ModelConfig

    adapter = report.ADAPTER
    config = (
        ModelConfig()
    )  # 2 × 128 LSTM, max_length 40: 80 steps × a 256 KiB kernel = 20,971,520 bytes per token
    data = {
        "plan": {"gen_length": 32},
        "roofs": {"cache_bandwidth_gbs": 20.97152},  # so one core's floor is 1 ms: ≤ 1000 tok/s
        "models": [{"name": "m", "config": config.to_dict()}],
        "rows": [
            rows.row(
                "m", adapter, "gen 32 B=64", "tok/s", median=850.0, roof_compute=1000.0, roof_latency=9e9
            ),
            rows.row(
                "m", adapter, "gen 32 B=1", "tok/s", median=400.0, roof_compute=1e6, roof_latency=2000.0
            ),
        ],
    }
    text = report.targets_lines(data)
    assert "B=64: 850 tok/s = 85 % of the compute roof (target ≥ 80 %: met)" in text
    assert "B=1: 400 tok/s = 40 % of one core's latency roof (target ≥ 50 %: not met)" in text
    assert "20 % of the stricter all-cores roof in the table" in text
    data["rows"][1]["median"] = 600.0
    assert "60 % of one core's latency roof (target ≥ 50 %: met)" in report.targets_lines(data)
    data["rows"].pop()
    assert "B=1: not measured" in report.targets_lines(data)


def test_quick_runs_write_into_a_git_ignored_folder_and_full_runs_beside_the_results():
    from benchmarks import RESULTS
    from benchmarks.__main__ import default_out

    quick = default_out(True, ["sampling"])
    assert quick.parent == RESULTS / "quick" and quick.name.endswith("-quick")
    assert default_out(False, ["sampling"]).parent == RESULTS
    probe = quick / "results.json"  # git check-ignore judges a path that need not exist
    ignored = subprocess.run(["git", "check-ignore", "-q", str(probe)], cwd=REPO)
    assert ignored.returncode == 0, f"{probe} is not git-ignored: a --quick run would dirty the checkout"
    kept = subprocess.run(
        ["git", "check-ignore", "-q", str(RESULTS / "2026-01-01-x" / "results.json")], cwd=REPO
    )
    assert kept.returncode == 1  # full runs are results to commit


def test_the_product_imports_nothing_from_the_lab_and_the_suite_runs_no_tests():
    import ast

    offenders = []
    for path in sorted((REPO / "textgen_export").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )
            offenders += [f"{path.relative_to(REPO)}: {n}" for n in names if n.split(".")[0] == "benchmarks"]
    assert offenders == []
    assert not (REPO / "textgen_export" / "bench").exists()
    assert "reliability" not in suite.SCENARIOS  # test counts come from a JUnit report, not a benchmark


def test_fast_path_speedup_is_the_median_pair_ratio_and_other_text_is_a_problem():
    from benchmarks import fast_path

    cell = fast_path.timing({"full": [2.0, 3.0, 4.0], "fast": [1.0, 1.0, 4.0]}, tokens=10)
    assert cell["speedup"] == 2.0 and cell["speedup_p10"] < 2.0 < cell["speedup_p90"]
    assert cell["paths"]["full"]["tok_s"] == 10 / 3.0 and cell["pairs"] == 3
    ok = {"runtime": "ort-cpu-fp32", "test": "gen32", "batch": 1, "texts_identical": True}
    node = {**ok, "runtime": "tfjs-node-wasm", "texts_identical_to_python": False}
    section = {"python": [ok, {**ok, "batch": 8, "texts_identical": False}], "node": {"cells": [node]}}
    assert fast_path.problems(section) == [
        "fast path · ort-cpu-fp32 gen32 B=8: the fast path writes other texts than the full path",
        "fast path · tfjs-node-wasm gen32 B=1: texts differ from Python's",
    ]


def test_one_stream_times_both_graphs_and_both_paths_from_a_bundle(tiny_onnx_bundle, tmp_path):
    from benchmarks import one_stream

    assert one_stream.main(["--bundle", str(tiny_onnx_bundle), "--rounds", "3", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert result["command"].startswith("python -m benchmarks.one_stream --bundle ")
    assert set(result["per_call_us"]) == {
        "model.onnx alone",
        "model_tail.onnx alone",
        "generation, full path",
        "generation, fast path",
        "generation loop alone (replayed probabilities)",
    }
    assert all(v > 0 for v in result["per_call_us"].values()) and result["calls"] >= 1
    assert "The graphs alone, full / fast" in (tmp_path / "results.md").read_text(encoding="utf-8")
