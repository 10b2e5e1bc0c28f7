"""textgen-export site: a bundle → a static site (page + bundle + runtime JS) that any static host serves."""

from ..web.site import write_site

NAME = "site"
HELP = "write a self-contained static site for a bundle (host it anywhere: GitHub Pages, any web server)"
EXAMPLE = "textgen-export site bundle/ --out site/ && python3 -m http.server -d site/"


def add_arguments(parser):
    parser.add_argument("bundle", metavar="BUNDLE", help="bundle directory written by `export --onnx --tfjs`")
    parser.add_argument(
        "--out", required=True, metavar="DIR", help="site directory to write (new, empty, or an earlier site)"
    )
    parser.add_argument(
        "--base",
        default="/",
        metavar="PATH",
        help="URL path the site will be served under, e.g. /myproject/ (default /); every URL in the site is "
        "relative, so the files are the same for any PATH: it is checked and used for the printed address",
    )
    parser.add_argument("--title", help="model name shown on the page (default: the bundle's config name)")
    parser.add_argument(
        "--description", help="one line shown under the title (default: the manifest's description, if any)"
    )


def run(args):
    summary = write_site(
        args.bundle, args.out, base=args.base, title=args.title, description=args.description
    )
    print(
        f"preview: python3 -m http.server 8000 -d {args.out}  →  http://127.0.0.1:8000/"
        + (f"  (on your host: https://HOST{summary['base']})" if summary["base"] != "/" else "")
    )
    return 0
