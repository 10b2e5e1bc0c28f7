"""The Starlette app: the completions API and the page's files on one port.

- POST /v1/completions, GET /v1/models, GET /v1/models/{id}, GET /health (200 while serving, with the loop's
  load);
- everything else is the page server's: GET/HEAD of the files web/serve.py's `resolve` allows (the page,
  manifest-listed bundle files, never dot-files or anything outside), with its headers;
- every request must name this server in its Host header (web/serve.py's `host_allowed`): a page on another
  site cannot reach the API through DNS rebinding.

Errors are OpenAI-shaped JSON.  A request's body is read with a size cap and a time limit; the client's
disconnect cancels its rows (a watcher task per request), so a vanished client stops costing model calls.
"""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ..errors import UserError
from ..web.serve import HEADERS, MIME, Mount, host_allowed, resolve
from .engine import Engine, Job, Overloaded
from .errors import ApiError
from .limits import Limits
from .request import parse_completion
from .shapes import completion, model_card, model_list

SSE_HEADERS = {"X-Accel-Buffering": "no"}  # (Cache-Control: no-cache comes with every response)


def error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


async def read_body(request: Request, limits: Limits) -> bytes:
    """The body, at most `limits.max_body_bytes`, received within `limits.body_timeout` seconds."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limits.max_body_bytes:
        raise ApiError(413, f"the request body is over the limit of {limits.max_body_bytes} bytes")

    async def gather() -> bytes:
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limits.max_body_bytes:
                raise ApiError(413, f"the request body is over the limit of {limits.max_body_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    try:
        return await asyncio.wait_for(gather(), limits.body_timeout)
    except TimeoutError:
        raise ApiError(408, f"the request body did not arrive within {limits.body_timeout:g} s") from None


async def watch_disconnect(request: Request, job: Job) -> None:
    """Cancel the job's rows when its client goes away."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            job.cancel()
            return


class Api:
    """The routes over one engine (one loaded model)."""

    def __init__(self, engine: Engine, model_id: str, limits: Limits):
        self.engine, self.model_id, self.limits = engine, model_id, limits
        self.created = int(time.time())

    async def completions(self, request: Request) -> Response:
        try:
            body = await read_body(request, self.limits)
            req = parse_completion(body, self.limits, self.model_id)
            try:
                job = Job(req, self.engine.generator)
            except UserError as exc:
                raise ApiError(400, str(exc)) from None
            try:
                self.engine.submit(job)
            except Overloaded as exc:
                raise ApiError(
                    429,
                    f"the server is busy ({exc}); retry after {self.limits.retry_after} s",
                    kind="rate_limit_error",
                    code="overloaded",
                    headers={"Retry-After": str(self.limits.retry_after)},
                ) from None
        except ApiError as error:
            return error_response(error)
        except ClientDisconnect:
            return Response(status_code=400)
        watcher = asyncio.create_task(watch_disconnect(request, job))
        if req.stream:
            return StreamingResponse(
                self.events(job, watcher), media_type="text/event-stream", headers=SSE_HEADERS
            )
        try:
            await self.until_finished(job)
        finally:
            watcher.cancel()
        if job.error is not None:
            return error_response(ApiError(500, job.error, kind="server_error"))
        choices = [choice.whole() for choices in job.choices for choice in choices]
        return JSONResponse(completion(job, self.model_id, choices))

    @staticmethod
    async def until_finished(job: Job) -> None:
        while not job.finished:
            await job.event.wait()
            job.event.clear()

    async def events(self, job: Job, watcher: asyncio.Task):
        """Server-sent events: a chunk per step with news (pieces that piled up for a slow client go as one),
        usage last when asked for, then `data: [DONE]`."""
        try:
            while True:
                await job.event.wait()
                job.event.clear()
                finished = job.finished  # read before draining: the loop finishes a job after its last output
                deltas = []
                while job.outbox:
                    deltas.append(job.outbox.popleft())
                if deltas:
                    yield f"data: {dumps(completion(job, self.model_id, merged(deltas), with_usage=False))}\n\n"
                if finished:
                    break
            if job.error is not None:
                yield f"data: {dumps(ApiError(500, job.error, kind='server_error').body())}\n\n"
            elif job.request.include_usage:
                chunk = completion(job, self.model_id, [])
                yield f"data: {dumps(chunk)}\n\n"
            yield "data: [DONE]\n\n"
        finally:
            job.cancel()  # a client that went away mid-stream: its rows stop (a no-op once finished)
            watcher.cancel()

    async def models(self, request: Request) -> Response:
        return JSONResponse(model_list(self.model_id, self.created))

    async def model(self, request: Request) -> Response:
        if request.path_params["model"] != self.model_id:
            return error_response(
                ApiError(404, f"no model {request.path_params['model']!r} here", code="model_not_found")
            )
        return JSONResponse(model_card(self.model_id, self.created))

    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "model": self.model_id, **self.engine.stats()})


def merged(deltas: list) -> list:
    """Deltas of one choice that piled up joined into one (in order), one entry per choice."""
    out: dict[int, object] = {}
    for delta in deltas:
        first = out.get(delta.index)
        if first is None:
            out[delta.index] = delta
            continue
        first.text += delta.text
        first.finish_reason = delta.finish_reason
        first.tokens += delta.tokens
        first.token_logprobs += delta.token_logprobs
        first.top_logprobs += delta.top_logprobs
        first.text_offset += delta.text_offset
    return list(out.values())


def static_files(mounts: dict[str, Mount]):
    async def serve_file(request: Request) -> Response:
        target = resolve(mounts, request.scope.get("raw_path", b"").decode("latin-1") or request.url.path)
        if target is None:
            return Response("not found", status_code=404, media_type="text/plain")
        try:
            content = await asyncio.to_thread(Path(target).read_bytes)  # one read: length and body agree
        except OSError:
            return Response("not found", status_code=404, media_type="text/plain")
        media_type = MIME.get(target.suffix.lower(), "application/octet-stream")
        return Response(content, media_type=media_type)

    return serve_file


class Guard:
    """ASGI middleware: the Host check on every request, and the page server's headers on every response."""

    def __init__(self, app, bound_host: str):
        self.app, self.bound_host = app, bound_host
        self.headers = [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        host = dict(scope.get("headers") or []).get(b"host")
        if not host_allowed(host.decode("latin-1") if host else None, self.bound_host):
            response = error_response(ApiError(421, "unknown host: use this server's own address"))
            return await self.add_headers(response)(scope, receive, send)
        await self.app(scope, receive, self.sending(send))

    def add_headers(self, response: Response) -> Response:
        response.raw_headers.extend(self.headers)
        return response

    def sending(self, send):
        async def wrapped(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *self.headers]}
            await send(message)

        return wrapped


def make_app(
    engine: Engine, model_id: str, mounts: dict[str, Mount], bound_host: str, limits: Limits
) -> Guard:
    """The ASGI app; the engine's loop starts and stops with it (stopping waits for the work in hand)."""
    api = Api(engine, model_id, limits)

    @asynccontextmanager
    async def lifespan(app):
        engine.start(asyncio.get_running_loop())
        try:
            yield
        finally:
            await asyncio.to_thread(engine.close)

    routes = [
        Route("/v1/completions", api.completions, methods=["POST"]),
        Route("/v1/models", api.models, methods=["GET"]),
        Route("/v1/models/{model:path}", api.model, methods=["GET"]),
        Route("/health", api.health, methods=["GET"]),
        Route("/{path:path}", static_files(mounts), methods=["GET", "HEAD"]),
    ]
    return Guard(Starlette(routes=routes, lifespan=lifespan), bound_host)
