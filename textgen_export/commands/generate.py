"""textgen-export generate: text from a model directory, legacy weights, a bundle, or the pretrained default."""

import sys
from pathlib import Path

from ..errors import UserError
from ..files.atomic import check_file_target, write_bytes
from ..files.text import print_text, shown_on, utf8
from ..keras.model_dir import CONFIG_HELP, VOCAB_HELP, read_labels
from ..sampling.generator import check_max_gen_length, check_n, check_prefix, check_seed
from ..sampling.interactive import InteractiveSession, check_top_n, run_terminal
from ..sampling.sampler import check_temperatures

NAME = "generate"
HELP = "generate text (streams to stdout)"
EXAMPLE = 'textgen-export generate -n 3 --temperature 0.5 --prefix "Show HN: " --seed 7'
TF_NOTE = "[needs TensorFlow without --bundle]"


def NEEDS_TENSORFLOW(args) -> bool:  # noqa: N802 (the CLI's per-command flag, here a function of the arguments)
    return not args.bundle


def add_arguments(parser):
    src = parser.add_argument_group("model (default: textgenrnn's pretrained weights)")
    src.add_argument(
        "--model",
        metavar="SRC",
        help="model directory written by `train`, a textgenrnn weights .hdf5, or a model trained in the page (.zip)",
    )
    src.add_argument("--weights", metavar="W", help="textgenrnn weights .hdf5")
    src.add_argument("--vocab", metavar="V", help=VOCAB_HELP)
    src.add_argument("--config", metavar="C", help=CONFIG_HELP)
    src.add_argument("--bundle", metavar="DIR", help="exported bundle, run with ONNX Runtime (no TensorFlow)")
    parser.add_argument("-n", "--n", type=int, default=1, help="number of texts (default 1)")
    parser.add_argument(
        "--temperature",
        type=float,
        nargs="+",
        default=[0.5],
        metavar="T",
        help="temperature, or several that cycle per token (default 0.5; 0 = greedy)",
    )
    parser.add_argument("--prefix", default=None, help="text to start from")
    parser.add_argument(
        "--max-length",
        type=int,
        default=300,
        dest="max_gen_length",
        help="maximum tokens per text, counting the start token (default 300)",
    )
    parser.add_argument("--seed", type=int, default=None, help="seed for reproducible sampling")
    parser.add_argument(
        "--context",
        nargs="+",
        metavar="LABEL",
        help="generate for this context label, or several (a model trained with `train --context`)",
    )
    parser.add_argument("--interactive", action="store_true", help="choose each next token yourself")
    parser.add_argument("--top-n", type=int, default=3, help="options shown in interactive mode (default 3)")
    parser.add_argument("--out", metavar="FILE", help="also write the texts to FILE, one per line")
    parser.add_argument(
        "--attention-png",
        metavar="FILE",
        help="also draw the first text's attention as a PNG: one row per generated token over its window",
    )


def open_generator(args):
    """The shared Generator over whichever runtime the arguments point at."""
    if args.bundle:
        if args.model or args.weights or args.vocab or args.config:
            raise_conflict()
        from ..runtime import load_bundle

        explain_tfjs_only(args.bundle)
        return load_bundle(args.bundle).generator
    from ..api.textgen import TextGen
    from ..export.from_tfjs import load_model_source

    source = load_model_source(args.model, args.weights, args.vocab, args.config)
    return TextGen(*source, labels=read_labels(args.model, args.weights)).generator


def explain_tfjs_only(folder) -> None:
    """A bundle exported with --tfjs alone has nothing Python can run: say where it does run."""
    from ..contract.bundle import ONNX, TFJS_MODEL, Bundle

    files = Bundle(
        folder
    ).files  # verified first: a damaged bundle gets the same message as load_bundle gives
    if ONNX not in files and TFJS_MODEL in files:
        from ..web.page import node_cli

        node = node_cli(folder, "tfjs-cpu")
        raise UserError(
            f"bundle {folder} holds only a TF.js model: it runs in the page (`textgen-export serve {folder}`)"
            + (f" and the Node CLI (`{node}`)" if node else "")
            + "; for --bundle here, re-export it with --onnx"
        )


def raise_conflict():
    raise UserError("give --bundle alone, not together with --model/--weights/--vocab/--config")


def run(args):

    # Validate everything before the (slow) model load.
    check_n(args.n)
    temperature = check_temperatures(args.temperature)
    check_max_gen_length(args.max_gen_length)
    check_prefix(args.prefix)
    check_seed(args.seed)
    if args.interactive:
        check_top_n(args.top_n)
    if args.out:
        check_file_target(Path(args.out).resolve())
    if args.attention_png:
        check_attention_png(args)
    generator = open_generator(args)
    options = dict(
        temperature=temperature,
        prefix=args.prefix,
        max_gen_length=args.max_gen_length,
        seed=args.seed,
        context=args.context,
    )
    if args.interactive:
        texts = []
        for _ in range(args.n):
            session = InteractiveSession(
                generator, args.prefix, temperature, args.top_n, args.max_gen_length, args.context
            )
            texts.append(run_terminal(session))
            print_text(texts[-1])
    elif args.attention_png:
        texts = write_attention_png(generator, args.n, options, args.attention_png)
    else:
        texts = stream_to_stdout(generator, args.n, options)
    if args.out:
        write_bytes(args.out, utf8("".join(f"{t}\n" for t in texts)))  # the exact text
    return 0


def check_attention_png(args) -> None:
    """Before the model loads: a target we can write, not with --interactive, and matplotlib present."""
    if args.interactive:
        raise UserError("--attention-png draws generated text; it cannot be combined with --interactive")
    check_file_target(Path(args.attention_png).resolve())
    try:
        import matplotlib  # noqa: F401  (a dev dependency: checked here, used in sampling/trace.py)
    except ImportError:
        raise UserError("--attention-png needs matplotlib: pip install matplotlib") from None


def write_attention_png(generator, n, options, path):
    """Generate with a trace (whole texts, not streamed), print them, draw text 1's attention to `path`."""
    from ..sampling.trace import save_attention_png

    traces = generator.trace(n=n, **options)
    for trace in traces:
        print_text(trace.text)
    save_attention_png(traces[0], path)
    print(
        f"wrote {path} ({len(traces[0].steps)} generated tokens × window {generator.config.max_length})",
        file=sys.stderr,
    )
    return [t.text for t in traces]


def stream_to_stdout(generator, n, options):
    """One text streams piece by piece; several print whole, in order, each as soon as it and those before it
    are complete (they are generated together as one batch)."""
    out = sys.stdout
    shown = shown_on(out)  # model text must not drive the terminal
    if n == 1:
        pieces = []
        for _, piece in generator.stream(n=1, **options):
            pieces.append(piece)
            out.write(shown(piece))
            out.flush()
        out.write("\n")
        return ["".join(pieces)]
    ready: dict[int, str] = {}
    next_to_print = 0

    def on_text(i, text):
        nonlocal next_to_print
        ready[i] = text
        while next_to_print in ready:
            out.write(shown(ready[next_to_print]) + "\n")
            out.flush()
            next_to_print += 1

    return generator.generate(n=n, on_text=on_text, **options)
