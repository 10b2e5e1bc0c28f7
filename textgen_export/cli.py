"""`textgen-export`: one entry point, one module per command under textgen_export/commands/.

User errors end as one line on stderr and exit status 2 (a traceback only with --debug).
"""

from __future__ import annotations

import argparse
import errno
import importlib
import sys

from . import __version__
from .errors import UserError
from .files.reading import quoted

# Each module provides HELP, EXAMPLE, add_arguments(parser) and run(args) -> int | None.
COMMANDS = [
    "generate",
    "train",
    "dataset",
    "fetch_pretrained",
    "export",
    "validate",
    "bench",
    "serve",
    "demo",
]


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


def build_parser() -> argparse.ArgumentParser:
    modules = [importlib.import_module(f"textgen_export.commands.{name}") for name in COMMANDS]
    epilog = "commands (textgen-export COMMAND --help for options):\n" + "\n".join(
        f"  {m.NAME:<17} {m.HELP}\n  {'':<17} e.g. {m.EXAMPLE}" for m in modules
    )
    parser = _Parser(
        prog="textgen-export",
        description=__doc__.splitlines()[0] if __doc__ else None,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"textgen-export {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in modules:
        p = sub.add_parser(
            module.NAME,
            help=module.HELP,
            description=f"{module.HELP}\n\nexample: {module.EXAMPLE}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument("--debug", action="store_true", help="show tracebacks for errors")
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # text UTF-8 cannot hold is escaped, not a crash after the work
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except UserError as exc:
        if args.debug:
            raise
        print(f"textgen-export {args.command}: error: {exc}", file=sys.stderr)
        return 2
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
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
