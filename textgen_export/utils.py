"""`textgen_export.utils`: the drop-in for `textgenrnn.utils`, so `from textgenrnn.utils import synthesize`
keeps working after changing the package name.

The functions textgenrnn scripts import from it: ensemble generation (`synthesize`, `synthesize_to_file`), the
file readers textgenrnn's training used, and window encoding.  Each delegates to the one implementation.
"""

from __future__ import annotations

import numpy as np

from .api.compat import synthesize, synthesize_to_file

__all__ = [
    "synthesize",
    "synthesize_to_file",
    "textgenrnn_texts_from_file",
    "textgenrnn_texts_from_file_context",
    "textgenrnn_encode_sequence",
]


def textgenrnn_texts_from_file(file_path, header=True, delim="\n", is_csv=False) -> list[str]:
    """One text per line (or per `delim`), or the first column of a CSV: as textgenrnn's reader."""
    from .training.texts import read_texts

    return read_texts(file_path, header, delim, is_csv)


def textgenrnn_texts_from_file_context(file_path, header=True) -> tuple[list[str], list[str]]:
    """A two-column CSV of text and context label."""
    from .training.texts import read_context_texts

    return read_context_texts(file_path, header)


def textgenrnn_encode_sequence(text, vocab: dict, maxlen: int) -> np.ndarray:
    """One window: the characters of `text` as vocabulary indices (unknown → 0), last `maxlen`, left-padded
    with 0; shape [1, maxlen], like the original.  `text` may be a string or a list of tokens."""
    tokens = list(text)
    encoded = [vocab.get(t, 0) for t in tokens][-maxlen:] if maxlen else []
    window = np.zeros((1, maxlen), dtype=np.int32)
    if encoded:
        window[0, maxlen - len(encoded) :] = encoded
    return window
