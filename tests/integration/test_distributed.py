"""Training on several workers (tf.distribute): two worker processes on 127.0.0.1 train one model, as two
machines would, and give the same weights as one process with the same global batch and seed.

The tolerance, 1e-4: the replicas' gradients are summed in another order than one process sums one batch's,
so float32 rounding (~1e-7 relative per step) differs and compounds over the steps; measured here: 1.2e-7
after 116 steps. A wrong batch split, a missing weight on an uneven slice, a double-counted replica or a
different shuffle each move the weights by 1e-3 or more after one step at this learning rate.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from benchmarks.distributed import free_ports
from helpers import REPO, run_cli
from textgen_export.training import distribute
from textgen_export.training.tfdata import Shard

TINY = ["--new-model", "--rnn-size", "8", "--rnn-layers", "1", "--max-length", "10", "--dim-embeddings", "8"]
TINY += ["--seed", "3", "--gen-epochs", "0"]
TOLERANCE = 1e-4
LOGICAL_CPUS = """
import sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from textgen_export.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """3,649 training windows: not a multiple of the batch sizes, so the last batch splits unevenly."""
    rng = random.Random(1)
    words = "the quick brown fox jumps over lazy dog and cat sat on mat".split()
    path = tmp_path_factory.mktemp("data") / "data.txt"
    path.write_text("\n".join(" ".join(rng.choice(words) for _ in range(8)) for _ in range(100)) + "\n")
    return path


