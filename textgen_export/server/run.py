"""Serving the app with uvicorn: bind first (a taken port is one line), then serve until Ctrl-C, which stops
accepting connections and lets every request in flight finish before the process ends (a second Ctrl-C
ends it at once)."""

from __future__ import annotations

import socket
from pathlib import Path

from ..errors import UserError
from ..web.serve import BUNDLE_URL, page_mounts
from .limits import Limits

SERVE_EXTRA = "pip install 'textgen-export[serve]'"


def require_serve_extra() -> None:
    import importlib.util

    missing = [name for name in ("starlette", "uvicorn") if importlib.util.find_spec(name) is None]
    if missing:
        raise UserError(f"--api needs {' and '.join(missing)}: {SERVE_EXTRA}")


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UserError(f"cannot listen on {host}:{port} ({exc.strerror}); pick another --port") from None
    sock.listen(2048)  # connections queue from now on, while uvicorn starts
    sock.set_inheritable(True)
    return sock


def build(bundle: Path, host: str, limits: Limits, threads: int | None = None):
    """The app for `bundle` (the page and the API on one port) and the engine that runs its model."""
    from ..runtime import load_bundle
    from .app import make_app
    from .engine import Engine

    runtime = load_bundle(bundle, threads=threads)
    group = bool(getattr(runtime.adapter, "skips_padding", False))
    engine = Engine(runtime.generator, limits.max_rows, limits.max_queue, group_by_padding=group)
    model_id = str(runtime.manifest.get("name") or Path(bundle).name)
    app = make_app(engine, model_id, page_mounts({BUNDLE_URL: bundle}), host, limits)
    return app, engine, model_id


def serve_api(bundle: Path, host: str, port: int, limits: Limits, verbose: bool = False) -> None:
    """Serve until Ctrl-C (then drain); prints the address once listening."""
    import uvicorn

    app, _, model_id = build(bundle, host, limits)
    sock = bind(host, port)
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="info" if verbose else "warning",
        access_log=verbose,
        lifespan="on",
        timeout_keep_alive=5,
        limit_concurrency=limits.max_rows
        + limits.max_queue
        + 64,  # past this, 503 at once (the page's files too)
    )
    server = uvicorn.Server(config)
    shown = f"[{host}]" if ":" in host else host
    print(
        f"serving {bundle} at http://{shown}:{bound_port}/ with the API at http://{shown}:{bound_port}/v1 "
        f"(model {model_id!r}; Ctrl-C to stop)",
        flush=True,
    )
    server.run(sockets=[sock])
