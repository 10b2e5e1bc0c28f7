"""The one static server: the page (web_demo/ with its node_modules) at /, bundles at fixed paths.

Used by `serve`, `demo` and the browser benchmarks (which mount their own page folder beside it).

http.server's ThreadingHTTPServer, GET/HEAD only, loopback by default.  It sets the MIME types browsers insist
on for ES modules and WebAssembly, and the cross-origin isolation headers (COOP/COEP) that wasm threads
(SharedArrayBuffer) need.  Paths are resolved and must stay inside the folder they map to.

What it serves is bounded: the page's own files and, of a bundle folder, only the files its manifest lists
(never dot-files such as .git/).  A bundle is verified (checksums, config, vocabulary) before it is served, and
its manifest is parsed once per version of it (a re-export is verified again when the manifest changes), never
per request.  A request must name this server in its Host header (a page on another site cannot reach it through
DNS rebinding).  A connection gets REQUEST_TIMEOUT seconds for each whole request (not per read: trickling a
byte at a time does not extend it) and per read or write of a response; at most MAX_CONNECTIONS are served at
once, and a new connection that finds them all taken displaces the oldest one still sending its request, so
half-sent requests can neither pile up threads nor starve new visitors.  A response's Content-Length is the size
of the file it sends, from the open file itself.  Clients that go away, and paths too long for the file system,
are ordinary events: no traceback.
"""

from __future__ import annotations

import os
import posixpath
import socket
import sys
import threading
import time
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..contract.bundle import MANIFEST, Bundle
from ..errors import MissingFileError, UserError
from .npm import node_modules_dir
from .page import PAGE_FILES, web_demo_dir

BUNDLE_URL = "/bundle/"
DEFAULT_PORT = 8000
REQUEST_TIMEOUT = 10.0  # seconds for each whole request, and for each read or write of a response
MAX_CONNECTIONS = 64
MAX_PATH_CHARS = 4096  # a longer URL path names nothing we serve (PATH_MAX)
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

# On every response.  Cross-origin isolation (SharedArrayBuffer for wasm threads; everything is same-origin
# anyway), no sniffing, no caching of a bundle that may be re-exported, no clickjacking frames.
HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
}


class Mount:
    """A folder served at a URL prefix; `public`: the only paths (prefixes) inside it that may be served;
    `bundle`: serve only manifest.json and the files it lists, once the bundle is verified (again whenever its
    manifest changes, so a re-export is picked up)."""

    def __init__(
        self,
        root: Path,
        public: tuple[str, ...] | None = None,
        index: str | None = None,
        bundle: bool = False,
    ):
        self.root, self.public, self.index, self.bundle = Path(root), public, index, bundle
        self._lock = threading.Lock()
        self._version: tuple | None = None
        self._listed: frozenset[str] = frozenset()
        if bundle:
            self._listed = self._verify()  # a bundle that is not one is refused before the server starts

    def _signature(self) -> tuple | None:
        try:
            info = os.stat(self.root / MANIFEST)
        except OSError:
            return None
        return info.st_ino, info.st_dev, info.st_size, info.st_mtime_ns, info.st_ctime_ns

    def _verify(self) -> frozenset[str]:
        version = self._signature()
        bundle = Bundle(self.root)
        self._version = version
        return frozenset([MANIFEST, *bundle.files])

    def listed(self) -> frozenset[str]:
        """The files served of this bundle: the verified manifest's, or none while the bundle does not verify."""
        if self._signature() == self._version:
            return self._listed
        with self._lock:  # one request re-verifies a changed bundle; the others wait for its answer
            if self._signature() != self._version:
                try:
                    self._listed = self._verify()
                except UserError:
                    self._version, self._listed = self._signature(), frozenset()
            return self._listed

    def allows(self, relative: str) -> bool:
        if self.public is not None and not relative.startswith(self.public):
            return False
        return not self.bundle or relative in self.listed()


