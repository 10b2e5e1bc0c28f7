"""Splitting text into tokens and joining tokens back into text (char and word level).

The JavaScript twin lives in web_demo/src/contract/tokens.js; keep the two in step.
"""

from __future__ import annotations

import re

META_TOKEN = "<s>"

# textgenrnn spaces these out at word level so punctuation becomes its own token.
WORD_PUNCTUATION = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~' + "\n\t'‘’“”–—…"
_PUNCT_RE = re.compile("([" + re.escape(WORD_PUNCTUATION) + "])")
_SPACES_RE = re.compile(" +")

# When joining words, these stick to the token before them ...
_ATTACH_LEFT = set("!%),.:;?@]_}\n\t'’”…")
# ... and these to the token after them.
_ATTACH_RIGHT = set("$([_\n\t'‘“")


def word_tokens(text: str) -> list[str]:
    """Lower-case, space out punctuation, split on spaces."""
    spaced = _PUNCT_RE.sub(r" \1 ", text.lower())
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
