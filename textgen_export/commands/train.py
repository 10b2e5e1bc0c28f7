"""textgen-export train: fine-tune the pretrained model (or train a new one) on a text file → model directory.

Crash-safe: after every epoch a resumable checkpoint (weights, optimiser state, epoch, vocab, config, options,
RNG state) goes to OUT/checkpoint/; `train --resume OUT` continues an interrupted run from its next epoch.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
from pathlib import Path

from ..contract.bundle import MAX_NAME_CHARS, check_label, one_line
from ..contract.config import ModelConfig
from ..contract.labels import ContextLabels
from ..errors import MissingFileError, UserError
from ..files.atomic import atomic_directory, recover_directory
from ..files.checksums import sha256_file
from ..files.lock import output_lock
from ..files.ownership import check_replaceable
from ..keras.model_dir import check_model_dir_owned, save_model_dir
from ..training import checkpoint, distribute
from ..training.corpus import new_vocabulary
from ..training.options import TrainOptions
from ..training.prepare import prepare
from ..training.texts import read_context_texts, read_largetext, read_texts

NAME = "train"
HELP = "train on a text file (fine-tunes the pretrained model unless --new-model) and write a model directory"
EXAMPLE = "textgen-export train corpus.txt --epochs 5 --train-size 0.9 --out my_model/"
NEEDS_TENSORFLOW = True
CHECKPOINTS = """\
After every epoch, training keeps a checkpoint in OUT/checkpoint/ (weights, optimiser state,
epoch, vocab, config, options, RNG state), written atomically: a crash or kill leaves the
previous one whole. It is removed once the final model is written. If a run dies, continue
it with `textgen-export train --resume OUT`."""
RESUME_HELP = (
    "continue an interrupted run from the epoch after its last checkpoint, with the same options and FILE; "
    "DIR is the run's --out directory (or DIR/checkpoint/). Give FILE only if it moved (it must be unchanged)"
)

SEVERAL_MACHINES = """\
When TF_CONFIG describes a cluster, training runs on all of its workers at once
(MultiWorkerMirroredStrategy); --workers/--worker-index only write that TF_CONFIG. Start the same
command on every machine, each with its own index, the same FILE and the same --seed. Only the chief
(index 0) writes --out, checkpoints and samples. If a worker dies, the others stop; rerun every
worker with --resume OUT (the chief's --out)."""

# Architecture options only make sense for a new model; None means "not given".
ARCHITECTURE = ("rnn_layers", "rnn_size", "max_length", "max_words", "dim_embeddings")


def add_arguments(parser):
    parser.add_argument(
        "file", metavar="FILE", nargs="?", help="UTF-8 text, one training text per line (omit with --resume)"
    )
    data = parser.add_argument_group("input")
    data.add_argument("--header", action="store_true", help="skip the first line (a header)")
    data.add_argument("--csv", action="store_true", help="FILE is a CSV; train on its first column")
    data.add_argument(
        "--context",
        action="store_true",
        help="FILE is a two-column CSV: text, context label(s) (`a|b`: several); the model keeps its context "
        "head (generate --context LABEL)",
    )
    data.add_argument("--largetext", action="store_true", help="FILE is one long text (single_text mode)")
    src = parser.add_argument_group("model (default: fine-tune textgenrnn's pretrained weights)")
    src.add_argument("--from", dest="source", metavar="DIR", help="fine-tune this model directory instead")
    src.add_argument("--new-model", action="store_true", help="train a new model with a new vocabulary")
    src.add_argument("--word-level", action="store_true", help="new model: words instead of characters")
    src.add_argument("--bidirectional", action="store_true", help="new model: bidirectional LSTMs")
    src.add_argument("--rnn-layers", type=int, help="new model: LSTM layers (default 2)")
    src.add_argument("--rnn-size", type=int, help="new model: LSTM units (default 128)")
    src.add_argument("--max-length", type=int, help="new model: window length in tokens (default 40)")
    src.add_argument("--max-words", type=int, help="new model: vocabulary size cap (default 10000)")
    src.add_argument("--dim-embeddings", type=int, help="new model: embedding size (default 100)")
    fit = parser.add_argument_group("training")
    fit.add_argument("--epochs", type=int, default=10, help="epochs (default 10)")
    fit.add_argument(
        "--batch-size",
        type=int,
        default=128,
        help="global batch size (default 128); with --multi-gpu or several workers each replica trains on "
        "batch size / replicas, so results match one process",
    )
    fit.add_argument("--dropout", type=float, default=0.0, help="embedding dropout (default 0)")
    fit.add_argument(
        "--train-size",
        type=float,
        default=1.0,
        help="fraction to train on; the rest measures the validation loss",
    )
    fit.add_argument("--patience", type=int, default=0, help="stop after N epochs without validation gain")
    fit.add_argument("--gen-epochs", type=int, default=1, help="print samples every N epochs (0 = never)")
    fit.add_argument("--save-epochs", type=int, default=0, help="also write OUT_epochN/ every N epochs")
    fit.add_argument(
        "--steps-per-epoch",
        type=int,
        default=None,
        metavar="N",
        help="an epoch is N batches (data repeats; for very large texts) instead of one pass",
    )
    fit.add_argument("--multi-gpu", action="store_true", help="train on all GPUs (MirroredStrategy)")
    fit.add_argument("--seed", type=int, default=None, help="seed for shuffling and initial weights")
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="model directory to write (required; training checkpoints: DIR/checkpoint/)",
    )
    parser.add_argument(
        "--name",
        help="the model's name, shown by `export`ed bundles (default: FILE's name without extension)",
    )
    safe = parser.add_argument_group("crash safety", CHECKPOINTS)
    safe.add_argument("--resume", metavar="DIR", help=RESUME_HELP)
    several = parser.add_argument_group("several machines (tf.distribute)", SEVERAL_MACHINES)
    several.add_argument(
        "--workers", metavar="HOST:PORT,...", help="every worker's address, the same list on every machine"
    )
    several.add_argument(
        "--worker-index", type=int, metavar="I", help="this machine's position in --workers (0: the chief)"
    )


