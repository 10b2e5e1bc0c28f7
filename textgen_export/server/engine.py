"""Continuous batching: one loop per loaded model runs the active rows of every request in each model call.

Requests join and leave between steps.  A step gathers the windows of all active rows (each request's
`Batch` from the shared Generator), calls the model once (or once per padding count, see `calls`), samples
with the one sampler, one `pick` per temperature among the rows (each row draws from its own stream, so which
rows share a call never changes what a row draws), and hands each Batch its tokens through `Generator.accept`:
a row's text is the text `generate` gives for its options and seed.  (ONNX Runtime computes a lone window,
B=1, with another kernel than a batch: its probabilities differ in the last float32 bits, which flips a draw
only when it lands that close to a boundary; offline generation has the same property between n=1 and n>1.)

The loop runs in its own thread and never waits for a client: each step's output goes into the requests'
outboxes and one callback per step wakes their handlers on the event loop.  A cancelled request (its client
went away) has its rows stopped before the next step.  Admission is bounded: at most `max_rows` rows run,
at most `max_queue` requests wait; `submit` refuses more (the app answers 429).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable

import numpy as np

from ..errors import UserError
from ..sampling.generator import Batch, Generator
from ..sampling.sampler import check_finite, pick
from .choice import Choice, Delta
from .request import CompletionRequest

_ids = itertools.count(1)


class Overloaded(Exception):
    """The queue is full: try again later."""


class Job:
    """One request's rows in the loop: a Batch per prompt, a Choice per row, and the outbox its handler reads."""

    def __init__(self, request: CompletionRequest, generator: Generator):
        self.id = f"cmpl-{next(_ids)}-{int(time.time() * 1000)}"
        self.created = int(time.time())
        self.request = request
        self.batches: list[Batch] = []
        self.choices: list[list[Choice]] = []
        for p, prompt in enumerate(request.prompts):
            batch = generator.start(
                n=request.n,
                temperature=request.temperature,
                prefix=prompt or None,
                seed=request.seed,
                new_tokens=request.max_tokens,
            )
            self.batches.append(batch)
            self.choices.append(
                [
                    Choice(p * request.n + i, generator, row, request.stop, request.echo, request.logprobs)
                    for i, row in enumerate(batch.rows)
                ]
            )
        self.rows = sum(len(b.rows) for b in self.batches)
        self.outbox: deque[Delta] = deque()
        self.cancelled = False  # set by the handler's side; the loop stops the rows before its next step
        self.finished = False
        self.error: str | None = None
        self.event: asyncio.Event | None = None  # set on the event loop when there is news

    @property
    def prompt_tokens(self) -> int:
        return sum(c[0].prompt_tokens for c in self.choices)

    @property
    def completion_tokens(self) -> int:
        return sum(c.generated for cs in self.choices for c in cs)

    def cancel(self) -> None:
        self.cancelled = True


def leading_padding(windows: np.ndarray) -> np.ndarray:
    """Per row of `windows` [B, L], how many leading positions are padding (index 0)."""
    nonzero = windows != 0
    return np.where(nonzero.any(axis=1), nonzero.argmax(axis=1), windows.shape[1])


