"""`textgen-export`: one entry point, one module per command under textgen_export/commands/.

User errors end as one line on stderr and exit status 2 (a traceback only with --debug).
"""

from __future__ import annotations

import argparse
import errno
import importlib
import re
import sys

from . import __version__
from .errors import UserError, require_tensorflow
from .files.reading import quoted

# Each module provides HELP, EXAMPLE, add_arguments(parser) and run(args) -> int | None; commands that load a
# Keras model also set NEEDS_TENSORFLOW: True, or a function of the parsed arguments (generate: not for --bundle).
COMMANDS = [
    "generate",
    "train",
    "dataset",
    "fetch_pretrained",
    "export",
    "validate",
    "bench",
    "serve",
    "site",
    "fetch_web",
    "demo",
]
TF_MARK = "[needs TensorFlow]"


DESCRIPTION = (
    "Train small text-generating neural networks (textgenrnn's architecture: char or word level,\n"
    "LSTMs + attention), generate text with them, and export them to ONNX Runtime and TensorFlow.js\n"
    "for other apps and the browser. Without a model, commands use textgenrnn's pretrained weights."
)


# Failures of the machine, not of our code, that a user can fix: one line and how, never a traceback.
ENVIRONMENT_ERRNOS = {
    errno.ENOSPC: "free some disk space (nothing was replaced; earlier files are intact) or choose another path",
    errno.EDQUOT: "free some space in your quota or choose another path",
    errno.EROFS: "that file system is read-only; choose another path",
    errno.EACCES: "permission denied; choose another path",
    errno.EPERM: "not permitted; choose another path",
    errno.ENAMETOOLONG: "choose a shorter path",
    errno.EFBIG: "the file is too large for that file system; choose another path",
    errno.EMFILE: "too many open files; raise the limit (ulimit -n) and try again",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own usage errors follow the same one-line, exit-2 rule
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def help_line(module) -> str:
    needs = getattr(module, "NEEDS_TENSORFLOW", False)
    if needs is True:
        return f"{module.HELP} {TF_MARK}"
    return f"{module.HELP} {getattr(module, 'TF_NOTE', '')}".rstrip()


def needs_tensorflow(args) -> bool:
    needs = getattr(args, "_needs_tensorflow", False)
    return needs(args) if callable(needs) else bool(needs)


def build_parser() -> argparse.ArgumentParser:
    modules = [importlib.import_module(f"textgen_export.commands.{name}") for name in COMMANDS]
    epilog = (
        "commands (textgen-export COMMAND --help for options):\n"
        + "\n".join(f"  {m.NAME:<17} {help_line(m)}\n  {'':<17} e.g. {m.EXAMPLE}" for m in modules)
        + f"\n\n{TF_MARK}: not in a `[runtime]` install (numpy + onnxruntime); pip install 'textgen-export[full]'"
    )
    parser = _Parser(
        prog="textgen-export",
        usage="%(prog)s [-h] [--version] [--debug] COMMAND ...",
        description=DESCRIPTION,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"textgen-export {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    # The epilog lists the commands once, with an example each; the COMMAND argument does not list them again.
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=_Parser, help=argparse.SUPPRESS, prog="textgen-export"
    )
    for module in modules:
        p = sub.add_parser(
            module.NAME,
            description=f"{help_line(module)}\n\nexample: {module.EXAMPLE}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument("--debug", action="store_true", help="show tracebacks for errors")
        module.add_arguments(p)
        p.set_defaults(
            _run=module.run,
            _needs_tensorflow=getattr(module, "NEEDS_TENSORFLOW", False),
            _flags=flag_names(p),
        )
    return parser


# Python keywords whose command-line flag is not their name with dashes (the API checks name the keyword).
KEYWORD_DESTS = {"num_epochs": "epochs"}


def flag_names(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Each option's destination → the flag a user types (the first spelling its --help shows)."""
    flags = {}
    for action in parser._actions:
        if action.option_strings and action.dest != "help":
            flags[action.dest] = action.option_strings[0]
    flags.update({keyword: flags[dest] for keyword, dest in KEYWORD_DESTS.items() if dest in flags})
    return flags


def in_flags(message: str, flags: dict[str, str]) -> str:
    """An API check's message in the command line's words: `max_gen_length must be…` → `--max-length must be…`.
    The keyword that starts a `… must …` message is replaced, and later ones with an underscore (unambiguous) unless they
    are also config.json keys (`max_length` there names the file's key)."""
    from .contract.config import ModelConfig

    # Only a check's own phrasing ("n (number of texts) must…"): "bundle DIR is missing…" names a folder, not a flag.
    first = re.match(r"([a-z][a-z0-9_]*)(?= (?:\([^)]*\) )?must\b)", message)
    if first and first[1] in flags:
        message = flags[first[1]] + message[first.end() :]
    later = {k: v for k, v in flags.items() if k not in ModelConfig.__dataclass_fields__}
    return re.sub(r"(?<![-\w])([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\b", lambda m: later.get(m[1], m[1]), message)


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # text UTF-8 cannot hold is escaped, not a crash after the work
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
    except KeyboardInterrupt:  # while the commands load
        print("textgen-export: interrupted", file=sys.stderr)
        return 130
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        if needs_tensorflow(args):
            require_tensorflow()  # one line and exit 2 in a [runtime] install, not an import traceback
        return int(args._run(args) or 0)
    except UserError as exc:
        if args.debug:
            raise
        print(f"textgen-export {args.command}: error: {in_flags(str(exc), args._flags)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly, as other command-line tools do
        stdout_gone()
        return 0
    except OSError as exc:
        if args.debug or exc.errno not in ENVIRONMENT_ERRNOS:
            raise
        where = f" {quoted(exc.filename)}" if exc.filename else ""
        print(
            f"textgen-export {args.command}: error: cannot write or read{where}: {exc.strerror}; "
            f"{ENVIRONMENT_ERRNOS[exc.errno]}",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print(f"textgen-export {args.command}: interrupted", file=sys.stderr)
        return 130


def stdout_gone() -> None:
    """Point stdout at /dev/null so that the interpreter's last flush does not raise BrokenPipeError again."""
    import os

    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
