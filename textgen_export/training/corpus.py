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

from ..config import ModelConfig
from ..tokens import META_TOKEN, word_tokens
from ..vocabulary import Vocabulary

# Long texts are tokenised in chunks of about this many characters, so a 100 MB text never becomes a
# 100-million-element Python list.
CHUNK_CHARS = 1 << 20


@dataclass
class Corpus:
    ids: np.ndarray  # uint16 | int32 [max_length + total tokens]
    doc_starts: np.ndarray  # int64 [documents]: index in ids of each document's first token
    positions: np.ndarray  # uint32 | int64 [pairs]: target index in ids of every training pair
    max_length: int

    @property
    def num_pairs(self) -> int:
        return len(self.positions)

    @property
    def num_tokens(self) -> int:
        return len(self.ids) - self.max_length

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
        parts = []
        for chunk in text_chunks(text, self.vocab.word_level):
            if self.table is not None:
                points = np.frombuffer(chunk.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
                parts.append(self.table[points])
            else:
                parts.append(np.asarray(self.vocab.encode(word_tokens(chunk)), dtype=self.dtype))
        return np.concatenate(parts) if parts else np.zeros(0, self.dtype)


def build_corpus(texts: Sequence[str], vocab: Vocabulary, max_length: int, single_text: bool) -> Corpus:
    """Encode every text into one array and list the target positions of all training pairs.

    Targets outside the vocabulary (index 0) are skipped; single_text drops windows that would need padding.
    """
    ids_dtype = np.uint16 if vocab.num_classes <= np.iinfo(np.uint16).max else np.int32
    encoder = Encoder(vocab, ids_dtype)
    meta = vocab.meta_index if not single_text else None
    if not single_text and meta is None:
        raise ValueError(f"the vocabulary has no {META_TOKEN}; train with single_text or add it")
    encoded = [encoder.encode(t) for t in texts]
    wrap = 0 if single_text else 2
    lengths = np.array([len(e) + wrap for e in encoded], dtype=np.int64)
    doc_starts = max_length + np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    total = int(max_length + lengths.sum())
    ids = np.zeros(total, dtype=ids_dtype)
    for start, e in zip(doc_starts, encoded, strict=True):
        if single_text:
            ids[start : start + len(e)] = e
        else:
            ids[start] = meta
            ids[start + 1 : start + 1 + len(e)] = e
            ids[start + 1 + len(e)] = meta
    del encoded
    # A target needs at least one real token before it in its document (single_text: a full window).
    keep = ids != 0
    skip = max_length if single_text else 1
    ends = doc_starts + lengths
    for start, end in zip(doc_starts, ends, strict=True):  # per document, not per token
        keep[start : min(start + skip, end)] = False
    keep[:max_length] = False
    positions = _nonzero(keep, np.uint32 if total < np.iinfo(np.uint32).max else np.int64)
    return Corpus(ids, doc_starts, positions, max_length)


def _nonzero(mask: np.ndarray, dtype) -> np.ndarray:
    """`np.flatnonzero` in chunks, so 100M positions never pass through an int64 array of that size."""
    out = np.empty(int(np.count_nonzero(mask)), dtype=dtype)
    filled = 0
    for start in range(0, len(mask), CHUNK_CHARS * 8):
        found = np.flatnonzero(mask[start : start + CHUNK_CHARS * 8]) + start
        out[filled : filled + len(found)] = found
        filled += len(found)
    return out
