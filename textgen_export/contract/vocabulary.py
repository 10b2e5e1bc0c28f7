"""Vocabulary: token <-> index, textgenrnn's `*_vocab.json` format, and window encoding."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..files.atomic import write_text
from .config import read_json
from .tokens import META_TOKEN, tokenize

MAX_VOCAB = 1_000_000


class Vocabulary:
    """Index 0 is padding/unknown; real tokens are 1..len(vocab); `num_classes = len(vocab) + 1`."""

    def __init__(self, token_to_index: dict[str, int], word_level: bool = False):
        _validate(token_to_index)
        self.token_to_index = dict(token_to_index)
        self.word_level = word_level
        self.index_to_token: dict[int, str] = {i: t for t, i in self.token_to_index.items()}

    # -- building ---------------------------------------------------------------------------------------------
    @classmethod
    def build(
        cls, token_lists: Iterable[Sequence[str]], max_words: int, word_level: bool, single_text: bool = False
    ) -> Vocabulary:
        """Frequency order (ties keep first-seen order), cut to `max_words`, then `<s>` unless single_text."""
        counts: Counter[str] = Counter()
        for tokens in token_lists:
            counts.update(tokens)
        # Counter keeps insertion order and sorted() is stable, so ties stay in first-seen order.
        ordered = sorted(counts, key=lambda t: -counts[t])[:max_words]
        mapping = {tok: i for i, tok in enumerate(ordered, start=1)}
        if not single_text:
            mapping.pop(META_TOKEN, None)
            mapping[META_TOKEN] = len(mapping) + 1
        return cls(mapping, word_level)

    @classmethod
    def from_texts(cls, texts: Iterable[str], max_words: int, word_level: bool, single_text: bool = False):
        return cls.build((tokenize(t, word_level) for t in texts), max_words, word_level, single_text)

    # -- file format -------------------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path, word_level: bool = False) -> Vocabulary:
        return cls(read_json(path, "vocab"), word_level)

    def to_json(self) -> str:
        return json.dumps(self.token_to_index, ensure_ascii=False)

    def save(self, path: str | Path) -> None:
        write_text(path, self.to_json())

    # -- lookups -----------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.token_to_index)

    @property
    def num_classes(self) -> int:
        return len(self.token_to_index) + 1

    @property
    def meta_index(self) -> int | None:
        return self.token_to_index.get(META_TOKEN)

    def tokenize(self, text: str) -> list[str]:
        return tokenize(text, self.word_level)

    def encode(self, tokens: Sequence[str]) -> list[int]:
        get = self.token_to_index.get
        return [get(t, 0) for t in tokens]

    def token(self, index: int) -> str:
        return self.index_to_token.get(int(index), "")

    def windows(self, token_lists: Sequence[Sequence[str]], max_length: int) -> np.ndarray:
        """Encode each token list as one window: last `max_length` tokens, left-padded with 0."""
        out = np.zeros((len(token_lists), max_length), dtype=np.int32)
        for row, tokens in enumerate(token_lists):
            ids = self.encode(tokens[-max_length:])
            if ids:
                out[row, max_length - len(ids) :] = ids
        return out


def _validate(mapping: object) -> None:
    if not isinstance(mapping, dict):
        raise UserError(f"vocab must be a JSON object of token -> index, got {type(mapping).__name__}")
    if len(mapping) > MAX_VOCAB:
        raise UserError(f"vocab has {len(mapping)} entries, over the limit of {MAX_VOCAB}")
    if not mapping:
        raise UserError("vocab is empty; it needs at least one token")
    seen: set[int] = set()
    for tok, idx in mapping.items():
        if not isinstance(tok, str):
            raise UserError(f"vocab keys must be strings, got {tok!r}")
        if isinstance(idx, bool) or not isinstance(idx, int):
            raise UserError(f"vocab index for {tok!r} must be an integer, got {idx!r}")
        if idx in seen:
            raise UserError(
                f"vocab index {idx} is used twice (again by {tok!r}); each token needs its own index"
            )
        seen.add(idx)
    if min(seen) != 1 or max(seen) != len(seen):
        missing = sorted(set(range(1, len(seen) + 1)) - seen)[:3]
        raise UserError(
            f"vocab indices must be exactly 1..{len(seen)} (index 0 is padding); "
            f"found range {min(seen)}..{max(seen)}, missing e.g. {missing}"
        )
