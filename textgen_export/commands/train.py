"""textgen-export train: fine-tune the pretrained model (or train a new one) on a text file → model directory.

Crash-safe: after every epoch a resumable checkpoint (weights, optimiser state, epoch, vocab, config, options,
RNG state) goes to OUT/checkpoint/; `train --resume OUT` continues an interrupted run from its next epoch.
"""

from __future__ import annotations

import argparse
import sys

from ..errors import UserError
from ..training import distribute
from ..training.data_file import READ_FLAGS, DataFile
from ..training.options import TrainOptions
from ..training.run import Request, TrainingRun

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
    several.add_argument(
        "--worker-timeout",
        type=float,
        default=distribute.DEFAULT_WAIT_SECONDS,
        metavar="SECONDS",
        help=f"how long to wait for every worker to join (default {distribute.DEFAULT_WAIT_SECONDS:g})",
    )


def run(args):
    if args.resume:
        reject_flags_with_resume(args)
    else:
        check_new_model_flags(args)
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
    architecture = {k: getattr(args, k) for k in ARCHITECTURE if getattr(args, k) is not None}
    architecture.update(rnn_bidirectional=args.bidirectional, word_level=args.word_level)
    architecture.update(single_text=args.largetext, name=args.name or "textgen")
    request = Request(
        data=DataFile(args.file, **{k: getattr(args, k) for k in READ_FLAGS})
        if args.file is not None
        else None,
        out=args.out,
        options=options,
        source=args.source,
        new_model=args.new_model,
        architecture=architecture,
        name=args.name,
        resume=args.resume,
        workers=args.workers,
        worker_index=args.worker_index,
        worker_timeout=args.worker_timeout,
    )
    return TrainingRun(request).run()


def check_new_model_flags(args) -> None:
    """Architecture flags shape a new model; a fine-tuned model keeps its shape, so they are an error there."""
    given = [k for k in ARCHITECTURE if getattr(args, k) is not None]
    if not args.new_model and (given or args.word_level or args.bidirectional):
        flags = [f"--{k.replace('_', '-')}" for k in given] + ["--word-level"] * args.word_level
        flags += ["--bidirectional"] * args.bidirectional
        raise UserError(f"{' '.join(flags)} only apply with --new-model (a fine-tuned model keeps its shape)")


def reject_flags_with_resume(args) -> None:
    """--resume takes the options the run started with; a flag given now would silently differ, so refuse it."""

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    defaults = vars(parser.parse_args([]))
    given = [
        "--" + key.replace("_", "-") if key != "source" else "--from"
        for key, default in defaults.items()
        if key not in ("file", "out", "resume", "workers", "worker_index", "worker_timeout")
        and getattr(args, key, default) != default
    ]
    if given:
        raise UserError(
            f"--resume continues with the options the run started with; drop {' '.join(given)} "
            "(to change them, start a new run without --resume)"
        )
