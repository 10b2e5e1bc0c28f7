"""Text on its way out.  Generated text comes from a model, and a model's vocabulary can hold anything: terminal
control sequences that forge output lines, or lone surrogates that UTF-8 cannot encode.  A terminal gets control
characters escaped (repr-style); files get the exact text, with only what UTF-8 cannot hold escaped."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable

# C0 (except tab and newline), DEL, C1, and the bidirectional overrides that reorder what a terminal shows.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def for_terminal(text: str) -> str:
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def shown_on(stream) -> Callable[[str], str]:
    """The one rule for model text on its way to `stream`: escaped when it is a terminal (the text must not drive
    it), exact otherwise (a pipe or a file gets what the model wrote)."""
    isatty = getattr(stream, "isatty", None)
    return for_terminal if isatty is not None and isatty() else str


def print_text(text: str = "") -> None:
    """`print` for lines that carry model text (generated texts, interactive options, training samples): to
    stdout, shown by the rule of `shown_on`.  The default `say` of every place that prints such lines."""
    out = sys.stdout
    if out is not None:  # pythonw: no stdout, print() would drop it too
        print(shown_on(out)(text), file=out, flush=True)


def utf8(text: str) -> bytes:
    """UTF-8 bytes of `text`; lone surrogates (not encodable) become backslash escapes instead of an error."""
    return text.encode("utf-8", "backslashreplace")
