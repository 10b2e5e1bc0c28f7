"""Which tf.distribute strategy trains, and this process's place in it.

- one process, one device: TensorFlow's default strategy;
- `--multi-gpu`: `MirroredStrategy` over this machine's GPUs (or its logical CPU devices when it has no GPU);
- several machines: `MultiWorkerMirroredStrategy`, configured the standard way by the `TF_CONFIG` environment
  variable (`--workers`/`--worker-index` only write that variable).

All three share one code path in the trainer: the global batch is `batch_size`, every replica trains on its own
slice of it (see tfdata.Shard) and Keras sums the replicas' gradients.

TensorFlow configures collective ops when its runtime starts, so `MultiWorkerMirroredStrategy` must exist
before the first TensorFlow op: the CLI asks for it before any model is loaded or built. (keras/backend.py
leaves its warm-up op out when TF_CONFIG is set, for this reason.) Nothing here imports TensorFlow at import
time: the CLI reads TF_CONFIG and answers argument errors first.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError

TF_CONFIG = "TF_CONFIG"
TASK_TYPES = ("chief", "worker")

_started = None  # the process-wide MultiWorkerMirroredStrategy, once created
DEFAULT_WAIT_SECONDS = 600.0
wait_seconds = DEFAULT_WAIT_SECONDS  # how long a worker waits for the others to join (the CLI sets it)


@dataclass(frozen=True)
class Cluster:
    """TF_CONFIG, checked: the addresses of the training tasks and this process's rank among them."""

    tasks: list[str]  # the chief first when TF_CONFIG names one, then the workers (TensorFlow's order)
    rank: int  # 0 is the chief: the task named "chief", else worker 0

    @property
    def size(self) -> int:
        return len(self.tasks)

    @property
    def is_chief(self) -> bool:
        return self.rank == 0


def address_problem(address) -> str | None:
    """What is wrong with a task address (None: it is host:port with a port from 1 to 65535)."""
    if not isinstance(address, str):
        return f"{address!r} is not a host:port string"
    host, _, port = address.strip().rpartition(":")
    if not host or not port.isascii() or not port.isdigit():
        return f"{address!r} is not host:port"
    if not 1 <= int(port) <= 65535:
        return f"{address!r} has port {int(port)}, outside 1 to 65535"
    return None


def tf_config_from_flags(workers: str, index: int | None) -> str:
    """`--workers host:port,host:port --worker-index I` → the TF_CONFIG JSON those flags stand for."""
    hosts = [h.strip() for h in workers.split(",") if h.strip()]
    problems = [p for p in map(address_problem, hosts) if p] or ([] if hosts else ["no address"])
    if problems:
        raise UserError(
            f"--workers: {problems[0]}; give every worker as host:port (port 1 to 65535), comma-separated, in "
            "the same order on every machine (e.g. --workers 10.0.0.1:12345,10.0.0.2:12345)"
        )
    if index is None or not 0 <= index < len(hosts):
        raise UserError(
            f"--worker-index must be this machine's position in --workers, 0 to {len(hosts) - 1} "
            "(0 is the chief: it writes --out)"
        )
    return json.dumps({"cluster": {"worker": hosts}, "task": {"type": "worker", "index": index}})


