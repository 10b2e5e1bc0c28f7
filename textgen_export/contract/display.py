"""How a token is shown to a person (the terminal's interactive options, the attention plot): characters that draw
nothing are named, so that no option or cell is blank.

The rule: a token made only of characters that draw nothing on their own (spaces, line breaks, format characters
such as ZWJ, variation selectors and other combining marks) is shown as the names of those characters; any other
token is shown as it is.  `<s>` is the start/end marker.
"""

from __future__ import annotations

import unicodedata

from .tokens import META_TOKEN

# Names of the characters people meet most; any other invisible character is shown as its code point (U+2061).
INVISIBLE_NAMES = {
    " ": "␣",
    "\n": "↵",
    "\t": "⇥",
    "\r": "CR",
    "\u00a0": "NBSP",
    "\u00ad": "SHY",
    "\u200b": "ZWSP",
    "\u200c": "ZWNJ",
    "\u200d": "ZWJ",
    "\u200e": "LRM",
    "\u200f": "RLM",
    "\u2060": "WJ",
    "\ufe0e": "VS15",
    "\ufe0f": "VS16",
    "\ufeff": "BOM",
}
# Categories of characters that draw nothing by themselves: format characters, separators, combining marks.
INVISIBLE_CATEGORIES = {"Cf", "Zs", "Zl", "Zp", "Mn", "Me"}


def invisible(char: str) -> bool:
    """Whether `char` is named.  Control characters and the bidirectional overrides are not: a terminal shows
    them escaped (files/text.py: \\x1b, \\u202e) and a file gets them exactly."""
    if char in INVISIBLE_NAMES:
        return True
    if unicodedata.category(char) == "Cc" or "\u202a" <= char <= "\u202e" or "\u2066" <= char <= "\u2069":
        return False
    return unicodedata.category(char) in INVISIBLE_CATEGORIES


def char_name(char: str) -> str:
    """The label of one invisible character: ␣ for a space, ZWJ, VS16, ..., else ⟨U+XXXX⟩."""
    return INVISIBLE_NAMES.get(char) or f"⟨U+{ord(char):04X}⟩"


def token_label(token: str) -> str:
    """The token as shown to a person (see the module doc)."""
    if token == META_TOKEN:
        return token
    if token and all(invisible(c) for c in token):
        named = [char_name(c) for c in token]
        return "".join(named) if all(len(n) == 1 for n in named) else " ".join(named)
    return token