def resolve(mounts: dict[str, Mount], url_path: str) -> Path | None:
    """The file a URL path names, or None when it names nothing servable (including any traversal attempt)."""
    path = unquote(urlsplit(url_path).path)
    if len(path) > MAX_PATH_CHARS:
        return None
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
            try:
                target = (root / relative).resolve()
                if target != root and root not in target.parents:
                    return None
                return target if target.is_file() else None
            except OSError:  # a name too long for the file system, say: nothing we serve
                return None
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
            self.timeout = timeout  # StreamRequestHandler applies it to the socket: each read and write
            super().setup()

        def handle_one_request(self):
            self.server.reading(
                self.connection
            )  # the whole request, from its first byte, within the deadline
            try:
                super().handle_one_request()
            finally:
                self.server.answered(self.connection)

        def parse_request(self):
            ok = super().parse_request()  # reads the headers
            self.server.answered(self.connection)  # the request is in: the deadline no longer applies
            return ok

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
                info = os.fstat(f.fileno())  # of the file we send, even if the path is replaced now
            except OSError:
                self.send_error(HTTPStatus.NOT_FOUND, "not found")
                return None
            self.length = info.st_size
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

        def copyfile(self, source, outputfile):
            """Exactly Content-Length bytes (a file that grows while it is sent is cut at the size sent)."""
            left = self.length
            while left > 0:
                block = source.read(min(left, 1 << 16))
                if not block:
                    break
                outputfile.write(block)
                left -= len(block)

        def end_headers(self):
            for name, value in HEADERS.items():
                self.send_header(name, value)
            super().end_headers()

        def list_directory(self, path):  # never list folders
            self.send_error(HTTPStatus.NOT_FOUND, "not found")

        def log_message(self, format, *args):
            if not quiet:
                super().log_message(format, *args)

    return Handler


class BoundedServer(ThreadingHTTPServer):
    """ThreadingHTTPServer with at most `max_connections` threads and a deadline for each whole request.

    Connections still sending a request are tracked with their deadline; the serving loop shuts down those past
    it, and a new connection that finds every slot taken displaces the one that has been sending its request
    longest (it frees its slot as its thread ends), so a slow sender never keeps a new visitor out.
    """

    daemon_threads = True

    def __init__(self, address, handler, max_connections: int = MAX_CONNECTIONS, timeout=REQUEST_TIMEOUT):
        self.slots = threading.BoundedSemaphore(max_connections)
        self.request_timeout = timeout
        self.pending: dict[socket.socket, float] = {}  # connection -> deadline of the request it is sending
        self.pending_lock = threading.Lock()
        super().__init__(address, handler)

    def reading(self, connection) -> None:
        with self.pending_lock:
            self.pending[connection] = time.monotonic() + self.request_timeout

    def answered(self, connection) -> None:
        with self.pending_lock:
            self.pending.pop(connection, None)

    def _cut(self, connection) -> None:
        """End a connection that is still sending its request: its thread's read returns at once."""
        self.answered(connection)
        try:
            connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def service_actions(self):
        """Called by serve_forever between polls: end requests past their deadline."""
        now = time.monotonic()
        with self.pending_lock:
            late = [c for c, deadline in self.pending.items() if deadline <= now]
        for connection in late:
            self._cut(connection)

    def process_request(self, request, client_address):
        if not self.slots.acquire(blocking=False):
            with self.pending_lock:
                oldest = min(self.pending, key=self.pending.get, default=None)
            if oldest is not None:
                self._cut(oldest)  # its thread ends at once and frees its slot
            if oldest is None or not self.slots.acquire(timeout=self.request_timeout / 4):
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
            self.answered(request)
            self.slots.release()

    def handle_error(self, request, client_address):
        """A client that went away (or never finished) is not an error of ours; anything else is one line."""
        kind, error, _ = sys.exc_info()
        if isinstance(error, ConnectionError | TimeoutError):
            return
        print(f"textgen-export serve: a request from {client_address[0]} failed ({kind.__name__}: {error})",
              file=sys.stderr)  # fmt: skip


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
    mounts = page_mounts(bundles, page_at, extra)
    try:
        server = BoundedServer((host, port), handler_class(mounts, quiet, timeout), max_connections, timeout)
    except OSError as exc:
        raise UserError(f"cannot listen on {host}:{port} ({exc.strerror}); pick another --port") from None
    return server


def page_mounts(
    bundles: dict[str, Path], page_at: str = "/", extra: dict[str, Mount] | None = None
) -> dict[str, Mount]:
    """What a server serves: the page at `page_at`, its npm packages, and each bundle folder at its prefix."""
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
        mounts[prefix] = Mount(Path(folder), bundle=True)  # verified here: a bad bundle is never served
    return mounts