def read_cluster(environ=os.environ) -> Cluster | None:
    """The cluster TF_CONFIG describes, or None for a single process (no TF_CONFIG, or a cluster of one)."""
    raw = environ.get(TF_CONFIG, "").strip()
    if not raw:
        return None
    fix = "set TF_CONFIG as tf.distribute documents it, or unset it to train in one process"
    try:
        config = json.loads(raw)
        cluster, task = config["cluster"], config["task"]
        task_type, task_index = task["type"], task["index"]
        named = {kind: list(cluster.get(kind) or []) for kind in TASK_TYPES}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise UserError(f"TF_CONFIG is not valid JSON with 'cluster' and 'task' entries; {fix}") from None
    extra = sorted(set(cluster) - set(TASK_TYPES))
    if extra:
        raise UserError(f"TF_CONFIG names task types {extra}; training uses only 'chief' and 'worker'; {fix}")
    if len(named["chief"]) > 1:
        raise UserError(f"TF_CONFIG names {len(named['chief'])} chiefs; a cluster has at most one; {fix}")
    if task_type not in TASK_TYPES or isinstance(task_index, bool) or not isinstance(task_index, int):
        raise UserError(f"TF_CONFIG's task must be of type 'chief' or 'worker' with an integer index; {fix}")
    problems = [p for kind in TASK_TYPES for p in map(address_problem, named[kind]) if p]
    if problems:
        raise UserError(f"TF_CONFIG's cluster: {problems[0]}; {fix}")
    if not 0 <= task_index < len(named[task_type]):
        raise UserError(
            f"TF_CONFIG's task {task_type} {task_index} is not in its cluster "
            f"({len(named[task_type])} {task_type} address(es)); {fix}"
        )
    tasks = named["chief"] + named["worker"]
    if len(tasks) < 2:
        return None
    rank = task_index if task_type == "chief" else len(named["chief"]) + task_index
    return Cluster(tasks, rank)


def strategy(multi_gpu: bool = False):
    """The strategy to train under. With a TF_CONFIG cluster: the process's one MultiWorkerMirroredStrategy,
    created on the first call, which must come before anything runs a TensorFlow op."""
    global _started
    cluster = read_cluster()
    from ..keras.backend import tf

    if cluster is not None:
        if _started is None:
            wait_for_peers(cluster)
            _started = tf.distribute.MultiWorkerMirroredStrategy()
        return _started
    if multi_gpu:
        return tf.distribute.MirroredStrategy(devices=local_devices())
    return tf.distribute.get_strategy()


def wait_for_peers(cluster: Cluster) -> None:
    """Return once every other worker of `cluster` answers on its port; a UserError after `wait_seconds`.

    TensorFlow's own wait for the cluster to form holds the main thread in C++ without releasing the GIL,
    where no Python code runs: Ctrl-C and SIGTERM would be ignored and the wait would have no end. So each
    worker first listens on its own port (freed again before TensorFlow binds it) and waits here, in Python,
    until every other worker's port answers (its listener, or TensorFlow's server once it is past this
    point). Ctrl-C and SIGTERM end this wait (exit 130 and 143)."""
    others = [task for rank, task in enumerate(cluster.tasks) if rank != cluster.rank]
    port = int(cluster.tasks[cluster.rank].rpartition(":")[2])
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        listener = _listen(port)
        try:
            deadline = time.monotonic() + wait_seconds
            waiting = list(others)
            while waiting:
                waiting = [task for task in waiting if not _answers(task)]
                if waiting and time.monotonic() > deadline:
                    raise UserError(
                        f"the other workers ({', '.join(waiting)}) did not join within {wait_seconds:g} s; start "
                        "the same command on each of them with its own --worker-index (or raise --worker-timeout)"
                    )
                if waiting:
                    time.sleep(0.5)
        finally:
            if listener is not None:
                listener.close()
    finally:
        signal.signal(signal.SIGTERM, previous)


def _listen(port: int) -> socket.socket | None:
    """A listener on this worker's port, so the others see it waiting (None: TensorFlow will report a clash)."""
    try:
        if socket.has_dualstack_ipv6():
            return socket.create_server(("", port), family=socket.AF_INET6, dualstack_ipv6=True)
        return socket.create_server(("", port))
    except OSError as exc:
        raise UserError(
            f"cannot listen on this worker's port {port} ({exc.strerror}); give --workers a free port for it"
        ) from None


def _answers(task: str) -> bool:
    host, _, port = task.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=1.0):
            return True
    except OSError:
        return False


def _terminated(signo, frame) -> None:
    print("textgen-export train: terminated while waiting for the other workers to join", file=sys.stderr)
    raise SystemExit(128 + signo)


def local_devices() -> list[str]:
    """The devices `--multi-gpu` mirrors over: every GPU, or every logical CPU device when there is no GPU."""
    from ..keras.backend import tf

    gpus = tf.config.list_logical_devices("GPU")
    return [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]


