"""`python -m benchmarks` (the benchmark lab) end to end on the quick run: every scenario's rows, the roofs bound every figure."""

from __future__ import annotations

import json

import pytest

from benchmarks import suite, training_throughput
from helpers import run_cli


def run_bench(*args, timeout=900):
    return run_cli(*args, timeout=timeout, module="benchmarks")


def assert_within_roofs(data: dict) -> None:
    """No figure above its roof, and every measured CPU figure has one."""
    roofs = data["roofs"]
    for t in map(str, roofs["threads"]):
        rates = [v for v in roofs["gemm_gflops"][t].values() if v]
        assert roofs["compute_fp32"][t]["gflops"] == max(rates)  # the best library is the roof
        assert roofs["compute_int8"][t]["gflops"] > 0
    assert roofs["cache_bandwidth_gbs"] > 0
    measured = [r for r in data["rows"] if r["status"] == "ok"]
    assert measured
    for r in measured:
        if r["format"] != "onnx-fp16" and not r["runtime"].startswith(
            ("tensorflow-gpu", "ort-cuda", "ort-tensorrt")
        ):
            assert r["pct_roof"] is not None and r["bound"] in ("compute", "latency"), r
        assert r["pct_roof"] is None or r["pct_roof"] <= 100, r


@pytest.mark.slow
def test_quick_python_runtimes_stay_under_their_roofs_and_gpu_rows_say_why(tmp_path):
    out = tmp_path / "quick"
    done = run_bench("--quick", "--runtimes", "python", "gpu", "--out", str(out))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    run_data = json.loads((out / "results.json").read_text())
    assert suite.problems(run_data) == []
    data = run_data["scenarios"]["sampling"]
    assert_within_roofs(data)
    gpu_rows = [r for r in data["results"] if r["group"] == "gpu"]
    assert len(gpu_rows) == 5
    if not run_data["machine"]["gpus"]:
        assert all(r["status"] == "unavailable" and r["reason"].startswith("no GPU here") for r in gpu_rows)
    text = (out / "results.md").read_text()
    assert "Made by: `python -m benchmarks --quick --runtimes python gpu" in text
    assert "### Roofs measured in this run" in text and "Latency roof for one stream" in text
    assert "| ort-cpu-fp32 | onnx-fp32 | 1 | call B=1 |" in text


SCENARIOS = ["training-throughput", "training-memory", "distributed", "ort-options"]


@pytest.fixture(scope="module")
def quick_scenarios(tmp_path_factory) -> tuple[dict, str]:
    """One `python -m benchmarks --quick --scenario ...` run of the non-sampling scenarios (results.json, results.md),
    which the two tests below read: the distributed scenario alone starts seven TensorFlow processes."""
    out = tmp_path_factory.mktemp("scenarios") / "quick"
    done = run_bench("--quick", "--scenario", *SCENARIOS, "--out", str(out))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads((out / "results.json").read_text()), (out / "results.md").read_text()


@pytest.mark.slow
def test_quick_training_memory_distributed_and_ort_options_scenarios(quick_scenarios):
    run_data, text = quick_scenarios
    assert list(run_data["scenarios"]) == SCENARIOS
    training = run_data["scenarios"]["training-throughput"]["rows"]
    on_cpu = {r["runtime"]: r for r in training if r["test"] == "train B=128 on cpu"}
    assert (
        on_cpu["textgen-export tf.data"]["median"] > 0 and on_cpu["textgenrnn-style generator"]["median"] > 0
    )
    assert on_cpu["textgen-export tf.data"]["x_baseline"] > 0
    assert on_cpu[training_throughput.NODE]["median"] > 0  # the JS trainer (train.mjs), same model and batch
    on_gpu = [r for r in training if r["test"] == "train B=128 on gpu"]
    if not run_data["machine"]["gpus"]:
        assert on_gpu and all(
            r["status"] == "unavailable" and r["note"].startswith("no GPU here") for r in on_gpu
        )
    memory = run_data["scenarios"]["training-memory"]["rows"][0]
    assert memory["unit"] == "MB peak RSS" and 100 < memory["median"] < 1536
    options = run_data["scenarios"]["ort-options"]
    assert {r["threads"] for r in options["rows"]} >= {"1"} and all(
        r["status"] == "ok" for r in options["rows"]
    )
    assert all(c["same_argmax"] and c["max_abs_diff"] <= 1e-5 for c in options["checks"].values())
    assert all(r["x_baseline"] == 1.0 for r in options["rows"] if r["runtime"] == "adapter settings")
    for name in SCENARIOS:
        assert f"## {name}:" in text


