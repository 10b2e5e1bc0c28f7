"""Texts → a checked, encoded training corpus and its train/validation split, before anything trains.  TF-free.

Bad input fails here, before a model is built or a file written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..contract.config import ModelConfig
from ..contract.labels import ContextLabels, split_labels
from ..contract.vocabulary import Vocabulary
from ..errors import UserError
from ..sampling.rng import SplitMix64
from .corpus import Corpus, build_corpus
from .options import TrainOptions, settle_data_seed
from .shuffle import shuffle

# Context labels are one-hot inputs of the context model: a few kinds of text, not one label per text.
MAX_CONTEXT_LABELS = 1_000


def split_positions(positions: np.ndarray, train_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle once (in place, the data order of shuffle.py from `seed`) and hold out the last
    (1 - train_size) as validation pairs."""
    if train_size >= 1.0:
        return positions, positions[:0]
    shuffle(positions, SplitMix64(seed))
    n_train = int(round(len(positions) * train_size))
    return positions[:n_train], positions[n_train:]


@dataclass
class Prepared:
    """Everything checked and encoded before any training starts (bad input fails here, nothing written)."""

    corpus: Corpus
    train: np.ndarray
    validation: np.ndarray
    context: np.ndarray | None  # float32 [documents, labels]: each document's labels, multi-hot
    labels: ContextLabels | None


def prepare(
    texts: Sequence[str],
    vocab: Vocabulary,
    config: ModelConfig,
    options: TrainOptions,
    context_labels: Sequence | None = None,
    single_text: bool | None = None,
    keep_labels: ContextLabels | None = None,
) -> Prepared:
    """`context_labels`: one entry per text, a label, `a|b` or a list of labels. The head's label order is
    `keep_labels` (a fine-tuned model's own) when those cover every label used, else the labels sorted."""
    options.check()
    if isinstance(texts, str):
        texts = [texts]
    if context_labels is not None and len(context_labels) != len(texts):
        raise UserError(
            f"got {len(context_labels)} context labels for {len(texts)} texts; give one label per text"
        )
    keep = [i for i, t in enumerate(texts) if isinstance(t, str) and t.strip()]
    if not keep:
        raise UserError("no text to train on: every text is empty or blank")
    texts = [texts[i] for i in keep]
    context, labels = None, None
    if context_labels is not None:
        rows = [split_labels(context_labels[i]) for i in keep]
        distinct = len({label for row in rows for label in row})
        if distinct > MAX_CONTEXT_LABELS:
            raise UserError(
                f"{distinct:,} distinct context labels, over the limit of {MAX_CONTEXT_LABELS:,}: a context "
                "label names a kind of text (a source, a topic), shared by many texts; merge labels, or train "
                "without --context"
            )
        labels = ContextLabels.from_texts(rows)
        if keep_labels is not None and set(labels.names) <= set(keep_labels.names):
            labels = keep_labels
        context = labels.multi_hot(rows)
    single = config.single_text if single_text is None else single_text
    corpus = build_corpus(texts, vocab, config.max_length, single)
    train, validation = split_positions(
        corpus.positions, options.train_size if options.validation else 1.0, settle_data_seed(options)
    )
    if len(train) < options.batch_size:
        raise UserError(
            f"only {len(train)} training sequences, fewer than batch_size {options.batch_size}; "
            "give more text or a smaller batch size"
        )
    if options.validates and len(validation) == 0:
        raise UserError("the validation split is empty; give more text or a smaller train_size")
    return Prepared(corpus, train, validation, context, labels)