def is_chief() -> bool:
    """Whether this process writes what the user sees (--out, checkpoints, samples)."""
    cluster = read_cluster()
    return cluster is None or cluster.is_chief


def private_dir(out: str | Path, rank: int) -> Path:
    """Where a non-chief worker keeps its resumable checkpoint: a folder of its own under the system temp
    directory, named for the run's --out and the worker's rank, so `--resume` on this machine finds it."""
    tag = hashlib.sha256(str(Path(out).resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"textgen-export-worker{rank}-{tag}"


def is_distributed(strategy) -> bool:
    """Whether `strategy` is one of ours (mirrored, one or several machines) rather than TF's default."""
    from ..keras.backend import tf

    return isinstance(strategy, tf.distribute.MirroredStrategy | tf.distribute.MultiWorkerMirroredStrategy)


def distributed_dataset(strategy, make):
    """`make(shard)` → the tf.data pipeline of one worker; under a strategy, one per worker via
    `distribute_datasets_from_function` (no auto-sharding: each pipeline takes its own slice of every batch)."""
    from .tfdata import Shard

    if not is_distributed(strategy):
        return make(None)
    replicas = strategy.num_replicas_in_sync

    def per_worker(context):
        local = replicas // context.num_input_pipelines
        return make(Shard(replicas, context.input_pipeline_id * local, local))

    return strategy.distribute_datasets_from_function(per_worker)


def is_worker_failure(exc: BaseException) -> bool:
    """Whether training stopped because a peer died or became unreachable (collectives fail, TF raises)."""
    from ..keras.backend import tf

    return isinstance(
        exc,
        tf.errors.UnavailableError
        | tf.errors.CancelledError
        | tf.errors.DeadlineExceededError
        | tf.errors.AbortedError
        | tf.errors.InternalError,
    )


def build_for_fit(strategy, model, signature) -> None:
    """Build the compiled model's loss and optimizer state from `signature` (TensorSpecs) before `fit`.

    Under a strategy, Keras 3.15's `fit`/`evaluate` first pull one batch from a fresh iterator to build this
    state (`_maybe_symbolic_build`): under MultiWorkerMirroredStrategy that fails (it all-reduces the whole
    nested batch: "Attempt to convert a value (PerReplica...)"), and everywhere it starts one extra pass of the
    generator, i.e. one extra shuffle, so the batches would differ from a one-process run's. Building from
    the signature instead reads no data.
    """
    if not is_distributed(strategy):
        return
    with strategy.scope():
        model._symbolic_build(data_batch=signature)
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None
    from ..keras.backend import tf

    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        # Keras 3.15 then reduces each step's logs with strategy.reduce("MEAN", scalar, axis=0), which fails
        # (tensorflow/tensorflow#72388); as vectors of one value the same reduction is their mean. Epoch and
        # validation figures do not depend on it: Keras reads them from the synchronised metrics.
        model.train_step = _logs_as_vectors(model.train_step)
        model.test_step = _logs_as_vectors(model.test_step)


def _logs_as_vectors(step):
    from ..keras.backend import tf

    def step_with_vector_logs(data):
        return {key: tf.reshape(value, [1]) for key, value in step(data).items()}

    return step_with_vector_logs


def check_agreement(strategy, run: dict) -> None:
    """Under MultiWorkerMirroredStrategy, fail on every worker unless all describe the same run (`run`: the
    options, data and epoch reached). Workers that disagree would train on different data or hang."""
    from ..keras.backend import tf

    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return
    digest = hashlib.sha256(json.dumps(run, sort_keys=True, default=str).encode()).digest()
    value = float(int.from_bytes(digest[:3], "big"))  # < 2^24: its square is exact in float64
    parts = strategy.run(lambda: tf.constant([value, value * value, 1.0], tf.float64))
    total, squares, count = strategy.reduce("SUM", parts, axis=None).numpy()
    if count * squares != total * total:
        raise UserError(
            "the workers disagree about this run (different FILE, flags or --seed, or, after --resume, "
            "checkpoints of different epochs): start every worker with the same command, only "
            "--worker-index differing"
        )
