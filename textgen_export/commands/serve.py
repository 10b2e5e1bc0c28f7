"""textgen-export serve: the web demo and one bundle on http://127.0.0.1; with --api also an OpenAI-style
completions API on the same port (server/)."""

from pathlib import Path

from ..contract.bundle import TFJS_MODEL
from ..errors import UserError, require_tensorflow
from ..keras.pretrained import cache_dir
from ..server.limits import Limits
from ..server.run import require_serve_extra, serve_api
from ..web.npm import node_modules_dir
from ..web.serve import BUNDLE_URL, make_server

NAME = "serve"
HELP = "serve the web demo page and a bundle on 127.0.0.1 (TF.js and ONNX Runtime Web in the browser)"
EXAMPLE = "textgen-export serve bundle/ --port 8000 --api"
TF_NOTE = "[needs TensorFlow without BUNDLE, once]"


def add_arguments(parser):
    parser.add_argument(
        "bundle",
        metavar="BUNDLE",
        nargs="?",
        help="bundle directory from `export --onnx --tfjs` (default: the pretrained model, exported once and cached)",
    )
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    parser.add_argument(
        "--api",
        action="store_true",
        help="also serve an OpenAI-style API (POST /v1/completions, GET /v1/models, GET /health) "
        "that batches concurrent requests; needs the [serve] extra",
    )
    parser.add_argument(
        "--max-rows", type=int, default=256, help="--api: texts generated at once, in one batch (default 256)"
    )
    parser.add_argument(
        "--max-queue", type=int, default=256, help="--api: requests that may wait; more get 429 (default 256)"
    )


def default_bundle():
    """The pretrained model as a bundle in the cache, exported the first time it is asked for."""

    folder = cache_dir() / "pretrained_bundle"
    if not (folder / TFJS_MODEL).is_file():
        try:  # a [runtime] install serves a bundle it is given, but cannot export one
            require_tensorflow()
        except UserError as exc:
            raise UserError(
                f"serve without BUNDLE exports the pretrained model once, which {exc}; or give a bundle: "
                "textgen-export serve BUNDLE"
            ) from None
        from ..api.textgen import TextGen
        from ..export.writer import export_bundle

        print(f"exporting the pretrained model to {folder} (once)", flush=True)
        textgen = TextGen.pretrained()
        export_bundle(textgen.model, textgen.vocab, textgen.config, folder, onnx=True, tfjs=True)
    return folder


def run(args):
    if not 0 <= args.port <= 65535:
        raise UserError(f"--port must be from 0 to 65535 (0 picks a free one), got {args.port}")
    if args.api:
        require_serve_extra()
        for name in ("max_rows", "max_queue"):
            if not 1 <= getattr(args, name) <= 100_000:
                raise UserError(
                    f"--{name.replace('_', '-')} must be from 1 to 100000, got {getattr(args, name)}"
                )
    bundle = Path(args.bundle).resolve() if args.bundle else default_bundle()
    node_modules_dir(fetch=True)  # an installed package downloads the page's JS from npm the first time
    if args.api:
        limits = Limits(max_rows=args.max_rows, max_queue=args.max_queue)
        try:
            serve_api(bundle, args.host, args.port, limits, verbose=args.verbose)
        except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it drained on
            pass
        print("stopped", flush=True)
        return 0
    server = make_server({BUNDLE_URL: bundle}, host=args.host, port=args.port, quiet=not args.verbose)
    host, port = server.server_address[:2]
    print(f"serving {bundle} at http://{host}:{port}/  (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped")
    finally:
        server.server_close()
    return 0