class Engine:
    """The continuous-batching loop over one Generator (one loaded model).

    `group_by_padding`: call the model once per group of rows with the same leading padding, for an adapter whose
    fast path needs equal padding within a call (exact either way; the full path takes every row in one call).
    """

    def __init__(
        self, generator: Generator, max_rows: int = 256, max_queue: int = 256, group_by_padding: bool = False
    ):
        self.generator = generator
        self.max_rows, self.max_queue, self.group_by_padding = max_rows, max_queue, group_by_padding
        self.pending: deque[Job] = deque()
        self.active: list[Job] = []
        self.cond = threading.Condition()
        self.closing = False
        self.thread: threading.Thread | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.calls = 0  # model calls made (for tests and the health endpoint)
        self.steps = 0
        self.on_call: Callable[[np.ndarray], None] | None = None  # sees each call's windows (tests)

    # -- the handlers' side (event loop thread) --------------------------------------------------------------

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.thread = threading.Thread(target=self.run, name="textgen-engine", daemon=True)
        self.thread.start()

    def submit(self, job: Job) -> None:
        """Queue `job`; Overloaded when the queue is full.  Its event is set whenever it has news."""
        job.event = asyncio.Event()
        with self.cond:
            if self.closing:
                raise Overloaded("the server is shutting down")
            if len(self.pending) >= self.max_queue:
                raise Overloaded(f"{len(self.pending)} requests are waiting")
            self.pending.append(job)
            self.cond.notify()

    def close(self) -> None:
        """Finish the work in hand, then stop the loop."""
        with self.cond:
            self.closing = True
            self.cond.notify()
        if self.thread is not None:
            self.thread.join()

    def stats(self) -> dict:
        with self.cond:
            return {
                "active_rows": sum(sum(b.active.size for b in j.batches) for j in self.active),
                "active_requests": len(self.active),
                "queued_requests": len(self.pending),
                "steps": self.steps,
            }

    # -- the loop (its own thread) ---------------------------------------------------------------------------

    def run(self) -> None:
        while True:
            with self.cond:
                while not self.active and not self.pending:
                    if self.closing:
                        return
                    self.cond.wait()
                self.admit()
            finished = self.step()
            if finished:
                self.wake(finished)

    def admit(self) -> None:
        """Move waiting requests into the loop while their rows fit (the first one always fits)."""
        rows = sum(j.rows for j in self.active)
        while self.pending and (not self.active or rows + self.pending[0].rows <= self.max_rows):
            job = self.pending.popleft()
            self.active.append(job)
            rows += job.rows

    def step(self) -> list[Job]:
        """One model call (per group) for every active row; returns the jobs with news for their handlers."""
        news, live = [], []
        for job in self.active:
            if job.cancelled:
                for batch in job.batches:
                    self.generator.stop(batch)
            if all(b.active.size == 0 for b in job.batches):
                job.finished = True  # after its last output went into the outbox
                news.append(job)
            else:
                live.append(job)
        with self.cond:
            self.active = [j for j in self.active if not j.finished]
        parts = [(job, p, batch) for job in live for p, batch in enumerate(job.batches) if batch.active.size]
        if not parts:
            return news
        windows = np.concatenate([batch.windows[batch.active] for _, _, batch in parts])
        try:
            probs = check_finite(self.probs(windows))  # a damaged model's NaN: the reason, not tokens
        except Exception as exc:  # noqa: BLE001 — the model failed: its requests end with the reason, the loop goes on
            reason = (
                str(exc) if isinstance(exc, UserError) else f"the model call failed ({type(exc).__name__})"
            )
            for job in live:
                job.error = reason
                for batch in job.batches:
                    self.generator.stop(batch)
            return news + live
        self.steps += 1
        chosen = self.sample(probs, parts)
        offset = 0
        for job, p, batch in parts:
            size = batch.active.size
            temperature = self.generator.temperature(batch)
            rows_probs = probs[offset : offset + size]
            events = self.generator.accept(batch, chosen[offset : offset + size])
            stopped = []
            for b, (i, token) in enumerate(events):
                row = batch.rows[i]
                choice = job.choices[p][i]
                if choice.add(row, token, rows_probs[b], temperature, int(chosen[offset + b])):
                    stopped.append(i)
            if stopped:
                self.generator.stop(batch, stopped)
            offset += size
            if job.request.stream:
                self.flush(job, p)
        for job in live:
            if all(b.active.size == 0 for b in job.batches):
                job.finished = True  # now, not a step later: its handler answers at once
            if job.finished or (job.request.stream and job.outbox):
                news.append(job)
        with self.cond:
            self.active = [j for j in self.active if not j.finished]
        return news

    def probs(self, windows: np.ndarray) -> np.ndarray:
        """The model's probabilities for every window: one call, or one per padding count when grouping."""
        groups = [np.arange(len(windows))]
        if self.group_by_padding:
            padding = leading_padding(windows)
            if np.any(padding != padding[0]):
                groups = [np.flatnonzero(padding == k) for k in np.unique(padding)]
        if len(groups) == 1:
            return np.asarray(self.call(windows))
        out = None
        for rows in groups:
            part = np.asarray(self.call(windows[rows]))
            if out is None:
                out = np.empty((len(windows), part.shape[1]), dtype=part.dtype)
            out[rows] = part
        return out

    def call(self, windows: np.ndarray) -> np.ndarray:
        self.calls += 1
        if self.on_call is not None:
            self.on_call(windows)
        return self.generator.adapter.probs(windows)

    def sample(self, probs: np.ndarray, parts: list[tuple[Job, int, Batch]]) -> np.ndarray:
        """One token index per row: one `pick` per temperature over the rows at that temperature this step."""
        temps, rngs = [], []
        for _, _, batch in parts:
            temps.extend([self.generator.temperature(batch)] * batch.active.size)
            rngs.extend(batch.rows[i].rng for i in batch.active)
        temps = np.asarray(temps)
        if np.all(temps == temps[0]):
            return np.asarray(pick(probs, float(temps[0]), rngs))
        chosen = np.empty(len(temps), dtype=np.int64)
        for t in np.unique(temps):
            rows = np.flatnonzero(temps == t)
            chosen[rows] = pick(probs[rows], float(t), [rngs[r] for r in rows])
        return chosen

    def flush(self, job: Job, p: int) -> None:
        for choice in job.choices[p]:
            delta = choice.flush()
            if delta is not None:
                job.outbox.append(delta)

    def wake(self, jobs: list[Job]) -> None:
        """Tell the jobs' handlers there is news: one callback on the event loop per step."""
        if self.loop is None or self.loop.is_closed():
            return
        events = [j.event for j in jobs if j.event is not None]
        try:
            self.loop.call_soon_threadsafe(_set_all, events)
        except RuntimeError:  # the event loop closed under us (shutdown): nobody is waiting
            pass


def _set_all(events: list[asyncio.Event]) -> None:
    for event in events:
        event.set()
