"""The one static server: the page (web_demo/ with its node_modules) at /, bundles at fixed paths.

Used by `serve`, `demo` and the browser benchmarks (which mount their own page folder beside it).

http.server's ThreadingHTTPServer, GET/HEAD only, loopback by default.  It sets the MIME types browsers insist
on for ES modules and WebAssembly, and the cross-origin isolation headers (COOP/COEP) that wasm threads
(SharedArrayBuffer) need.  Paths are resolved and must stay inside the folder they map to.

What it serves is bounded: the page's own files and, of a bundle folder, only the files its manifest lists
(never dot-files such as .git/); a request must name this server in its Host header (a page on another site
cannot reach it through DNS rebinding); each connection gets REQUEST_TIMEOUT seconds per read, and at most
MAX_CONNECTIONS are served at once (more are closed at once, so half-sent requests cannot pile up threads).
"""

from __future__ import annotations

import os
import posixpath
import threading
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..contract.bundle import MANIFEST
from ..errors import MissingFileError, UserError
from ..files.reading import read_json
from .npm import node_modules_dir
from .page import PAGE_FILES, web_demo_dir

BUNDLE_URL = "/bundle/"
DEFAULT_PORT = 8000
REQUEST_TIMEOUT = 10.0  # seconds a connection may stay silent
MAX_CONNECTIONS = 64
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
WILDCARD_HOSTS = {"", "0.0.0.0", "::"}
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
    """A folder served at a URL prefix; `public`: the only paths (prefixes) inside it that may be served;
    `bundle`: serve only manifest.json and the files it lists (read afresh, so a re-export is picked up)."""

    def __init__(
        self,
        root: Path,
        public: tuple[str, ...] | None = None,
        index: str | None = None,
        bundle: bool = False,
    ):
        self.root, self.public, self.index, self.bundle = Path(root), public, index, bundle

    def allows(self, relative: str) -> bool:
        if self.public is not None and not relative.startswith(self.public):
            return False
        if not self.bundle or relative == MANIFEST:
            return True
        try:
            files = read_json(self.root / MANIFEST, "bundle manifest").get("files")
        except (UserError, AttributeError):
            return False
        return isinstance(files, dict) and relative in files


def resolve(mounts: dict[str, Mount], url_path: str) -> Path | None:
    """The file a URL path names, or None when it names nothing servable (including any traversal attempt)."""
    path = unquote(urlsplit(url_path).path)
    if "\x00" in path or "\\" in path or any(part.startswith(".") for part in path.split("/")):
        return None  # "..", and dot-files (.git/, .env) are never served
    path = posixpath.normpath(path)
    if url_path.endswith("/") and not path.endswith("/"):
        path += "/"
    for prefix in sorted(mounts, key=len, reverse=True):
        if path == prefix.rstrip("/") or path.startswith(prefix):
            mount = mounts[prefix]
            root = mount.root.resolve()
            relative = path[len(prefix) :] if path.startswith(prefix) else ""
            relative = relative or mount.index or ""
            if not mount.allows(relative):
                return None
            target = (root / relative).resolve()
            if target != root and root not in target.parents:
                return None
            return target if target.is_file() else None
    return None


def host_allowed(header: str | None, bound: str) -> bool:
    """The Host header must name this server: a loopback name, or the address it was bound to."""
    if bound in WILDCARD_HOSTS:
        return True  # bound to every interface on purpose: any name may reach it
    if not header:
        return False
    name = header.strip().lower()
    if name.startswith("["):
        name = name[1 : name.find("]")] if "]" in name else name
    else:
        name = name.rsplit(":", 1)[0] if name.count(":") == 1 else name
    return name in LOOPBACK_NAMES or name == bound.lower()


def handler_class(mounts: dict[str, Mount], quiet: bool = True, timeout: float = REQUEST_TIMEOUT):
    class Handler(SimpleHTTPRequestHandler):
        server_version = "textgen-export"
        sys_version = ""
        # HTTP/1.1: browsers revalidate HTTP/1.0 "no-cache" answers with no If-None-Match, so every visit
        # would download everything again (every answer here carries a Content-Length, as 1.1 needs).
        protocol_version = "HTTP/1.1"

        def setup(self):
            self.timeout = (
                timeout  # StreamRequestHandler applies it to the socket: silent clients are dropped
            )
            super().setup()

        def send_head(self):
            if not host_allowed(self.headers.get("Host"), self.server.server_address[0]):
                self.send_error(HTTPStatus.MISDIRECTED_REQUEST, "unknown host")
                return None
            target = resolve(mounts, self.path)
            if target is None:
                self.send_error(HTTPStatus.NOT_FOUND, "not found")
                return None
            try:
                f = open(target, "rb")
            except OSError:
                self.send_error(HTTPStatus.NOT_FOUND, "not found")
                return None
            info = os.fstat(f.fileno())
            # "no-cache" (end_headers) makes the browser ask each time; an unchanged file answers 304 with no
            # body, so a second visit downloads nothing it already has, and a re-export is seen at once.
            etag = f'"{info.st_size:x}-{info.st_mtime_ns:x}"'
            if etag in (self.headers.get("If-None-Match") or "").replace(" ", "").split(","):
                f.close()
                self.send_response(HTTPStatus.NOT_MODIFIED)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", MIME.get(target.suffix.lower(), "application/octet-stream"))
            self.send_header("Content-Length", str(info.st_size))
            self.send_header("ETag", etag)
            self.end_headers()
            return f

        def end_headers(self):
            # Cross-origin isolation (SharedArrayBuffer for wasm threads); everything is same-origin anyway.
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
            self.send_header("Cross-Origin-Resource-Policy", "same-origin")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Content-Security-Policy", "frame-ancestors 'none'")  # no clickjacking frames
            self.send_header("X-Frame-Options", "DENY")
            super().end_headers()

        def list_directory(self, path):  # never list folders
            self.send_error(HTTPStatus.NOT_FOUND, "not found")

        def log_message(self, format, *args):
            if not quiet:
                super().log_message(format, *args)

    return Handler


class BoundedServer(ThreadingHTTPServer):
    """ThreadingHTTPServer with at most `max_connections` threads: further connections are closed at once."""

    daemon_threads = True

    def __init__(self, address, handler, max_connections: int = MAX_CONNECTIONS):
        self.slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, handler)

    def process_request(self, request, client_address):
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


def make_server(
    bundles: dict[str, Path],
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    quiet: bool = True,
    page_at: str = "/",
    extra: dict[str, Mount] | None = None,
    timeout: float = REQUEST_TIMEOUT,
    max_connections: int = MAX_CONNECTIONS,
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
        mounts[prefix] = Mount(Path(folder), bundle=True)
    try:
        server = BoundedServer((host, port), handler_class(mounts, quiet, timeout), max_connections)
    except OSError as exc:
        raise UserError(f"cannot listen on {host}:{port} ({exc.strerror}); pick another --port") from None
    return server