def start_workers(args: list, cwd: Path, n: int = 2, own=None) -> list[subprocess.Popen]:
    """`textgen-export train ARGS --workers ... --worker-index I` for each I, as on n machines (`own[I]`:
    more arguments for worker I only)."""
    workers = ",".join(f"127.0.0.1:{p}" for p in free_ports(n))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return [
        subprocess.Popen(
            [sys.executable, "-m", "textgen_export", "train", *map(str, args), "--workers", workers]
            + ["--worker-index", str(i), *(own[i] if own else [])],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(n)
    ]


def finish(procs: list[subprocess.Popen], timeout: float = 300) -> list[tuple[int, str]]:
    deadline = time.monotonic() + timeout
    results = []
    for p in procs:
        try:
            _, err = p.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            raise
        results.append((p.returncode, err))
    return results


def weights(model_dir: Path) -> list[np.ndarray]:
    from textgen_export import TextGen

    return TextGen.load(model_dir).model.get_weights()


def max_difference(a: Path, b: Path) -> float:
    wa, wb = weights(a), weights(b)
    assert [w.shape for w in wa] == [w.shape for w in wb]
    return max(float(np.abs(x - y).max()) for x, y in zip(wa, wb, strict=True))


def one_process(data: Path, out: Path, *args) -> Path:
    result = run_cli("train", data, *TINY, *args, "--out", out)
    assert result.returncode == 0, result.stderr
    return out


# -- TF_CONFIG and the flags that write it: answered before TensorFlow loads ------------------------------


def test_workers_flags_build_tf_config():
    config = json.loads(distribute.tf_config_from_flags("10.0.0.1:2222, 10.0.0.2:2222", 1))
    assert config == {
        "cluster": {"worker": ["10.0.0.1:2222", "10.0.0.2:2222"]},
        "task": {"type": "worker", "index": 1},
    }
    cluster = distribute.read_cluster({"TF_CONFIG": json.dumps(config)})
    assert (cluster.size, cluster.rank, cluster.is_chief) == (2, 1, False)


def test_a_named_chief_is_rank_0_and_a_cluster_of_one_is_one_process():
    config = {"cluster": {"chief": ["a:1"], "worker": ["b:1", "c:1"]}, "task": {"type": "worker", "index": 0}}
    assert distribute.read_cluster({"TF_CONFIG": json.dumps(config)}).rank == 1
    config["task"] = {"type": "chief", "index": 0}
    assert distribute.read_cluster({"TF_CONFIG": json.dumps(config)}).is_chief
    alone = {"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 0}}
    assert distribute.read_cluster({"TF_CONFIG": json.dumps(alone)}) is None
    assert distribute.read_cluster({}) is None


@pytest.mark.parametrize(
    "args, env, message",
    [
        (["--workers", "a:1,b"], None, "host:port"),
        (["--workers", "a:1,b:2", "--worker-index", "2"], None, "--worker-index must be"),
        (["--worker-index", "0"], None, "--worker-index needs --workers"),
        (["--workers", "127.0.0.1:70000,127.0.0.1:2", "--worker-index", "0"], None, "outside 1 to 65535"),
        (["--workers", "a:1,b:2", "--worker-index", "0", "--worker-timeout", "0"], None, "--worker-timeout"),
        ([], '{"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": true}}', "integer"),
        ([], '{"cluster": {"worker": ["a:1", "b:99999"]}, "task": {"type": "worker", "index": 0}}', "99999"),
        ([], '{"cluster": {"worker": ["a:1", 7]}, "task": {"type": "worker", "index": 0}}', "host:port"),
        (["--workers", "a:1,b:2", "--worker-index", "0"], None, "needs --seed"),
        ([], "{not json", "TF_CONFIG is not valid JSON"),
        ([], '{"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 5}}', "not in its"),
        (
            [],
            '{"cluster": {"ps": ["a:1"], "worker": ["b:1"]}, "task": {"type": "worker", "index": 0}}',
            "'ps'",
        ),
    ],
)
def test_bad_cluster_settings_are_one_line_exit_2(data, tmp_path, args, env, message):
    environ = {**os.environ, **({"TF_CONFIG": env} if env else {})}
    tiny = [a for a in TINY if a not in ("--seed", "3")] if "needs --seed" in message else TINY
    result = run_cli("train", data, *tiny, *args, "--out", tmp_path / "out", env=environ, timeout=120)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "out").exists()


def test_each_replica_takes_its_weighted_slice_of_every_global_batch():
    batch = np.arange(7)
    parts = [list(Shard(3, r, 1).slices(batch)) for r in range(3)]
    assert np.concatenate([p[0][0] for p in parts]).tolist() == batch.tolist()
    # sum over replicas of (slice mean × weight) / replicas = the global batch's mean
    losses = np.random.default_rng(0).random(7)
    total = sum(losses[part].mean() * weight for ((part, weight),) in parts) / 3
    assert total == pytest.approx(losses.mean(), rel=1e-12)
    # a pipeline feeding two replicas yields both slices, in order; an empty slice weighs nothing
    assert [len(p) for p, _ in Shard(4, 2, 2).slices(np.arange(2))] == [0, 1]
    assert [w for _, w in Shard(4, 2, 2).slices(np.arange(2))] == [0.0, 2.0]


# -- two workers on 127.0.0.1 --------------------------------------------------------------------------


@pytest.mark.slow
def test_two_workers_train_what_one_process_trains(data, tmp_path):
    args = ["--epochs", "2", "--batch-size", "64"]
    reference = one_process(data, tmp_path / "one", *args)
    work = tmp_path / "cluster"
    work.mkdir()
    results = finish(start_workers([data, *TINY, *args, "--out", "model"], cwd=work))
    assert [rc for rc, _ in results] == [0, 0], results
    assert "wrote" in results[0][1] and "the chief writes" in results[1][1]
    assert sorted(p.name for p in work.iterdir()) == ["model"]  # the other worker wrote nothing here
    assert not distribute.private_dir(work / "model", 1).exists()  # nor kept its private checkpoint
    assert max_difference(reference, work / "model") < TOLERANCE
    metadata = json.loads((work / "model" / "metadata.json").read_text())
    assert (metadata["batch_size"], metadata["replicas"]) == (64, 2)

    # the chief's --out is an ordinary model directory: it loads, exports and generates
    bundle = tmp_path / "bundle"
    exported = run_cli("export", work / "model", "--out", bundle, "--onnx")
    assert exported.returncode == 0, exported.stderr
    generated = run_cli("generate", "--bundle", bundle, "-n", "2", "--seed", "7", "--max-length", "30")
    assert generated.returncode == 0 and generated.stdout.strip(), generated.stderr


@pytest.mark.slow
def test_a_killed_worker_stops_the_run_and_resume_continues_it(data, tmp_path):
    args = ["--epochs", "3", "--batch-size", "32"]
    reference = one_process(data, tmp_path / "one", *args)
    work = tmp_path / "cluster"
    work.mkdir()
    out = work / "model"
    procs = start_workers([data, *TINY, *args, "--out", "model"], cwd=work)
    saved = [out / "checkpoint" / "latest", distribute.private_dir(out, 1) / "checkpoint" / "latest"]
    deadline = time.monotonic() + 240
    while not all(p.is_file() for p in saved) and time.monotonic() < deadline:
        assert procs[0].poll() is None and procs[1].poll() is None, finish(procs)
        time.sleep(0.05)
    assert all(p.read_text().strip() == "epoch-0001" for p in saved)
    procs[1].send_signal(signal.SIGKILL)  # in epoch 2 of 3 (each epoch takes seconds here)
    (chief_rc, chief_err), _ = finish(procs)
    assert chief_rc == 2, chief_err
    last = chief_err.strip().splitlines()[-1]
    assert "a worker failed" in last and f"--resume {out}" in last
    assert not (out / "config.json").exists()  # no final model from a failed run

    results = finish(start_workers(["--resume", "model"], cwd=work))
    assert [rc for rc, _ in results] == [0, 0], results
    assert "after epoch 1 of 3" in results[0][1] and "after epoch 1 of 3" in results[1][1]
    assert not (out / "checkpoint").exists() and not distribute.private_dir(out, 1).exists()
    assert max_difference(reference, out) < TOLERANCE


@pytest.mark.slow
def test_workers_that_disagree_fail_instead_of_training_apart(data, tmp_path):
    args = [data, *TINY, "--batch-size", "64", "--out", "model"]
    procs = start_workers(args, cwd=tmp_path, own=[["--epochs", "2"], ["--epochs", "3"]])
    for rc, err in finish(procs, timeout=240):
        assert rc == 2, err
        assert "workers disagree" in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "model").exists()


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.slow
def test_a_worker_whose_peer_never_comes_ends_on_its_deadline_or_a_signal(data, tmp_path):
    """Worker 0 of two, started alone: it gives up after --worker-timeout with one line, and SIGINT or
    SIGTERM end it while it waits (TensorFlow holds the main thread there, out of reach of Python's handlers)."""
    runs = {}
    for how, timeout in (("deadline", "20"), ("SIGINT", "3600"), ("SIGTERM", "3600")):
        ports = free_ports(2)
        workers = ",".join(f"127.0.0.1:{p}" for p in ports)
        args = [data, *TINY, "--out", "model", "--workers", workers, "--worker-index", "0"]
        folder = tmp_path / how
        folder.mkdir()
        proc = subprocess.Popen(
            [sys.executable, "-m", "textgen_export", "train", *map(str, args), "--worker-timeout", timeout],
            cwd=folder,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        runs[how] = (proc, ports[0], folder)
    try:
        for how in ("SIGINT", "SIGTERM"):  # signal each once it waits: its own port is open by then
            proc, port, _ = runs[how]
            deadline = time.monotonic() + 240
            while not listening(port):
                assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
                time.sleep(0.2)
            time.sleep(1)
            proc.send_signal(getattr(signal, how))
        results = {how: proc.communicate(timeout=300) for how, (proc, _, _) in runs.items()}
    finally:
        for proc, _, _ in runs.values():
            proc.kill()
    expected = {"deadline": 2, "SIGINT": 130, "SIGTERM": 128 + signal.SIGTERM}
    for how, (_, err) in results.items():
        proc, _, folder = runs[how]
        assert proc.returncode == expected[how], (how, err)
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, (how, err)
        assert not (folder / "model").exists()
    assert "did not join within 20 s" in results["deadline"][1]
    assert "terminated while waiting" in results["SIGTERM"][1]
    assert "interrupted" in results["SIGINT"][1]


# -- one machine, several devices (--multi-gpu) --------------------------------------------------------


@pytest.fixture(scope="module")
def labelled(tmp_path_factory) -> Path:
    """A two-column CSV (text, context label) for textgenrnn's contextual training."""
    rng = random.Random(2)
    words = "the quick brown fox jumps over lazy dog and cat sat on mat".split()
    path = tmp_path_factory.mktemp("data") / "labelled.csv"
    rows = [f"{' '.join(rng.choice(words) for _ in range(8))},{i % 3}" for i in range(120)]
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["plain", "context+validation"])
def test_multi_gpu_on_two_logical_cpus_trains_what_one_device_trains(data, labelled, tmp_path, kind):
    args = ["--epochs", "2", "--batch-size", "64"]
    if kind != "plain":  # two outputs (weighted twice) and a held-out split evaluated on both replicas
        data = labelled
        args += ["--context", "--train-size", "0.9"]
    reference = one_process(data, tmp_path / "one", *args)
    out = tmp_path / "mirrored"
    result = subprocess.run(
        [sys.executable, "-c", LOGICAL_CPUS, "train", data, *TINY, *args, "--multi-gpu", "--out", out],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    metadata = json.loads((out / "metadata.json").read_text())
    assert (metadata["batch_size"], metadata["replicas"]) == (64, 2)
    assert max_difference(reference, out) < TOLERANCE
