"""One `textgen-export train` run: a new run or a resumed one, in one process or as one worker of a cluster.

The run's role decides what it writes. The chief (or the only process) holds the lock on --out, checks it,
keeps checkpoints in OUT/checkpoint/, prints samples and writes the final model. Any other worker of a cluster
writes nothing the user sees: it keeps the same resumable state in a private folder (distribute.private_dir),
so that `--resume` on its machine continues it.  TF-free at import: argument errors are answered first.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..contract.bundle import MAX_NAME_CHARS, check_label, one_line
from ..contract.config import ModelConfig
from ..contract.labels import ContextLabels
from ..errors import UserError
from ..files.lock import output_lock
from . import checkpoint, distribute
from .corpus import new_vocabulary
from .corpus_checks import corpus_warnings
from .data_file import DataFile
from .options import TrainOptions, keras_seed
from .out_dir import check_out, epoch_saver, write_model_dir
from .prepare import prepare

LOCK_WHAT = "training run"


@dataclass
class Request:
    """What the user asked for (the `train` command's arguments, checked by `TrainingRun`)."""

    data: DataFile | None  # None: --resume without FILE (the checkpoint says where it is)
    out: str | None
    options: TrainOptions
    source: str | None = None  # --from DIR
    new_model: bool = False
    architecture: dict = field(default_factory=dict)  # ModelConfig fields of a new model, as given
    name: str | None = None
    resume: str | None = None
    workers: str | None = None
    worker_index: int | None = None
    worker_timeout: float = distribute.DEFAULT_WAIT_SECONDS


@dataclass(frozen=True)
class Role:
    """This process's place: alone (cluster None), the chief of a cluster, or another worker."""

    cluster: distribute.Cluster | None

    @property
    def chief(self) -> bool:
        return self.cluster is None or self.cluster.is_chief

    def state_dir(self, out: Path) -> Path:
        """Where this process keeps its resumable checkpoint."""
        home = out if self.chief else distribute.private_dir(out, self.cluster.rank)
        return home / checkpoint.DIRNAME

    def quiet(self, options: TrainOptions) -> None:
        if not self.chief:
            options.verbose = 0  # the chief reports progress


def join_cluster(request: Request) -> Role:
    """--workers/--worker-index → TF_CONFIG; then the role TF_CONFIG gives this process."""
    if request.worker_index is not None and not request.workers:
        raise UserError("--worker-index needs --workers (every worker's host:port)")
    if not 0 < request.worker_timeout < math.inf:
        raise UserError(f"--worker-timeout must be a number of seconds above 0, got {request.worker_timeout}")
    distribute.wait_seconds = request.worker_timeout
    if request.workers:
        os.environ[distribute.TF_CONFIG] = distribute.tf_config_from_flags(
            request.workers, request.worker_index
        )
    return Role(distribute.read_cluster())


class TrainingRun:
    """`run()` trains and writes the model directory; returns the exit status."""

    def __init__(self, request: Request):
        self.request = request

    def run(self) -> int:
        return self.resume() if self.request.resume else self.start()

    # -- a new run ----------------------------------------------------------------------------------------
    def start(self) -> int:
        request = self.request
        if request.data is None:
            raise UserError("give the training FILE (or --resume DIR to continue an interrupted run)")
        if request.out is None:
            raise UserError("give --out DIR, the model directory to write")
        out = Path(request.out).resolve()
        request.options.check()
        if request.data.context and request.data.largetext:
            raise UserError(
                "--context and --largetext cannot be combined (a large text has no per-text labels)"
            )
        if request.new_model and request.source:
            raise UserError("give either --new-model or --from DIR, not both")
        name = check_label(request.name, "--name", MAX_NAME_CHARS) if request.name is not None else None
        role = join_cluster(request)
        if role.cluster is not None and request.options.seed is None:
            raise UserError(
                "training on several workers needs --seed N, the same on every worker (they must draw the same "
                "initial weights and shuffle the data alike)"
            )
        if role.cluster is not None:
            distribute.strategy()  # MultiWorkerMirroredStrategy: before any model is loaded or built (any TF op)
        if not role.chief:  # writes nothing the user sees: no lock, no --out check
            role.quiet(request.options)
            # a new run: this worker's private checkpoint of an earlier run is stale
            shutil.rmtree(role.state_dir(out).parent, ignore_errors=True)
            return self._start_training(role, out, name)
        with output_lock(out, LOCK_WHAT):
            check_out(out, request.data.path, request.options)
            return self._start_training(role, out, name)

    def _start_training(self, role: Role, out: Path, name: str | None) -> int:
        request, data = self.request, self.request.data
        texts, labels = data.read()
        fingerprint = data.fingerprint()
        model, vocab, config, head = self._starting_model(texts)
        config = config.replace(name=name or one_line(Path(data.path).stem) or "textgen")
        for line in corpus_warnings(
            texts, vocab, not request.new_model, request.new_model and config.word_level
        ):
            print(line, file=sys.stderr)
        single_text = True if data.largetext else None
        prepared = prepare(texts, vocab, config, request.options, labels, single_text, head)
        del texts  # the corpus holds the text as token ids now; a 100 MB text need not stay in memory twice
        request.options.extra = {
            "trained_from": "new model" if request.new_model else (request.source or "pretrained textgenrnn"),
            "training_file": str(Path(data.path).resolve()),
        }
        record = {"file": fingerprint, "read": data.read_flags()}
        self._train_and_write(role, out, model, vocab, config, prepared, record, head=head)
        return 0

    def _starting_model(self, texts):
        """(keras model, vocabulary, config, context labels) to start from: --from DIR (with its context head
        and labels, if it has one), the pretrained model or a new one."""
        from ..keras.model_dir import load_source, read_labels

        request = self.request
        if request.source:
            return (*load_source(model_dir=request.source), read_labels(request.source))
        if not request.new_model:
            return (*load_source(), None)
        config = ModelConfig(**request.architecture)
        vocab = new_vocabulary(texts, config)
        return new_model(config, vocab, request.options.seed), vocab, config, None

    # -- a resumed run -------------------------------------------------------------------------------------
    def resume(self) -> int:
        """`train --resume DIR`: the checkpoint supplies the model, vocab, options and where FILE is."""
        request = self.request
        role = join_cluster(request)
        if role.chief:
            root = checkpoint.locate(request.resume)
            out = root.parent
        else:  # this worker's own copy of the run's state
            out = Path(request.resume).resolve()
            out = out.parent if out.name == checkpoint.DIRNAME else out
            root = role.state_dir(out)
            if not (root / checkpoint.LATEST).is_file():
                raise UserError(
                    f"--resume {out}: this worker (rank {role.cluster.rank}) kept no checkpoint for that run; "
                    "give the same --out path the run was started with, on the same machine"
                )
        if request.out is not None and Path(request.out).resolve() != out:
            raise UserError(f"--resume continues in {out}; drop --out (or give that same directory)")
        if role.cluster is not None:
            distribute.strategy()  # MultiWorkerMirroredStrategy: before the model is built (any TF op)
        if not role.chief:  # writes only its private copy: no lock on --out
            return self._resume_training(role, root, out)
        with output_lock(out, LOCK_WHAT):
            return self._resume_training(role, root, out)

    def _resume_training(self, role: Role, root: Path, out: Path) -> int:
        given = self.request.data
        state = checkpoint.load(root)
        record = state.run
        if not isinstance(record.get("file"), dict) or not isinstance(record.get("read"), dict):
            raise UserError(
                f"the checkpoint in {root} was not written by `textgen-export train`; it cannot resume here"
            )
        data = DataFile.from_record(given.path if given else record["file"]["path"], record["read"])
        data.check_unchanged(record["file"], given=given is not None)
        if given is not None:  # the same data at a new path: record where it is now
            data.path = str(Path(data.path).resolve())
            record = {**record, "file": {**record["file"], "path": data.path}}
            extra = {**state.options.get("extra", {}), "training_file": data.path}
            state.options = {**state.options, "extra": extra}
        try:
            options = TrainOptions(**{**state.options, "verbose": self.request.options.verbose})
            options.check()
        except (TypeError, UserError) as exc:
            raise UserError(
                f"the checkpoint in {state.path} has unusable training options ({exc}); delete it"
            ) from None
        total = options.num_epochs
        print(
            f"resuming {out} after epoch {state.epoch} of {total} (checkpoint {state.path})", file=sys.stderr
        )
        role.quiet(options)
        texts, labels = data.read()
        model = new_model(state.config, state.vocab)
        order = state.history.get("context_labels")  # the head's label order when the run began
        head = ContextLabels(order) if order else None
        prepared = prepare(
            texts, state.vocab, state.config, options, labels, True if data.largetext else None, head
        )
        del texts
        self._train_and_write(role, out, model, state.vocab, state.config, prepared, record, options, state)
        return 0

    # -- both ----------------------------------------------------------------------------------------------
    def _train_and_write(
        self, role, out, model, vocab, config, prepared, record, options=None, state=None, head=None
    ):
        from .trainer import train

        options = options or self.request.options
        folder = role.state_dir(out)
        out_existed = out.exists()
        try:
            trained = train(
                model,
                vocab,
                config,
                options=options,
                prepared=prepared,
                save=epoch_saver(out, vocab, config, prepared.labels) if role.chief else None,
                checkpoints=folder,
                run=record,
                resume=state,
                labels=head,
            )
        except KeyboardInterrupt:
            if (folder / checkpoint.LATEST).is_file():
                print(
                    f"the last completed epoch is saved in {folder}; continue with: textgen-export train --resume {out}",
                    file=sys.stderr,
                )
            else:
                discard_unfinished(folder, out, out_existed)
            raise
        except Exception as exc:
            if role.cluster is None or not distribute.is_worker_failure(exc):
                discard_unfinished(folder, out, out_existed)
                raise
            raise UserError(
                f"training stopped: a worker failed or could not be reached ({type(exc).__name__}); "
                f"rerun every worker with --resume {out} to continue from the last completed epoch"
            ) from exc
        if not role.chief:
            shutil.rmtree(folder.parent, ignore_errors=True)
            print(f"worker done; the chief writes {out}", file=sys.stderr)
            return
        write_model_dir(
            out, trained.model, vocab, config, trained.metadata, trained.labels
        )  # checkpoint included
        final = trained.metadata.get("final_validation_bits_per_token")
        # the progress bar's unit (nats per token), as every other line of the run; metadata.json keeps bits
        figure = f"; validation loss {final * math.log(2):.4f}" if final is not None else ""
        head_loss = trained.metadata.get("final_context_validation_bits_per_token")
        if head_loss is not None:  # the same held-out texts through the context head, each fed its own labels
            figure += f" (text path), {head_loss * math.log(2):.4f} (context head with each text's labels)"
        print(f"wrote {out}{figure}", file=sys.stderr)


def discard_unfinished(folder: Path, out: Path, out_existed: bool) -> None:
    """A run that failed before its first checkpoint was complete (a full disk, an error) leaves nothing that
    could block the next run: its partial checkpoint folder goes, and --out too if this run created it."""
    if folder.is_dir() and not (folder / checkpoint.LATEST).is_file():
        shutil.rmtree(folder, ignore_errors=True)
        if not out_existed:
            with contextlib.suppress(OSError):
                out.rmdir()  # only if empty


def new_model(config: ModelConfig, vocab, seed: int | None = None):
    """A fresh keras model; with `seed`, its initial weights are reproducible (set before it is built)."""
    from ..keras.backend import keras
    from ..keras.network import build_model

    if seed is not None:
        keras.utils.set_random_seed(keras_seed(seed))
    return build_model(config, vocab.num_classes)
