"""Text on its way out.  Generated text comes from a model, and a model's vocabulary can hold anything: terminal
control sequences that forge output lines, or lone surrogates that UTF-8 cannot encode.  A terminal gets control
characters escaped (repr-style); files get the exact text, with only what UTF-8 cannot hold escaped."""

from __future__ import annotations

import re

# C0 (except tab and newline), DEL, C1, and the bidirectional overrides that reorder what a terminal shows.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def for_terminal(text: str) -> str:
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def utf8(text: str) -> bytes:
    """UTF-8 bytes of `text`; lone surrogates (not encodable) become backslash escapes instead of an error."""
    return text.encode("utf-8", "backslashreplace")
