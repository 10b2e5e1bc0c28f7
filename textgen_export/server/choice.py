"""One completion choice: a generated row's text after the prompt, its stop strings, its logprobs.

The text is the Generator's own pieces (`Generator.opening`/`piece`), so prompt + text is exactly the text
`generate` gives for the row, cut before the first stop string.  While streaming, the end of the text that could
still become a stop string is held back until it cannot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..contract.tokens import META_TOKEN, Detokenizer
from ..sampling.generator import Generator, Row
from ..sampling.trace import drawn_from, ranked

NO_PROBABILITY = -9999.0  # the logprob given for probability 0 (JSON has no -Infinity)


def logprob(p: float) -> float:
    return math.log(p) if p > 0 else NO_PROBABILITY


@dataclass
class Delta:
    """What a choice added since the last flush: text, its tokens' logprobs, and how it ended (None: not yet)."""

    index: int
    text: str
    finish_reason: str | None
    tokens: list[str] = field(default_factory=list)
    token_logprobs: list[float] = field(default_factory=list)
    top_logprobs: list[dict[str, float]] = field(default_factory=list)
    text_offset: list[int] = field(default_factory=list)


class Choice:
    """The visible text of one row, as the OpenAI choice `index`."""

    def __init__(
        self, index: int, generator: Generator, row: Row, stops: list[str], echo: bool, top_k: int | None
    ):
        self.index, self.generator, self.stops, self.top_k = index, generator, stops, top_k
        self.joiner = Detokenizer(generator.config.word_level)
        opening = generator.opening(row, self.joiner)
        self.prompt_tokens = len(row.tokens)
        self.text = opening if echo else ""  # grows by one piece per token (str += on one owner is amortised)
        self.start = len(self.text)  # stop strings are looked for after the prompt only
        self.sent = 0  # characters of text flushed
        self.generated = 0  # tokens the model produced for this row (the end marker included)
        self.finish_reason: str | None = None
        self.logged = Delta(index, "", None)  # every logprob entry, for the whole response
        self.flushed_entries = 0
        self.closed = False  # the last delta (with the finish reason) was flushed
        self.longest_stop = max((len(s) for s in stops), default=0)

    def add(
        self, row: Row, token: str, probs_row: np.ndarray | None, temperature: float, chosen: int
    ) -> bool:
        """Take the token the Generator just appended to `row`; True when it completed a stop string."""
        self.generated += 1
        piece = self.generator.piece(row, token, self.joiner)
        offset = len(self.text)
        self.text += piece
        if self.top_k is not None and probs_row is not None and piece:
            dist = drawn_from(probs_row, temperature)
            entries = self.logged
            entries.tokens.append(token)
            entries.token_logprobs.append(logprob(float(dist[chosen])))
            entries.top_logprobs.append(
                {t: logprob(p) for t, p in ranked(dist, self.top_k, self.generator.vocab)}
            )
            entries.text_offset.append(offset)
        if self.stops and piece:
            cut = self.stop_at(offset)
            if cut is not None:
                self.text = self.text[:cut]
                self.finish_reason = "stop"
                return True
        if row.done:  # at the end marker, or at max_tokens
            self.finish_reason = "stop" if token == META_TOKEN else "length"
        return False

    def stop_at(self, offset: int) -> int | None:
        """Where the first stop string that the newest piece completed begins, if any."""
        begin = max(self.start, offset - self.longest_stop + 1)
        found = [i for i in (self.text.find(s, begin) for s in self.stops) if i >= 0]
        return min(found) if found else None

    def held_back(self) -> int:
        """Characters at the end of the text that are the start of a stop string (not sendable yet)."""
        if self.finish_reason is not None or not self.stops:
            return 0
        tail = self.text[max(self.start, len(self.text) - self.longest_stop + 1) :]
        for k in range(len(tail), 0, -1):
            if any(s.startswith(tail[-k:]) for s in self.stops):
                return k
        return 0

    def flush(self) -> Delta | None:
        """The text (and logprobs) not flushed before that is certain; None when there is nothing new."""
        end = len(self.text) - self.held_back()
        if self.closed or (end <= self.sent and self.finish_reason is None):
            return None
        delta = Delta(self.index, self.text[self.sent : end], self.finish_reason)
        logged = self.logged
        keep = [k for k in range(self.flushed_entries, len(logged.tokens)) if logged.text_offset[k] < end]
        for k in keep:
            delta.tokens.append(logged.tokens[k])
            delta.token_logprobs.append(logged.token_logprobs[k])
            delta.top_logprobs.append(logged.top_logprobs[k])
            delta.text_offset.append(logged.text_offset[k])
        self.flushed_entries += len(keep)
        self.sent = max(self.sent, end)
        self.closed = self.finish_reason is not None
        return delta

    def whole(self) -> Delta:
        """The finished choice in one piece (its logprobs for the tokens of the returned text)."""
        self.sent, self.flushed_entries, self.closed = 0, 0, False
        return self.flush()
