"""The tf.data input pipeline: batches of target positions → windows gathered from the token array in-graph.

Python touches each *batch* once (a slice of a shuffled position array); the windows themselves are cut by one
vectorised `tf.gather` per batch, in parallel with training, and prefetched.
"""

from __future__ import annotations

import math

import numpy as np

from ..quiet_tf import tf
from .corpus import Corpus


def split_positions(
    positions: np.ndarray, train_size: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle once (in place) and hold out the last (1 - train_size) as validation pairs."""
    if train_size >= 1.0:
        return positions, positions[:0]
    rng.shuffle(positions)
    n_train = int(round(len(positions) * train_size))
    return positions[:n_train], positions[n_train:]


class WindowSource:
    """The corpus as TensorFlow tensors, plus the in-graph function that turns positions into (x, y)."""

    def __init__(self, corpus: Corpus, context_ids: np.ndarray | None = None, context_size: int = 0):
        self.max_length = corpus.max_length
        self.ids = tf.convert_to_tensor(corpus.ids)
        self.doc_starts = tf.convert_to_tensor(corpus.doc_starts)
        self.offsets = tf.range(-corpus.max_length, 0, dtype=tf.int64)
        self.context = None if context_ids is None else tf.convert_to_tensor(context_ids, tf.int32)
        self.context_size = context_size

    def pairs(self, positions):
        """positions int[B] → windows int32[B, L] (left-padded within the document), targets int32[B]."""
        pos = tf.cast(positions, tf.int64)
        index = pos[:, None] + self.offsets[None, :]
        windows = tf.cast(tf.gather(self.ids, index), tf.int32)
        doc = tf.searchsorted(self.doc_starts, pos, side="right") - 1
        start = tf.gather(self.doc_starts, doc)
        windows = tf.where(index >= start[:, None], windows, 0)
        targets = tf.cast(tf.gather(self.ids, pos), tf.int32)
        if self.context is None:
            return windows, targets
        labels = tf.one_hot(tf.gather(self.context, doc), self.context_size)
        return (windows, labels), (targets, targets)


def dataset(
    source: WindowSource,
    positions: np.ndarray,
    batch_size: int,
    shuffle: bool,
    seed: int | None = None,
    repeat: bool = False,
) -> tf.data.Dataset:
    """Each pass reshuffles `positions` in place (no copy) and yields it in batch-sized slices."""
    rng = np.random.default_rng(seed)
    steps = math.ceil(len(positions) / batch_size)

    def batches():
        if shuffle:
            rng.shuffle(positions)
        for start in range(0, len(positions), batch_size):
            yield positions[start : start + batch_size]

    ds = tf.data.Dataset.from_generator(
        batches, output_signature=tf.TensorSpec([None], tf.as_dtype(positions.dtype))
    )
    if repeat:
        ds = ds.repeat()
    else:
        ds = ds.apply(tf.data.experimental.assert_cardinality(steps))
    ds = ds.map(source.pairs, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)
