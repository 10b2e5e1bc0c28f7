"""textgen-export fetch-pretrained: textgenrnn's pretrained weights from PyPI into the cache."""

from ..keras import pretrained

NAME = "fetch-pretrained"
HELP = "download textgenrnn's pretrained weights from PyPI into the cache (done on first use anyway)"
EXAMPLE = "textgen-export fetch-pretrained"


def add_arguments(parser):
    parser.add_argument("--force", action="store_true", help="download again even if cached")


def run(args):
    folder = pretrained.fetch() if args.force else pretrained.paths()["weights"].parent
    print(f"pretrained weights ready in {folder}")
    return 0
