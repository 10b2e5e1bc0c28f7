"""Scale-out training: windows/s on 1 and 2 workers (MultiWorkerMirroredStrategy on 127.0.0.1, one CPU core
and one TensorFlow thread each) and the bytes every step all-reduces.

Each configuration runs the real `textgen-export train` (fine-tuning the pretrained model, as users do) with
`--steps-per-epoch S --epochs 2`; its speed is read from Keras's per-step time of the second epoch (the first
traces the graph), as the chief prints it. Every step all-reduces one float32 gradient per trainable weight,
so a worker sends and receives about 2·(n−1)/n of those bytes per step (ring all-reduce).

    python -m benchmarks --scenario distributed [--quick]     # the suite's scenario (its rows)
    python -m benchmarks.distributed --out benchmarks/results/  # distributed.json + .md
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import REPO, rows

COMMAND = "python -m benchmarks.distributed --out benchmarks/results/"
STEP_TIME = re.compile(r"(\d+)/\1 - \S+ - (\d+(?:\.\d+)?)(ms|s)/step")
MODEL = "textgenrnn-pretrained (fine-tune)"
BASELINE = "1 worker"


@dataclass(frozen=True)
class Settings:
    steps: int = 12  # per epoch; 2 epochs, the second timed
    batch_size: int = 128  # global batch of the first two configurations
    trials: int = 3  # per configuration, alternating
    allreduce_repeats: int = 30
    corpus_lines: int = 2000

    @classmethod
    def quick(cls) -> Settings:
        return cls(steps=2, batch_size=32, trials=1, allreduce_repeats=5, corpus_lines=200)


def start_pinned(command: list[str], core: int) -> subprocess.Popen:
    """A worker process on one core with one TensorFlow thread, importing this very package (not another
    checkout's or installation's)."""
    package_root = str(REPO)
    path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "PYTHONPATH": path}
    return subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: os.sched_setaffinity(0, {core}),
    )


def corpus(path: Path, lines: int = 2000, seed: int = 1) -> Path:
    """A synthetic text of our own (random words), enough windows for any step count here."""
    rng = random.Random(seed)
    words = "the quick brown fox jumps over a lazy dog while six cats sat on warm mats".split()
    path.write_text("\n".join(" ".join(rng.choice(words) for _ in range(12)) for _ in range(lines)) + "\n")
    return path


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def train_on_workers(
    data: Path, workers: int, batch_size: int, steps: int, cores: list[int], work: Path
) -> dict:
    """One `train` run on `workers` local processes, each pinned to one core with one TensorFlow thread."""
    args = [sys.executable, "-m", "textgen_export", "train", str(data), "--epochs", "2"]
    args += [
        "--steps-per-epoch",
        str(steps),
        "--batch-size",
        str(batch_size),
        "--seed",
        "1",
        "--gen-epochs",
        "0",
    ]
    out = work / f"model-{workers}w-{batch_size}"
    hosts = ",".join(f"127.0.0.1:{p}" for p in free_ports(workers))
    procs = []
    for index in range(workers):
        cluster = ["--workers", hosts, "--worker-index", str(index)] if workers > 1 else []
        procs.append(start_pinned([*args, "--out", str(out), *cluster], cores[index % len(cores)]))
    started = time.perf_counter()
    outputs = [p.communicate(timeout=1800) for p in procs]
    wall = time.perf_counter() - started
    failed = [
        (p.returncode, err.strip()[-300:]) for p, (_, err) in zip(procs, outputs, strict=True) if p.returncode
    ]
    if failed:
        raise RuntimeError(f"training on {workers} worker(s) failed: {failed}")
    epochs = STEP_TIME.findall(outputs[0][0] + outputs[0][1])
    if len(epochs) < 2:
        raise RuntimeError(f"no per-step time in the chief's output: {outputs[0][0][-500:]}")
    _, value, unit = epochs[-1]
    step = float(value) / (1000 if unit == "ms" else 1)
    return {
        "workers": workers,
        "global_batch": batch_size,
        "per_worker_batch": batch_size // workers,
        "cores": [cores[i % len(cores)] for i in range(workers)],
        "step_seconds": step,
        "windows_per_second": round(batch_size / step, 1),
        "wall_seconds": round(wall, 1),
    }


def allreduce_worker(index: int, hosts: str, size: int, repeats: int) -> None:
    """One worker of `allreduce_seconds`: all-reduce a float32 vector of `size` values `repeats` times."""
    from textgen_export.training.distribute import tf_config_from_flags

    os.environ["TF_CONFIG"] = tf_config_from_flags(hosts, index)
    from textgen_export.keras.backend import tf

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    gradient = tf.ones([size], tf.float32)

    @tf.function
    def step():
        return strategy.run(lambda: tf.distribute.get_replica_context().all_reduce("sum", gradient))

    step()  # traces, and settles the collective's first exchange
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        strategy.experimental_local_results(step())[0].numpy()  # waits for the exchange
        times.append(time.perf_counter() - started)
    if index == 0:
        print(json.dumps(times))


def allreduce_seconds(size: int, cores: list[int], repeats: int = 30) -> dict:
    """Time to all-reduce `size` float32 values between 2 workers on 127.0.0.1 (one core each): every
    repetition's seconds, their median and minimum."""
    hosts = ",".join(f"127.0.0.1:{p}" for p in free_ports(2))
    module = [sys.executable, "-m", "benchmarks.distributed", "--allreduce-worker"]
    procs = [
        start_pinned(
            [*module, str(i), "--hosts", hosts, "--size", str(size), "--repeats", str(repeats)], core
        )
        for i, core in enumerate([cores[0], cores[1 % len(cores)]])
    ]
    outputs = [p.communicate(timeout=600) for p in procs]
    if any(p.returncode for p in procs):
        raise RuntimeError(f"all-reduce timing failed: {[err[-300:] for _, err in outputs]}")
    times = json.loads(outputs[0][0].strip().splitlines()[-1])
    return {"seconds": times, "median_seconds": sorted(times)[len(times) // 2], "min_seconds": min(times)}


def trainable_weights() -> tuple[int, int]:
    """(trainable weights, output classes) of the model the runs fine-tune: the pretrained default."""
    from textgen_export.api.textgen import TextGen

    model = TextGen.pretrained().model
    return sum(int(w.shape.num_elements()) for w in model.trainable_weights), int(model.output_shape[-1])


def measure(settings: Settings, cores: list[int], log: Callable[[str], None]) -> dict:
    """Windows/s for one process, two workers with the same global batch (each half of it) and two workers
    each with a full batch (`settings.trials` alternating trials each; the median trial's details); plus the
    all-reduce bytes per step and its time on loopback. Returns a JSON-ready dict."""
    load_before = os.getloadavg()
    weights, classes = trainable_weights()
    with tempfile.TemporaryDirectory(prefix="textgen-bench-distributed-") as tmp:
        work = Path(tmp)
        data = corpus(work / "corpus.txt", settings.corpus_lines)
        batch = settings.batch_size
        configs = [(1, batch), (2, batch), (2, 2 * batch)]
        trials: list[list[dict]] = [[] for _ in configs]
        for number in range(settings.trials):  # alternating: a burst of other load hits every configuration
            for trial, (workers, global_batch) in zip(trials, configs, strict=True):
                log(f"  trial {number + 1}: {workers} worker(s), global batch {global_batch}")
                trial.append(train_on_workers(data, workers, global_batch, settings.steps, cores, work))
    runs = []
    for trial in trials:
        median = sorted(trial, key=lambda r: r["windows_per_second"])[len(trial) // 2]
        runs.append({**median, "windows_per_second_each_trial": [r["windows_per_second"] for r in trial]})
    one = runs[0]["windows_per_second"]
    for r in runs:
        r["speedup_vs_one_process"] = round(r["windows_per_second"] / one, 2)
    allreduce = weights * 4
    log(f"  all-reduce of {allreduce / 1e6:.2f} MB between 2 workers, {settings.allreduce_repeats} times")
    timing = allreduce_seconds(weights, cores, settings.allreduce_repeats)
    return {
        "scenario": "distributed-training",
        "date": time.strftime("%Y-%m-%d"),
        "command": COMMAND,
        "model": f"pretrained textgenrnn (fine-tune), {classes} classes, max_length 40",
        "trainable_weights": weights,
        "allreduce_bytes_per_step": allreduce,
        "ring_bytes_sent_per_worker_per_step_2_workers": allreduce,  # 2·(n−1)/n · bytes, n = 2
        "allreduce_seconds_2_workers_loopback": timing,
        "steps_per_epoch": settings.steps,
        "trials": settings.trials,
        "threads_per_worker": 1,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "cpu_count": os.cpu_count(),
        "runs": runs,
    }


def scenario_rows(result: dict) -> list[dict]:
    """`measure`'s result in the suite's one row format: windows/s per configuration (every trial, × the one
    process), the bytes each step all-reduces and that all-reduce's time on loopback."""
    found = []
    for r in result["runs"]:
        workers = r["workers"]
        runtime = BASELINE if workers == 1 else f"{workers} workers"
        test = f"train B={r['global_batch']}"
        if workers > 1:
            test += f" ({r['per_worker_batch']} per worker)"
        found.append(
            rows.row(MODEL, runtime, test, "windows/s", r["windows_per_second_each_trial"], threads="1")
        )
    for r in found:  # the same model fine-tuned on 1 process: every configuration against it
        r.update(x_baseline=r["median"] / found[0]["median"], baseline=BASELINE)
    timing = result["allreduce_seconds_2_workers_loopback"]
    found.append(
        rows.row(
            MODEL, "2 workers", "all-reduce per step", "bytes", threads="1", higher_is_better=False,
            median=result["allreduce_bytes_per_step"], reps=1,
            note=f"{result['trainable_weights']:,} float32 gradients",
        )
    )  # fmt: skip
    found.append(
        rows.row(
            MODEL, "2 workers (loopback)", "all-reduce time", "ms", [t * 1000 for t in timing["seconds"]],
            threads="1", higher_is_better=False,
        )
    )  # fmt: skip
    return found


def run(
    quick: bool,
    log: Callable[[str], None] = print,
    settings: Settings | None = None,
    cores: list[int] | None = None,
) -> dict:
    """The suite's `distributed` scenario: `measure` on the first two usable cores, and its rows."""
    settings = settings or (Settings.quick() if quick else Settings())
    result = measure(settings, cores or sorted(os.sched_getaffinity(0))[:2], log)
    return {
        "what": "multi-worker training windows/s (one core and one TensorFlow thread per worker, 127.0.0.1)",
        **result,
        "rows": scenario_rows(result),
    }


def markdown(result: dict) -> str:
    lines = "\n".join(
        f"| {r['workers']} | {r['global_batch']} | {r['per_worker_batch']} | {r['step_seconds'] * 1000:.0f} | "
        f"{r['windows_per_second']:,.0f} | {r['speedup_vs_one_process']}× | "
        f"{', '.join(f'{x:,.0f}' for x in r['windows_per_second_each_trial'])} |"
        for r in result["runs"]
    )
    mb = result["allreduce_bytes_per_step"] / 1e6
    timing = result["allreduce_seconds_2_workers_loopback"]
    load = ", ".join(f"{x:.1f}" for x in result["load_average_before"])
    return f"""# Training on several workers: scaling on this machine

`{result["command"]}` ({result["date"]}; {result["cpu_count"]} CPU cores shared with other work: load
average {load} before the runs).

Each worker is a `textgen-export train` process on 127.0.0.1 pinned to its own core with one TensorFlow
thread (MultiWorkerMirroredStrategy over gRPC); the model is the {result["model"]}. Step time: Keras's
per-step time in epoch 2 of 2 ({result["steps_per_epoch"]} steps per epoch); the median of
{result["trials"]} trials per configuration, run alternately.

| workers | global batch | batch per worker | ms per step | windows/s (median) | vs one process | each trial |
|---:|---:|---:|---:|---:|---:|---|
{lines}

Every step all-reduces one float32 gradient per trainable weight: {result["trainable_weights"]:,} weights =
**{mb:.2f} MB per step** (a ring all-reduce sends and receives 2·(n−1)/n of that per worker: {mb:.2f} MB each
way with 2 workers). That all-reduce alone, 2 workers on 127.0.0.1 (one core each), takes
**{timing["median_seconds"] * 1000:.1f} ms** (median of {len(timing["seconds"])}).
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"), help="folder for the results")
    parser.add_argument("--steps", type=int, default=12, help="steps per epoch (default 12)")
    parser.add_argument("--batch-size", type=int, default=128, help="global batch of the first two runs")
    parser.add_argument("--trials", type=int, default=3, help="trials per configuration (default 3)")
    parser.add_argument("--allreduce-worker", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--hosts", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=30, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.allreduce_worker is not None:
        allreduce_worker(args.allreduce_worker, args.hosts, args.size, args.repeats)
        return 0
    settings = Settings(steps=args.steps, batch_size=args.batch_size, trials=args.trials)
    result = run(False, settings=settings)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "distributed.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "distributed.md").write_text(markdown(result))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