def run(args):
    if args.resume:
        return resume(args)
    if args.file is None:
        raise UserError("give the training FILE (or --resume DIR to continue an interrupted run)")
    if args.out is None:
        raise UserError("give --out DIR, the model directory to write")
    out = Path(args.out).resolve()
    options = TrainOptions(
        num_epochs=args.epochs,
        batch_size=args.batch_size,
        gen_epochs=args.gen_epochs,
        train_size=args.train_size,
        dropout=args.dropout,
        save_epochs=args.save_epochs,
        multi_gpu=args.multi_gpu,
        patience=args.patience,
        seed=args.seed,
        steps_per_epoch=args.steps_per_epoch,
        verbose=1 if sys.stdout.isatty() else 2,
    )
    options.check()
    if args.context and args.largetext:
        raise UserError("--context and --largetext cannot be combined (a large text has no per-text labels)")
    given = {k: getattr(args, k) for k in ARCHITECTURE if getattr(args, k) is not None}
    if not args.new_model and (given or args.word_level or args.bidirectional):
        flags = [f"--{k.replace('_', '-')}" for k in given] + ["--word-level"] * args.word_level
        flags += ["--bidirectional"] * args.bidirectional
        raise UserError(f"{' '.join(flags)} only apply with --new-model (a fine-tuned model keeps its shape)")
    if args.new_model and args.source:
        raise UserError("give either --new-model or --from DIR, not both")
    name = check_label(args.name, "--name", MAX_NAME_CHARS) if args.name is not None else None
    cluster = join_cluster(args)
    if cluster is not None and args.seed is None:
        raise UserError(
            "training on several workers needs --seed N, the same on every worker (they must draw the same "
            "initial weights and shuffle the data alike)"
        )
    if cluster is not None:
        distribute.strategy()  # MultiWorkerMirroredStrategy: before any model is loaded or built (any TF op)
    if cluster is not None and not cluster.is_chief:  # writes nothing the user sees: no lock, no --out check
        options.verbose = 0  # the chief reports progress
        # a new run: this worker's private checkpoint of an earlier run (see train_and_write) is stale
        shutil.rmtree(distribute.private_dir(out, cluster.rank), ignore_errors=True)
        return train_new(args, given, options, out, name)
    with output_lock(out, "training run"):
        check_out(out, args.file, options)
        return train_new(args, given, options, out, name)


def train_new(args, given, options, out, name: str | None) -> int:
    texts, labels = read_input(args)
    fingerprint = file_fingerprint(args.file)
    textgen = load_textgen(args, given, texts)
    textgen.config = textgen.config.replace(name=name or one_line(Path(args.file).stem) or "textgen")
    single_text = True if args.largetext else None
    prepared = prepare(
        texts, textgen.vocab, textgen.config, options, labels, single_text, textgen.head_labels()
    )
    del texts  # the corpus holds the text as token ids now; a 100 MB text need not stay in memory twice
    options.extra = {
        "trained_from": "new model" if args.new_model else (args.source or "pretrained textgenrnn"),
        "training_file": str(Path(args.file).resolve()),
    }
    run_record = {"file": fingerprint, "read": {k: getattr(args, k) for k in READ_FLAGS}}
    train_and_write(textgen, options, prepared, out, run_record)
    return 0


# How FILE is read: recorded in the checkpoint, so --resume reads it the same way.
READ_FLAGS = ("header", "csv", "context", "largetext")