def lstm_weights(inputs: int, units: int) -> int:
    return 4 * (inputs * units + units * units + units)  # kernel, recurrent kernel, bias; gates i, f, c, o


@pytest.mark.slow
def test_quick_distributed_scenario_measures_windows_per_second_and_allreduce_bytes(
    quick_scenarios, tmp_path
):
    from benchmarks import report

    run_data = {
        **quick_scenarios[0],
        "scenarios": {"distributed": quick_scenarios[0]["scenarios"]["distributed"]},
    }
    assert suite.problems(run_data) == []
    data = run_data["scenarios"]["distributed"]
    assert data["status"] == "ok", data.get("note")
    found = {(r["runtime"], r["test"]): r for r in data["rows"]}
    training = [r for r in data["rows"] if r["unit"] == "windows/s"]
    assert {r["runtime"] for r in training} == {"1 worker", "2 workers"} and len(training) == 3
    assert all(r["status"] == "ok" and r["median"] > 0 and r["x_baseline"] > 0 for r in training)
    # the pretrained model (docs/design.md §3): 465 classes, embedding 100, 2 LSTMs of 128, attention, output
    weights = 465 * 100 + lstm_weights(100, 128) + lstm_weights(128, 128) + (100 + 256) + (356 * 465 + 465)
    assert found["2 workers", "all-reduce per step"]["median"] == 4 * weights
    assert found["2 workers (loopback)", "all-reduce time"]["median"] > 0
    report.write(run_data, tmp_path / "out", "python -m benchmarks --scenario distributed --quick")
    text = (tmp_path / "out" / "results.md").read_text()
    assert "Nothing measured" not in text and "| 1 worker | – | 1 | train B=32 |" in text


@pytest.mark.slow
@pytest.mark.node
@pytest.mark.browser
def test_quick_run_every_available_runtime_is_valid_and_agrees(tmp_path):
    out = tmp_path / "quick"
    done = run_bench("--quick", "--out", str(out))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    run_data = json.loads((out / "results.json").read_text())
    assert suite.problems(run_data) == []
    data = run_data["scenarios"]["sampling"]
    assert_within_roofs(data)
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
    if not run_data["machine"]["gpus"]:
        gpu = [r for r in data["results"] if r["group"] == "gpu"]
        assert gpu and all(r["status"] == "unavailable" and "no GPU here" in r["reason"] for r in gpu)
    greedy = {
        r["checks"]["greedy_text"]
        for r in data["results"]
        if r["status"] == "ok" and r["format"] != "onnx-int8"
    }
    assert len(greedy) == 1 and greedy == {data["models"][0]["reference_greedy_text"]}
    for name in ("results.md", "roofline.png", "speed-tiny-char.png"):
        assert (out / name).stat().st_size > 0
    # The padding fast path section: both paths in every language, the same texts (suite.problems checks them)
    fast = data["fast_path"]
    assert fast["status"] == "ok" and {c["test"] for c in fast["python"]} == {"gen32", "to_end"}
    cells = fast["python"] + [c for group in ("node", "chromium") for c in fast[group]["cells"]]
    for group in ("node", "chromium"):
        assert fast[group]["status"] in ("ok", "unavailable"), fast[group]
    for c in cells:
        assert "note" in c or (c["texts_identical"] and c["paths"]["fast"]["seconds"] > 0), c
    assert "### Padding fast path vs full path" in (out / "results.md").read_text()


@pytest.mark.gpu
@pytest.mark.slow
def test_gpu_rows_run_on_a_gpu_machine(tmp_path):
    """On a machine with a GPU: TF cuDNN ± XLA and ORT CUDA fp32/fp16 rows run, valid; training runs on the GPU."""
    from benchmarks import gpu

    devices = gpu.detect()
    if not devices.any_gpu:
        pytest.skip("no GPU here")
    out = tmp_path / "gpu"
    args = ["--quick", "--scenario", "sampling", "training-throughput", "--runtimes", "gpu", "ort-cpu-fp32"]
    done = run_bench(*args, "--out", str(out))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    run_data = json.loads((out / "results.json").read_text())
    results = {r["runtime"]: r for r in run_data["scenarios"]["sampling"]["results"] if r["group"] == "gpu"}
    for row, reason in gpu.plan(devices):
        assert results[row.name]["status"] == ("unavailable" if reason else "ok"), results[row.name]
    assert_within_roofs(run_data["scenarios"]["sampling"])
    training = run_data["scenarios"]["training-throughput"]["rows"]
    if devices.tf_gpus:
        assert all(r["status"] == "ok" for r in training if r["test"].endswith("on gpu"))
