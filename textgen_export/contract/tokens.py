"""Splitting text into tokens and joining tokens back into text (char and word level).

The JavaScript twin lives in web_demo/src/contract/tokens.js; keep the two in step.
"""

from __future__ import annotations

import functools
import re
import unicodedata

META_TOKEN = "<s>"

# textgenrnn spaces these out at word level so punctuation becomes its own token.
WORD_PUNCTUATION = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~' + "\n\t'‘’“”–—…"
_PUNCT_RE = re.compile("([" + re.escape(WORD_PUNCTUATION) + "])")
_SPACES_RE = re.compile(" +")

# When joining words, these stick to the token before them ...
_ATTACH_LEFT = set("!%),.:;?@]_}\n\t'’”…")
# ... and these to the token after them.
_ATTACH_RIGHT = set("$([_\n\t'‘“")


# Word level lower-cases exactly the code points Unicode 14.0 lower-cases (Python 3.11's str.lower), in every
# runtime: a newer Unicode lower-cases more (U+A7CB and 54 others in Node's Unicode 17), which would change the
# tokens and so the seeded text.  Runs of code points: "START[+COUNT[.STEP]]", START in hex, COUNT and STEP
# (default 1) in decimal.  The JS twin (web_demo/src/contract/tokens.js) holds the same string.
LOWERED = (
    "41+26,c0+23,d8+7,100+28.2,139+8.2,14a+24.2,179+3.2,181+2,184+2.2,187+2.2,18a+2,18e+4,193+2,"
    "196+3,19c+2,19f+2,1a2+3.2,1a7+2.2,1ac+2.2,1af+2.2,1b2+2,1b5+2.2,1b8,1bc,1c4+2,1c7+2,1ca+2,"
    "1cd+8.2,1de+9.2,1f1+2,1f4+2.2,1f7+2,1fa+29.2,23a+2,23d+2,241+2.2,244+3,248+4.2,370+2.2,376,37f,"
    "386+2.2,389+2,38c+2.2,38f+2.2,392+16,3a3+9,3cf,3d8+12.2,3f4,3f7+2.2,3fa,3fd+51,460+17.2,"
    "48a+28.2,4c1+7.2,4d0+48.2,531+38,10a0+38,10c7,10cd,13a0+86,1c90+43,1cbd+3,1e00+75.2,1e9e+49.2,"
    "1f08+8,1f18+6,1f28+8,1f38+8,1f48+6,1f59+4.2,1f68+8,1f88+8,1f98+8,1fa8+8,1fb8+5,1fc8+5,1fd8+4,"
    "1fe8+5,1ff8+5,2126,212a+2,2132,2160+16,2183,24b6+26,2c00+48,2c60+2.2,2c63+2,2c67+4.2,2c6e+3,"
    "2c72,2c75,2c7e+3,2c82+49.2,2ceb+2.2,2cf2,a640+23.2,a680+14.2,a722+7.2,a732+31.2,a779+3.2,"
    "a77e+5.2,a78b+2.2,a790+2.2,a796+11.2,a7ab+4,a7b0+5,a7b6+8.2,a7c5+3,a7c9,a7d0,a7d6+2.2,a7f5,"
    "ff21+26,10400+40,104b0+36,10570+11,1057c+15,1058c+7,10594+2,10c80+51,118a0+32,16e40+32,1e900+34"
)


def code_points(runs: str) -> frozenset[int]:
    """The code points a LOWERED-style run list names."""
    found = set()
    for run in runs.split(","):
        start, _, rest = run.partition("+")
        count, _, step = rest.partition(".")
        found.update(range(int(start, 16), int(start, 16) + int(count or 1) * int(step or 1), int(step or 1)))
    return frozenset(found)


_LOWERED = code_points(LOWERED)


@functools.cache
def _newer_cased() -> re.Pattern | None:
    """Code points this Python lower-cases beyond LOWERED (none on Unicode 14.0), as a pattern."""
    if unicodedata.unidata_version == "14.0.0":
        return None
    extra = [c for c in range(0x110000) if c not in _LOWERED and chr(c).lower() != chr(c)]
    return re.compile("[" + "".join(re.escape(chr(c)) for c in extra) + "]") if extra else None


def lower(text: str) -> str:
    """`text.lower()` as Unicode 14.0 has it: code points outside LOWERED stay as they are, and the text on
    either side of one is lower-cased on its own (as if it were not a letter)."""
    newer = _newer_cased()
    if newer is None:
        return text.lower()
    out, start = [], 0
    for match in newer.finditer(text):
        out += [text[start : match.start()].lower(), match.group()]
        start = match.end()
    return "".join(out) + text[start:].lower()


def word_tokens(text: str) -> list[str]:
    """Lower-case (pinned: `lower`), space out punctuation, split on spaces."""
    spaced = _PUNCT_RE.sub(r" \1 ", lower(text))
    return [t for t in _SPACES_RE.split(spaced) if t]


def tokenize(text: str, word_level: bool) -> list[str]:
    return word_tokens(text) if word_level else list(text)


class Detokenizer:
    """Joins tokens one at a time, so streamed pieces concatenate to exactly `detokenize(tokens)`."""

    def __init__(self, word_level: bool):
        self.word_level = word_level
        self.glue_next = True  # no space before the first token
        self.quote_open = (
            False  # straight double quotes alternate: opening ones glue right, closing ones left
        )

    def push(self, tok: str) -> str:
        if not self.word_level:
            return tok
        is_quote = tok == '"'
        attach_left = tok in _ATTACH_LEFT or (is_quote and self.quote_open)
        piece = tok if (self.glue_next or attach_left) else " " + tok
        self.glue_next = tok in _ATTACH_RIGHT or (is_quote and not self.quote_open)
        if is_quote:
            self.quote_open = not self.quote_open
        return piece


def detokenize(tokens: list[str], word_level: bool) -> str:
    """Join generated tokens; at word level re-attach punctuation to its neighbours."""
    if not word_level:
        return "".join(tokens)
    joiner = Detokenizer(word_level)
    return "".join(joiner.push(t) for t in tokens)
