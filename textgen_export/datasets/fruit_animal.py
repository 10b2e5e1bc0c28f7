"""A small synthetic labelled corpus of our own for contextual training: lines of fruit words labelled `fruit`,
lines of animal words labelled `animal` (and, if asked, lines mixing both labelled `animal|fruit`).

Without its label, a line's first word could be either kind; with it, every word is of the label's kind: what a
context head should learn, and what shows whether the label steers generation.
"""

from __future__ import annotations

import random

FRUIT = tuple("apple banana cherry grape lemon mango peach pear plum melon".split())
ANIMAL = tuple("cat dog horse tiger zebra camel otter mouse eagle shark".split())
WORDS = {"fruit": FRUIT, "animal": ANIMAL}


def rows(count: int = 600, seed: int = 0, both_every: int = 0) -> list[tuple[str, str]]:
    """(text, label) pairs, fruit and animal lines alternating, 3 to 6 words each, drawn with `seed`; with
    `both_every` = k, every k-th line mixes the two kinds and carries both labels (`animal|fruit`)."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        if both_every and i % both_every == both_every - 1:
            words, label = FRUIT + ANIMAL, "animal|fruit"
        else:
            label = "fruit" if i % 2 == 0 else "animal"
            words = WORDS[label]
        out.append((" ".join(rng.choice(words) for _ in range(rng.randint(3, 6))), label))
    return out


def share(texts: list[str], label: str) -> float:
    """The fraction of the words of `texts` that belong to `label`'s kind."""
    words = [word for text in texts for word in text.split()]
    return sum(word in WORDS[label] for word in words) / len(words) if words else 0.0