def train_and_write(textgen, options, prepared, out, run_record, state=None) -> None:
    cluster = distribute.read_cluster()
    chief = cluster is None or cluster.is_chief
    # A non-chief worker keeps the same resumable state as the chief, out of the user's sight.
    folder = (out if chief else distribute.private_dir(out, cluster.rank)) / checkpoint.DIRNAME
    try:
        textgen.train(
            options=options,
            prepared=prepared,
            save=checkpoint_saver(textgen, out, prepared.labels) if chief else None,
            checkpoints=folder,
            run=run_record,
            resume=state,
        )
    except KeyboardInterrupt:
        if (folder / checkpoint.LATEST).is_file():
            print(
                f"the last completed epoch is saved in {folder}; continue with: textgen-export train --resume {out}",
                file=sys.stderr,
            )
        raise
    except Exception as exc:
        if cluster is None or not distribute.is_worker_failure(exc):
            raise
        raise UserError(
            f"training stopped: a worker failed or could not be reached ({type(exc).__name__}); "
            f"rerun every worker with --resume {out} to continue from the last completed epoch"
        ) from exc
    if not chief:
        shutil.rmtree(folder.parent, ignore_errors=True)
        print(f"worker done; the chief writes {out}", file=sys.stderr)
        return
    write_model_dir(textgen, out)  # replaces OUT as a whole, checkpoint included
    final = textgen.metadata.get("final_validation_bits_per_token")
    # the progress bar's unit (nats per token), as every other line of the run; metadata.json keeps bits
    figure = f"; validation loss {final * math.log(2):.4f}" if final is not None else ""
    head = textgen.metadata.get("final_context_validation_bits_per_token")
    if head is not None:  # the same held-out texts through the context head, each fed its own labels
        figure += f" (text path), {head * math.log(2):.4f} (context head with each text's labels)"
    print(f"wrote {out}{figure}", file=sys.stderr)


def resume(args) -> int:
    """`train --resume DIR`: the checkpoint supplies the model, vocab, options and where FILE is."""

    reject_flags_with_resume(args)
    cluster = join_cluster(args)
    if cluster is None or cluster.is_chief:
        root = checkpoint.locate(args.resume)
        out = root.parent
    else:  # this worker's own copy of the run's state (see train_and_write)
        out = Path(args.resume).resolve()
        out = out.parent if out.name == checkpoint.DIRNAME else out
        root = distribute.private_dir(out, cluster.rank) / checkpoint.DIRNAME
        if not (root / checkpoint.LATEST).is_file():
            raise UserError(
                f"--resume {out}: this worker (rank {cluster.rank}) kept no checkpoint for that run; give the "
                "same --out path the run was started with, on the same machine"
            )
    if args.out is not None and Path(args.out).resolve() != out:
        raise UserError(f"--resume continues in {out}; drop --out (or give that same directory)")
    if cluster is not None and not cluster.is_chief:  # writes only its private copy: no lock on --out
        return resume_locked(args, root, out, cluster)
    with output_lock(out, "training run"):
        return resume_locked(args, root, out, cluster)


def resume_locked(args, root, out, cluster) -> int:
    from ..api.textgen import TextGen

    state = checkpoint.load(root)
    record = state.run
    if not isinstance(record.get("file"), dict) or not isinstance(record.get("read"), dict):
        raise UserError(
            f"the checkpoint in {root} was not written by `textgen-export train`; it cannot resume here"
        )
    path = args.file or record["file"]["path"]
    check_unchanged(path, record["file"], given=args.file is not None)
    if args.file is not None:  # the same data at a new path: record where it is now
        path = str(Path(path).resolve())
        record = {**record, "file": {**record["file"], "path": path}}
        extra = {**state.options.get("extra", {}), "training_file": path}
        state.options = {**state.options, "extra": extra}
    read = argparse.Namespace(file=path, **{k: bool(record["read"].get(k)) for k in READ_FLAGS})
    try:
        options = TrainOptions(**{**state.options, "verbose": 1 if sys.stdout.isatty() else 2})
        options.check()
    except (TypeError, UserError) as exc:
        raise UserError(
            f"the checkpoint in {state.path} has unusable training options ({exc}); delete it"
        ) from None
    total = options.num_epochs
    print(f"resuming {out} after epoch {state.epoch} of {total} (checkpoint {state.path})", file=sys.stderr)
    if cluster is not None and not cluster.is_chief:
        options.verbose = 0
    if cluster is not None:
        distribute.strategy()  # MultiWorkerMirroredStrategy: before the model is built (any TF op)
    texts, labels = read_input(read)
    textgen = TextGen.new(state.config, state.vocab, dropout=0.0)
    order = state.history.get("context_labels")  # the head's label order when the run began
    prepared = prepare(
        texts,
        textgen.vocab,
        textgen.config,
        options,
        labels,
        True if read.largetext else None,
        ContextLabels(order) if order else None,
    )
    del texts
    train_and_write(textgen, options, prepared, out, record, state=state)
    return 0


