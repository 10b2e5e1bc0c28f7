"""Texts → one int token array + document starts + the positions of every training target.

Layout: `ids` starts with `max_length` zeros (so every window `ids[p - max_length : p]` is in range), then each
document as `[<s>] + tokens + [<s>]` (single_text: just its tokens). A training pair is a target position `p`;
its input is the window ending just before `p`, with tokens from before the document's start masked to 0.
Memory per corpus token: 2 bytes of ids (4 when the vocabulary exceeds 65,535) + 4 bytes of target position —
never `max_length` copies of the text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ..contract.config import ModelConfig
from ..contract.tokens import META_TOKEN, word_tokens
from ..contract.vocabulary import Vocabulary

# Long texts are tokenised in chunks of about this many characters, so a 100 MB text never becomes a
# 100-million-element Python list.
CHUNK_CHARS = 1 << 20


@dataclass
class Corpus:
    ids: np.ndarray  # uint16 | int32 [max_length + total tokens]
    doc_starts: np.ndarray  # int64 [documents]: index in ids of each document's first token
    positions: np.ndarray  # uint32 | int64 [pairs]: target index in ids of every training pair
    max_length: int
    num_tokens: int

    @property
    def num_pairs(self) -> int:
        return len(self.positions)

    @property
    def num_documents(self) -> int:
        return len(self.doc_starts)


def text_chunks(text: str, word_level: bool) -> Iterator[str]:
    """Pieces of `text` that tokenise independently: char level cuts anywhere; word level cuts just after a
    space, newline or tab (each a token boundary), looking forward when a chunk holds none."""
    start = 0
    while start < len(text):
        end = min(start + CHUNK_CHARS, len(text))
        if word_level and end < len(text):
            cut = max(text.rfind(c, start, end) for c in " \n\t")
            if cut < start:
                found = [i for i in (text.find(c, end) for c in " \n\t") if i >= 0]
                cut = min(found) if found else len(text) - 1
            end = cut + 1
        yield text[start:end]
        start = end


def token_chunks(texts: Iterable[str], word_level: bool) -> Iterator[Sequence[str]]:
    """Token sequences whose concatenation per text is `tokenize(text)`: a str is a sequence of chars."""
    for text in texts:
        for chunk in text_chunks(text, word_level):
            yield word_tokens(chunk) if word_level else chunk


def new_vocabulary(texts: Sequence[str], config: ModelConfig) -> Vocabulary:
    """`Vocabulary.from_texts` over the same token sequences training uses, without one list per char."""
    return Vocabulary.build(
        token_chunks(texts, config.word_level), config.max_words, config.word_level, config.single_text
    )


class Encoder:
    """Token → index, vectorised for characters through a code-point lookup table."""

    def __init__(self, vocab: Vocabulary, dtype):
        self.vocab = vocab
        self.dtype = dtype
        self.table = None
        if not vocab.word_level:
            chars = {t: i for t, i in vocab.token_to_index.items() if len(t) == 1}
            self.table = np.zeros(0x110000, dtype=dtype)
            self.table[[ord(c) for c in chars]] = list(chars.values())

    def encode(self, text: str) -> np.ndarray:
        if self.table is not None:
            out = np.empty(len(text), dtype=self.dtype)  # one token per code point
            self.encode_into(text, out)
            return out
        parts = [
            np.asarray(self.vocab.encode(word_tokens(c)), dtype=self.dtype) for c in text_chunks(text, True)
        ]
        return np.concatenate(parts) if parts else np.zeros(0, self.dtype)

    def encode_into(self, text: str, out: np.ndarray) -> None:
        """Char level: write the indices of `text` straight into `out`, a chunk at a time."""
        done = 0
        for chunk in text_chunks(text, False):
            points = np.frombuffer(chunk.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
            out[done : done + len(points)] = self.table[points]
            done += len(points)


def build_corpus(texts: Sequence[str], vocab: Vocabulary, max_length: int, single_text: bool) -> Corpus:
    """Encode every text into one array and list the target positions of all training pairs.

    Targets outside the vocabulary (index 0) are skipped; single_text drops windows that would need padding.
    """
    ids_dtype = np.uint16 if vocab.num_classes <= np.iinfo(np.uint16).max else np.int32
    encoder = Encoder(vocab, ids_dtype)
    meta = vocab.meta_index if not single_text else None
    if not single_text and meta is None:
        raise ValueError(f"the vocabulary has no {META_TOKEN}; train with single_text or add it")
    # Char level has one token per code point, so the array is sized first and filled in place (a 100 MB text
    # never exists twice as ids); word level must tokenise to know its length.
    encoded = [encoder.encode(t) for t in texts] if vocab.word_level else None
    sizes = [len(e) for e in encoded] if encoded is not None else [len(t) for t in texts]
    wrap = 0 if single_text else 2
    lengths = np.array(sizes, dtype=np.int64) + wrap
    doc_starts = max_length + np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    total = int(max_length + lengths.sum())
    ids = np.zeros(total, dtype=ids_dtype)
    for k, start in enumerate(doc_starts):
        body = start if single_text else start + 1
        if encoded is None:
            encoder.encode_into(texts[k], ids[body : body + sizes[k]])
        else:
            ids[body : body + sizes[k]] = encoded[k]
        if not single_text:
            ids[start] = ids[body + sizes[k]] = meta
    del encoded
    dtype = np.uint32 if total < np.iinfo(np.uint32).max else np.int64
    positions = _target_positions(
        ids, doc_starts, doc_starts + lengths, max_length if single_text else 1, dtype
    )
    return Corpus(ids, doc_starts, positions, max_length, total - max_length)


def _target_positions(ids: np.ndarray, starts: np.ndarray, ends: np.ndarray, skip: int, dtype) -> np.ndarray:
    """Indices of every training target: in-vocabulary tokens with at least `skip` tokens of their document
    before them. Two passes over chunks (count, then fill), so no corpus-sized mask or int64 array is built."""
    step = CHUNK_CHARS * 8

    def chunk(a: int, b: int) -> np.ndarray:
        keep = ids[a:b] != 0  # also drops the leading padding
        lo, hi = np.searchsorted(starts, [a - skip, b])
        if skip == 1:  # one token per document (its leading <s>): vectorised, for corpora of many lines
            inside = starts[lo:hi]
            keep[inside[inside >= a] - a] = False
            return keep
        for start, end in zip(starts[lo:hi].tolist(), ends[lo:hi].tolist(), strict=True):
            first, last = max(start, a), min(start + skip, end, b)
            if last > first:
                keep[first - a : last - a] = False
        return keep

    count = sum(int(np.count_nonzero(chunk(a, a + step))) for a in range(0, len(ids), step))
    out = np.empty(count, dtype=dtype)
    filled = 0
    for a in range(0, len(ids), step):
        found = np.flatnonzero(chunk(a, a + step)) + a
        out[filled : filled + len(found)] = found
        filled += len(found)
    return out
