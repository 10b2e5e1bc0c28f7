"""The shared generation loop: windows in, tokens out, over any runtime adapter.

A runtime adapter (sampling/adapter.py) is anything with `probs(windows: int32[B, max_length]) -> float32[B, V]`;
generating for context labels also needs `probs(windows, context=float32[B, labels])` (the context head).
Everything else (windowing, temperature schedule, prefix, stop rules, seeding, detokenising) lives here, once.
All `n` texts run as one batch; rows that finish drop out of the batch.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..contract.config import ModelConfig
from ..contract.labels import ContextLabels, check_context
from ..contract.tokens import META_TOKEN, Detokenizer, detokenize
from ..contract.vocabulary import Vocabulary
from ..errors import UserError
from .rng import SplitMix64
from .sampler import check_finite, check_temperatures, pick
from .trace import Trace, TraceStep, check_top_k, top_candidates, window_tokens

if TYPE_CHECKING:
    from .adapter import ProbsAdapter

MAX_GEN_LENGTH = 100_000
MAX_PREFIX_CHARS = 100_000
MAX_N = 100_000


def check_max_gen_length(max_gen_length: int) -> int:
    if isinstance(max_gen_length, bool) or not isinstance(max_gen_length, int | np.integer):
        raise UserError(f"max_gen_length must be an integer, got {max_gen_length!r}")
    if not 1 <= max_gen_length <= MAX_GEN_LENGTH:
        raise UserError(f"max_gen_length must be from 1 to {MAX_GEN_LENGTH} tokens, got {max_gen_length}")
    return int(max_gen_length)


def check_n(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or not 1 <= n <= MAX_N:
        raise UserError(f"n (number of texts) must be an integer from 1 to {MAX_N}, got {n!r}")
    return int(n)


def check_prefix(prefix: str | None) -> str | None:
    if prefix is None or prefix == "":
        return None
    if not isinstance(prefix, str):
        raise UserError(f"prefix must be a string, got {type(prefix).__name__}")
    if not prefix.isascii():
        try:
            prefix.encode("utf-8")
        except UnicodeEncodeError:  # bytes that were not UTF-8 (on a command line) arrive as lone surrogates
            raise UserError(
                "prefix is not valid UTF-8 text (it holds a lone surrogate, e.g. from bytes that were not "
                "UTF-8); give it in UTF-8"
            ) from None
    if len(prefix) > MAX_PREFIX_CHARS:
        raise UserError(
            f"prefix is {len(prefix)} characters, over the limit of {MAX_PREFIX_CHARS}; "
            "only the last max_length tokens matter, so pass a shorter prefix"
        )
    return prefix


def check_seed(seed: int | None) -> int | None:
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise UserError(f"seed must be an integer, got {seed!r}")
    return int(seed)


@dataclass
class Row:
    """One text being generated: its tokens (with the leading `<s>`), whether it is done, and how it ended."""

    tokens: list[str]
    rng: SplitMix64
    done: bool = False
    ended: bool = False  # reached `<s>` or max_gen_length (False when stopped at a break token)


@dataclass
class Batch:
    """The state of `n` texts generated together; `active` holds the rows still running."""

    rows: list[Row]
    temperatures: list[float]
    max_gen_length: int
    windows: np.ndarray
    active: np.ndarray
    break_tokens: frozenset[str] = frozenset()
    context: np.ndarray | None = None  # the label vector every row is generated for (None: text path)

    def context_rows(self) -> np.ndarray | None:
        """The label vector once per active row, as the context head takes it."""
        if self.context is None:
            return None
        return np.repeat(self.context[None, :], len(self.active), axis=0)


class Generator:
    """Generates text with textgenrnn semantics from a runtime adapter, a vocabulary and a config; with the
    model's context `labels`, also for a label (or several): `generate(context="fruit")`."""

    def __init__(
        self,
        adapter: ProbsAdapter,
        vocab: Vocabulary,
        config: ModelConfig,
        labels: ContextLabels | None = None,
    ):
        self.adapter = adapter
        self.vocab = vocab
        self.config = config
        self.labels = labels

    def start_tokens(self, prefix: str | None) -> list[str]:
        prefix_tokens = self.vocab.tokenize(prefix) if prefix else []
        if self.config.single_text:
            return prefix_tokens or [""]
        return [META_TOKEN, *prefix_tokens]

    def finish_text(self, tokens: Sequence[str]) -> str:
        """The user-visible text: drop `<s>` markers (or single_text's warm-up window) and join.

        Appending a token only ever appends to this text, which is what makes streaming exact.
        """
        visible = list(tokens[self.first_visible() :])
        if not self.config.single_text and META_TOKEN in visible:
            visible.remove(META_TOKEN)
        return detokenize(visible, self.config.word_level)

    def start(
        self,
        n: int = 1,
        temperature: float | Sequence[float] = 0.5,
        prefix: str | None = None,
        max_gen_length: int = 300,
        seed: int | None = None,
        break_tokens: Sequence[str] = (),
        context: str | Sequence[str] | None = None,
        new_tokens: int | None = None,
    ) -> Batch:
        """Validate the options and set up a batch of `n` texts (text i draws from stream `seed + i`).

        `context`: a label, `a|b` or a list of labels to generate for (the context head); None: the text path.
        `new_tokens`, when given, replaces `max_gen_length`: at most that many tokens after the start tokens
        (`<s>` and the prefix; single_text: the warm-up window), the end marker included."""
        n = check_n(n)
        vector = check_context(self.labels, context)
        temps = check_temperatures(temperature)
        max_gen_length = check_max_gen_length(max_gen_length if new_tokens is None else new_tokens)
        prefix = check_prefix(prefix)
        seed = check_seed(seed)
        base = seed if seed is not None else secrets.randbits(63)
        start = self.start_tokens(prefix)
        if new_tokens is not None:
            max_gen_length += max(len(start), self.first_visible())
        elif self.config.single_text:  # textgenrnn counts the warm-up window in single_text mode
            max_gen_length += self.config.max_length
        finished = len(start) >= max_gen_length
        rows = [Row(list(start), SplitMix64(base + i), finished, finished) for i in range(n)]
        windows = self.vocab.windows([start] * n, self.config.max_length)
        active = np.arange(0 if finished else n)
        return Batch(rows, temps, max_gen_length, windows, active, frozenset(break_tokens), vector)

    def model_probs(self, batch: Batch) -> np.ndarray:
        """The model's next-token probabilities for the active rows (the context head's when a label is set)."""
        every_row = len(batch.active) == len(batch.windows)  # no gathered copy while every row runs
        windows = batch.windows if every_row else batch.windows[batch.active]
        if batch.context is None:
            return np.asarray(self.adapter.probs(windows))
        return np.asarray(self.adapter.probs(windows, context=batch.context_rows()))

    def advance(self, batch: Batch) -> list[tuple[int, str]]:
        """One model call for the active rows; returns the (row index, new token) pairs it produced."""
        return self.apply(batch, self.model_probs(batch))

    @staticmethod
    def temperature(batch: Batch) -> float:
        """This step's temperature: all active rows have the same length, so they share it."""
        temps = batch.temperatures
        return temps[(len(batch.rows[batch.active[0]].tokens) - 1) % len(temps)]

    def apply(self, batch: Batch, probs: np.ndarray) -> list[tuple[int, str]]:
        """Sample one token per active row from `probs` [len(active), V] and move the batch on."""
        rngs = [batch.rows[i].rng for i in batch.active.tolist()]
        return self.accept(batch, pick(check_finite(probs), self.temperature(batch), rngs))

    def accept(self, batch: Batch, chosen: np.ndarray) -> list[tuple[int, str]]:
        """Append each active row's chosen token index, apply the stop rules and shift the windows.

        Rows draw from their own streams, so the indices may come from one `pick` over rows of many batches
        that share this step's temperature (the server's continuous batching does that)."""
        active = batch.active
        rows = batch.rows
        events, keep = [], []
        stop_on_any_word = bool(batch.break_tokens) and self.config.word_level
        token = self.vocab.token
        # Python ints, not numpy scalars, in the per-row loop: it runs once per token of every text
        for i, idx in zip(active.tolist(), np.asarray(chosen).tolist(), strict=True):
            row = rows[i]
            tok = token(idx)
            row.tokens.append(tok)
            events.append((i, tok))
            if tok == META_TOKEN or len(row.tokens) >= batch.max_gen_length:
                row.done = row.ended = True
            elif tok in batch.break_tokens or stop_on_any_word:
                row.done = True
            else:
                keep.append(i)
        windows = batch.windows
        if len(active) == len(windows):  # every row still running: shift in place, no gathered copies
            windows[:, :-1] = windows[:, 1:]
            windows[:, -1] = chosen
        else:
            windows[active, :-1] = windows[active, 1:]
            windows[active, -1] = chosen
        if len(keep) < len(active):
            batch.active = np.asarray(keep, dtype=np.int64)
        return events

    @staticmethod
    def stop(batch: Batch, rows: Sequence[int] | None = None) -> None:
        """End `rows` (default: every active row) before their next token, as a break token would."""
        ending = batch.active if rows is None else np.intersect1d(batch.active, rows)
        for i in ending:
            batch.rows[i].done = True
        batch.active = np.setdiff1d(batch.active, ending).astype(np.int64)

    def generate(self, n: int = 1, on_text: Callable[[int, str], None] | None = None, **options) -> list[str]:
        """Generate `n` texts; `on_text(i, text)` is called as each one finishes."""
        batch = self.start(n=n, **options)
        while batch.active.size:
            for i, _ in self.advance(batch):
                if on_text and batch.rows[i].done:
                    on_text(i, self.finish_text(batch.rows[i].tokens))
        return [self.finish_text(r.tokens) for r in batch.rows]

    def trace(self, n: int = 1, top_k: int = 5, **options) -> list[Trace]:
        """Generate like `generate`, recording every step of each text: the window the model read, its attention
        over that window and the `top_k` most likely next tokens with the probabilities the sampler drew from.

        The adapter must also return attention: `outputs(windows) -> (probs, attention)`.  Seeded texts equal
        `generate`'s for the same options.
        """
        top_k = check_top_k(top_k)
        outputs = getattr(self.adapter, "outputs", None)
        if outputs is None:
            raise UserError(f"the {type(self.adapter).__name__} runtime does not report attention")
        batch = self.start(n=n, **options)
        steps: list[list[TraceStep]] = [[] for _ in batch.rows]
        while batch.active.size:
            active = batch.active
            extra = {} if batch.context is None else {"context": batch.context_rows()}
            probs, attention = (np.asarray(a) for a in outputs(batch.windows[active], **extra))
            temp = self.temperature(batch)
            before = [list(batch.rows[i].tokens) for i in active]
            for b, (i, tok) in enumerate(self.apply(batch, probs)):
                window = window_tokens(before[b], self.config.max_length)
                candidates = top_candidates(probs[b], temp, top_k, self.vocab)
                steps[i].append(TraceStep(window, attention[b].astype(np.float64), temp, candidates, tok))
        return [
            Trace(self.finish_text(row.tokens), list(row.tokens), row_steps)
            for row, row_steps in zip(batch.rows, steps, strict=True)
        ]

    def first_visible(self) -> int:
        """Index of the first token the user sees: after `<s>`, or after single_text's warm-up window."""
        return self.config.max_length if self.config.single_text else 1

    def stream(self, n: int = 1, **options) -> Iterator[tuple[int, str]]:
        """Yield (row, text piece) as tokens are produced; the pieces of row i join to its final text.

        Linear in the text's length: each token is detokenised once (an incremental Detokenizer per row).
        """
        batch = self.start(n=n, **options)
        joiners = [Detokenizer(self.config.word_level) for _ in batch.rows]
        for i, row in enumerate(batch.rows):
            piece = self.opening(row, joiners[i])
            if piece:
                yield i, piece
        while batch.active.size:
            for i, tok in self.advance(batch):
                piece = self.piece(batch.rows[i], tok, joiners[i])
                if piece:
                    yield i, piece

    def opening(self, row: Row, joiner: Detokenizer) -> str:
        """The visible text of a row's start tokens (the prefix), pushed through `joiner`."""
        return "".join(joiner.push(t) for t in row.tokens[self.first_visible() :])

    def piece(self, row: Row, tok: str, joiner: Detokenizer) -> str:
        """The text that `tok`, just appended to `row`, adds to it: none for single_text's warm-up window or for
        the end marker; otherwise `joiner`'s piece (so the pieces join to exactly `finish_text`)."""
        if len(row.tokens) <= self.first_visible():
            return ""
        if tok == META_TOKEN and not self.config.single_text:
            return ""
        return joiner.push(tok)
