"""textgen-export fetch-web: the page's JavaScript (TF.js, ONNX Runtime Web) from the npm registry, once."""

from ..web.npm import fetch_packages, node_modules_dir

NAME = "fetch-web"
HELP = "download the page's JS packages from the npm registry into the cache (done on first `serve` anyway)"
EXAMPLE = "textgen-export fetch-web"


def add_arguments(parser):
    parser.add_argument("--force", action="store_true", help="download again even if cached")


def run(args):
    folder = fetch_packages(force=True) if args.force else node_modules_dir(fetch=True)
    print(f"the page's JavaScript packages are ready in {folder}")
    return 0
