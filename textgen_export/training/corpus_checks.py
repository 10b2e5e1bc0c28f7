"""Warnings before training, for corpora a model will train on without learning them.  TF-free.

- Fine-tuning keeps the model's vocabulary: characters (or words) outside it are invisible to the model, so a
  corpus mostly outside it (CJK text for the English-trained pretrained model) trains, then generates nothing
  of it. Warn with their share, and suggest a new model with its own vocabulary.
- Word level splits on spaces and ASCII punctuation (textgenrnn's rule): text without spaces (CJK) makes each
  line one "word", seen once, which no model can learn to recombine. Warn when most words occur once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from ..contract.vocabulary import Vocabulary
from .corpus import Encoder, token_chunks

UNSEEN_SHARE = 0.1  # warn when more of the corpus than this is outside the model's vocabulary
SINGLE_WORD_SHARE = 0.5  # warn when more word occurrences than this are of words that occur only once
MIN_WORDS = 20  # below this many words, the count says nothing


def unseen_share(texts: Sequence[str], vocab: Vocabulary) -> float:
    """The share of the corpus's tokens (characters, or words) that the vocabulary does not hold."""
    encoder = Encoder(vocab, np.int32)
    unseen = total = 0
    for text in texts:
        ids = encoder.encode(text)
        unseen += int(np.count_nonzero(ids == 0))
        total += len(ids)
    return unseen / total if total else 0.0


def single_word_share(texts: Sequence[str]) -> tuple[float, int]:
    """(the share of word occurrences whose word occurs only once, the number of occurrences)."""
    counts = Counter(word for chunk in token_chunks(texts, True) for word in chunk)
    total = sum(counts.values())
    once = sum(1 for n in counts.values() if n == 1)
    return (once / total if total else 0.0), total


def corpus_warnings(
    texts: Sequence[str], vocab: Vocabulary, fine_tuning: bool, new_word_level: bool
) -> list[str]:
    """The warnings for training on `texts` with `vocab` (one line each)."""
    warnings = []
    if fine_tuning:
        share = unseen_share(texts, vocab)
        if share > UNSEEN_SHARE:
            unit = "words" if vocab.word_level else "characters"
            warnings.append(
                f"warning: {share:.0%} of the {unit} of the training text are not in the model's vocabulary; "
                f"fine-tuning cannot learn or generate them: train a new model with its own vocabulary "
                "(--new-model)"
            )
    if new_word_level:
        share, words = single_word_share(texts)
        if words >= MIN_WORDS and share > SINGLE_WORD_SHARE:
            warnings.append(
                f"warning: {share:.0%} of the words of the training text occur only once (words are split at "
                "spaces and ASCII punctuation; text without spaces, such as Chinese or Japanese, is one word "
                "per line): the model cannot learn them; train at the character level (drop --word-level)"
            )
    return warnings
