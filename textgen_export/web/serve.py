"""The one static server: the page (web_demo/ with its node_modules) at /, bundles at fixed paths.

Used by `serve`, `demo` and the browser benchmarks (which mount their own page folder beside it).

http.server's ThreadingHTTPServer, GET/HEAD only, loopback by default.  It sets the MIME types browsers insist
on for ES modules and WebAssembly, and the cross-origin isolation headers (COOP/COEP) that wasm threads
(SharedArrayBuffer) need.  Paths are resolved and must stay inside the folder they map to.
"""

from __future__ import annotations

import posixpath
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..errors import MissingFileError, UserError
from ..spec.bundle import MANIFEST
from .npm import node_modules_dir
from .page import PAGE_FILES, web_demo_dir

BUNDLE_URL = "/bundle/"
DEFAULT_PORT = 8000
MIME = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".wasm": "application/wasm",
    ".onnx": "application/octet-stream",
    ".bin": "application/octet-stream",
    ".map": "application/json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
}


class Mount:
    """A folder served at a URL prefix; `public`: the only paths (prefixes) inside it that may be served."""

    def __init__(self, root: Path, public: tuple[str, ...] | None = None, index: str | None = None):
        self.root, self.public, self.index = Path(root), public, index


def resolve(mounts: dict[str, Mount], url_path: str) -> Path | None:
    """The file a URL path names, or None when it names nothing servable (including any traversal attempt)."""
    path = unquote(urlsplit(url_path).path)
    if "\x00" in path or "\\" in path or any(part == ".." for part in path.split("/")):
        return None
    path = posixpath.normpath(path)
    if url_path.endswith("/") and not path.endswith("/"):
        path += "/"
    for prefix in sorted(mounts, key=len, reverse=True):
        if path == prefix.rstrip("/") or path.startswith(prefix):
            mount = mounts[prefix]
            root = mount.root.resolve()
            relative = path[len(prefix) :] if path.startswith(prefix) else ""
            relative = relative or mount.index or ""
            if mount.public is not None and not relative.startswith(mount.public):
                return None
            target = (root / relative).resolve()
            if target != root and root not in target.parents:
                return None
            return target if target.is_file() else None
    return None


def handler_class(mounts: dict[str, Mount], quiet: bool = True):
    class Handler(SimpleHTTPRequestHandler):
        server_version = "textgen-export"
        sys_version = ""

        def send_head(self):
            target = resolve(mounts, self.path)
            if target is None:
                self.send_error(HTTPStatus.NOT_FOUND, "not found")
                return None
            try:
                f = open(target, "rb")
            except OSError:
                self.send_error(HTTPStatus.NOT_FOUND, "not found")
                return None
            size = target.stat().st_size
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", MIME.get(target.suffix.lower(), "application/octet-stream"))
            self.send_header("Content-Length", str(size))
            self.end_headers()
            return f

        def end_headers(self):
            # Cross-origin isolation (SharedArrayBuffer for wasm threads); everything is same-origin anyway.
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
            self.send_header("Cross-Origin-Resource-Policy", "same-origin")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Cache-Control", "no-cache")
            super().end_headers()

        def list_directory(self, path):  # never list folders
            self.send_error(HTTPStatus.NOT_FOUND, "not found")

        def log_message(self, format, *args):
            if not quiet:
                super().log_message(format, *args)

    return Handler


def make_server(
    bundles: dict[str, Path],
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    quiet: bool = True,
    page_at: str = "/",
    extra: dict[str, Mount] | None = None,
) -> ThreadingHTTPServer:
    """A server for the page at `page_at` and each bundle folder at its URL prefix (e.g. {"/bundle/": path})."""
    page = web_demo_dir()
    if not (page / "index.html").is_file():
        raise MissingFileError(f"the web demo is missing: {page / 'index.html'}")
    mounts = {
        page_at: Mount(page, PAGE_FILES, index="index.html"),
        f"{page_at}node_modules/": Mount(
            node_modules_dir()
        ),  # the checkout's npm packages, or the cached ones
        **(extra or {}),
    }
    for prefix, folder in bundles.items():
        if not prefix.startswith("/") or not prefix.endswith("/") or prefix == "/":
            raise ValueError(f"bundle URL prefix must look like /name/, got {prefix!r}")
        if not (Path(folder) / MANIFEST).is_file():
            raise MissingFileError(
                f"{folder} is not a bundle (no manifest.json); create one with "
                "`textgen-export export MODEL --out DIR --onnx --tfjs`"
            )
        mounts[prefix] = Mount(Path(folder))
    try:
        server = ThreadingHTTPServer((host, port), handler_class(mounts, quiet))
    except OSError as exc:
        raise UserError(f"cannot listen on {host}:{port} ({exc.strerror}); pick another --port") from None
    server.daemon_threads = True
    return server