def reject_flags_with_resume(args) -> None:
    """--resume takes the options the run started with; a flag given now would silently differ, so refuse it."""

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    defaults = vars(parser.parse_args([]))
    given = [
        "--" + key.replace("_", "-") if key != "source" else "--from"
        for key, default in defaults.items()
        if key not in ("file", "out", "resume", "workers", "worker_index")
        and getattr(args, key, default) != default
    ]
    if given:
        raise UserError(
            f"--resume continues with the options the run started with; drop {' '.join(given)} "
            "(to change them, start a new run without --resume)"
        )


def join_cluster(args):
    """--workers/--worker-index → TF_CONFIG; then the cluster TF_CONFIG describes (None: one process)."""
    if args.worker_index is not None and not args.workers:
        raise UserError("--worker-index needs --workers (every worker's host:port)")
    if args.workers:
        os.environ[distribute.TF_CONFIG] = distribute.tf_config_from_flags(args.workers, args.worker_index)
    return distribute.read_cluster()


def file_fingerprint(path) -> dict:
    """Path, size and sha256 of the training file: --resume refuses a file that changed meanwhile."""

    path = Path(path).resolve()
    try:
        digest = sha256_file(path)
    except FileNotFoundError:
        raise MissingFileError(f"training file not found: {path}") from None
    except OSError as exc:
        raise UserError(f"cannot read training file {path}: {exc.strerror}") from None
    return {"path": str(path), "size": path.stat().st_size, "sha256": digest}


def check_unchanged(path, recorded: dict, given: bool) -> None:
    if not Path(path).is_file():
        raise UserError(
            f"the training file of the interrupted run, {path}, is gone; put it back "
            "(or give its new path: textgen-export train FILE --resume DIR)"
        )
    now = file_fingerprint(path)
    if now["sha256"] != recorded.get("sha256"):
        where = "the FILE given" if given else "the training file"
        raise UserError(
            f"{where} {now['path']} differs from the one the interrupted run trained on (sha256 changed); "
            "restore the original, or start a new run without --resume"
        )


def check_out(out, file, options) -> None:
    """Fail before training, not after: the directory is replaced as a whole, so it must be ours to replace."""

    recover_directory(out)
    if Path(file).resolve().is_relative_to(out):
        raise UserError(
            f"the training file {file} is inside --out {out}, which is replaced as a whole; "
            "choose another --out (or move the file)"
        )
    saved = out / checkpoint.DIRNAME
    if saved.exists() and not (saved / checkpoint.LATEST).exists():
        raise UserError(
            f"--out {out} holds an incomplete checkpoint (a run died during its first epoch); "
            f"delete {saved} to start over"
        )
    if saved.exists():
        raise UserError(
            f"--out {out} holds the checkpoint of an interrupted run; continue it with "
            f"`textgen-export train --resume {out}`, or delete {saved} to start over"
        )
    check_replaceable(out, "model directory", check_model_dir_owned)
    if options.save_epochs:  # OUT_epochN/ (none after the last epoch) are replaced too: check them now
        for epoch in range(options.save_epochs, options.num_epochs, options.save_epochs):
            check_replaceable(epoch_dir(out, epoch), "model directory", check_model_dir_owned)


def read_input(args):
    if args.context:
        return read_context_texts(args.file, header=args.header)
    if args.largetext:
        return [read_largetext(args.file)], None
    return read_texts(args.file, header=args.header, is_csv=args.csv), None


def load_textgen(args, given: dict, texts):
    from ..api.textgen import TextGen

    if args.source:
        return TextGen.load(args.source)
    if not args.new_model:
        return TextGen.pretrained()

    config = ModelConfig(
        **given,
        rnn_bidirectional=args.bidirectional,
        word_level=args.word_level,
        single_text=args.largetext,
        name=Path(args.out).name or "textgen",
    )
    return TextGen.new(config, new_vocabulary(texts, config), seed=args.seed)


def write_model_dir(textgen, out) -> None:
    """The whole directory appears at once (or not at all): a crash never leaves half a model."""
    with atomic_directory(out, owned=check_model_dir_owned) as tmp:
        textgen.save(tmp)  # the context head and its labels too, when the model has one


def epoch_dir(out, epoch: int) -> Path:
    return out.with_name(f"{out.name}_epoch{epoch}")


def checkpoint_saver(textgen, out, labels=None):
    from ..keras.network import context_size

    def save(epoch, model, checkpoint):
        if checkpoint:
            head = labels if context_size(model) is not None else None
            with atomic_directory(epoch_dir(out, epoch), owned=check_model_dir_owned) as tmp:
                save_model_dir(tmp, model, textgen.vocab, textgen.config, {"epoch": epoch}, head)

    return save
