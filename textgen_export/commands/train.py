"""textgen-export train: fine-tune the pretrained model (or train a new one) on a text file → model directory."""

from __future__ import annotations

import sys

NAME = "train"
HELP = "train on a text file (fine-tunes the pretrained model unless --new-model) and write a model directory"
EXAMPLE = "textgen-export train corpus.txt --epochs 5 --train-size 0.9 --out my_model/"

# Architecture options only make sense for a new model; None means "not given".
ARCHITECTURE = ("rnn_layers", "rnn_size", "max_length", "max_words", "dim_embeddings")


def add_arguments(parser):
    parser.add_argument("file", metavar="FILE", help="UTF-8 text, one training text per line")
    data = parser.add_argument_group("input")
    data.add_argument("--header", action="store_true", help="skip the first line (a header)")
    data.add_argument("--csv", action="store_true", help="FILE is a CSV; train on its first column")
    data.add_argument("--context", action="store_true", help="FILE is a two-column CSV: text, context label")
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
    fit.add_argument("--batch-size", type=int, default=128, help="batch size per device (default 128)")
    fit.add_argument("--dropout", type=float, default=0.0, help="embedding dropout (default 0)")
    fit.add_argument(
        "--train-size", type=float, default=1.0, help="fraction to train on; the rest measures bits per token"
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
    parser.add_argument("--out", required=True, metavar="DIR", help="model directory to write")


def run(args):
    from pathlib import Path

    from ..errors import UserError
    from ..training.trainer import TrainOptions

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
    check_out(out)
    texts, labels = read_input(args)
    textgen = load_textgen(args, given, texts)
    from ..training.trainer import prepare, train

    single_text = True if args.largetext else None
    prepared = prepare(texts, textgen.vocab, textgen.config, options, labels, single_text)
    del texts  # the corpus holds the text as token ids now; a 100 MB text need not stay in memory twice
    options.extra = {
        "trained_from": "new model" if args.new_model else (args.source or "pretrained textgenrnn"),
        "training_file": str(Path(args.file).resolve()),
    }
    train(textgen, options=options, prepared=prepared, save=checkpoint_saver(textgen, out))
    write_model_dir(textgen, out)
    final = textgen.metadata.get("final_validation_bits_per_token")
    figure = f"; validation {final:.4f} bits per token" if final is not None else ""
    print(f"wrote {out}{figure}", file=sys.stderr)
    return 0


def check_out(out) -> None:
    """Fail before training, not after: the directory is replaced as a whole, so it must be ours to replace."""
    from ..atomic import check_writable_parent
    from ..errors import UserError

    check_writable_parent(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} exists and is not a directory; choose another path")
    if out.is_dir() and any(out.iterdir()) and not (out / "config.json").is_file():
        raise UserError(
            f"--out {out} is a non-empty directory that is not a model directory; "
            "choose a new path (it would be replaced as a whole)"
        )


def read_input(args):
    from ..training.texts import read_context_texts, read_largetext, read_texts

    if args.context:
        return read_context_texts(args.file, header=args.header)
    if args.largetext:
        return [read_largetext(args.file)], None
    return read_texts(args.file, header=args.header, is_csv=args.csv), None


def load_textgen(args, given: dict, texts):
    from ..config import ModelConfig
    from ..textgen import TextGen

    if args.source:
        return TextGen.load(args.source)
    if not args.new_model:
        return TextGen.pretrained()
    from ..training.corpus import new_vocabulary

    config = ModelConfig(
        **given,
        rnn_bidirectional=args.bidirectional,
        word_level=args.word_level,
        single_text=args.largetext,
        name=__import__("pathlib").Path(args.out).name or "textgen",
    )
    return TextGen.new(config, new_vocabulary(texts, config), dropout=0.0)


def write_model_dir(textgen, out) -> None:
    """The whole directory appears at once (or not at all): a crash never leaves half a model."""
    from ..atomic import atomic_directory
    from ..model import text_model
    from ..model_dir import save_model_dir

    with atomic_directory(out) as tmp:
        save_model_dir(tmp, text_model(textgen.model), textgen.vocab, textgen.config, textgen.metadata)


def checkpoint_saver(textgen, out):
    from ..atomic import atomic_directory
    from ..model_dir import save_model_dir

    def save(epoch, model, checkpoint):
        if checkpoint:
            with atomic_directory(out.with_name(f"{out.name}_epoch{epoch}")) as tmp:
                save_model_dir(tmp, model, textgen.vocab, textgen.config, {"epoch": epoch})

    return save
