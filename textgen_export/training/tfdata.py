"""The tf.data input pipeline: each batch of target positions → windows by one vectorised numpy gather.

Python touches each *batch* once (a slice of a shuffled position array, then fancy indexing of the token array
with a [batch, max_length] index); tf.data runs this in its own thread and prefetches, so batches are ready
while the model trains. The token array is only ever read: no window is stored, and no copy of the corpus is
made (a tf.data function would copy every tensor it captures, measured +1 copy of a 100 MB corpus).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..keras.backend import tf
from ..sampling.rng import SplitMix64
from .corpus import Corpus
from .shuffle import shuffle as shuffle_in_place


class WindowSource:
    """Turns target positions into training pairs: windows int32[B, L] (left-padded within the document) and
    next tokens int32[B]; with context labels also the (multi-hot) labels of each pair's document."""

    def __init__(self, corpus: Corpus, context: np.ndarray | None = None):
        self.ids = corpus.ids
        self.doc_starts = corpus.doc_starts
        self.max_length = corpus.max_length
        self.offsets = np.arange(-corpus.max_length, 0, dtype=np.int64)
        self.context = context  # float32 [documents, labels]

    def pairs(self, positions: np.ndarray):
        pos = positions.astype(np.int64)
        index = pos[:, None] + self.offsets
        windows = self.ids[index].astype(np.int32)
        doc = np.searchsorted(self.doc_starts, pos, side="right") - 1
        windows[index < self.doc_starts[doc][:, None]] = 0  # tokens of the previous document are padding
        targets = self.ids[pos].astype(np.int32)
        if self.context is None:
            return windows, targets
        return (windows, self.context[doc]), (targets, targets)

    def weighted_pairs(self, positions: np.ndarray, weight: float):
        """`pairs` plus a sample weight for each pair (the same for every output of a context model)."""
        inputs, targets = self.pairs(positions)
        weights = np.full(len(positions), weight, dtype=np.float32)
        return inputs, targets, (weights, weights) if self.context is not None else weights

    @property
    def signature(self):
        windows = tf.TensorSpec([None, self.max_length], tf.int32)
        targets = tf.TensorSpec([None], tf.int32)
        if self.context is None:
            return windows, targets
        labels = tf.TensorSpec([None, self.context.shape[1]], tf.float32)
        return (windows, labels), (targets, targets)

    @property
    def weighted_signature(self):
        inputs, targets = self.signature
        weights = tf.TensorSpec([None], tf.float32)
        return inputs, targets, (weights, weights) if self.context is not None else weights


@dataclass(frozen=True)
class Shard:
    """This input pipeline's part of every global batch under a tf.distribute strategy: of `replicas` replicas
    in all, it feeds replicas `first` .. `first + count - 1` (one element each per step, in that order).

    Replica r trains on slice r of the global batch (`np.array_split`'s even slices). Keras averages each
    replica's mean loss over the replicas, so each pair is weighted n_r · replicas / n: the summed gradient is
    then exactly the global batch's mean-loss gradient even when the slices differ in size (the last batch).
    """

    replicas: int
    first: int
    count: int

    def slices(self, batch: np.ndarray):
        """(positions, sample weight) for each of this pipeline's replicas, from one global batch."""
        bounds = [len(batch) * r // self.replicas for r in range(self.replicas + 1)]
        for r in range(self.first, self.first + self.count):
            part = batch[bounds[r] : bounds[r + 1]]
            yield part, len(part) * self.replicas / len(batch)


def dataset(
    source: WindowSource,
    positions: np.ndarray,
    batch_size: int,
    shuffle: bool,
    seed: int | None = None,
    repeat: bool = False,
    skip_batches: int = 0,
    shard: Shard | None = None,
) -> tf.data.Dataset:
    """Each pass reshuffles `positions` in place (no copy) and yields it as batches of pairs.

    With `shard` (training under a tf.distribute strategy) every worker shuffles the same way from the same
    seed and yields only its replicas' slices of each global batch of `batch_size` pairs, weighted.

    `skip_batches` resumes the stream where an earlier run with the same seed stopped: the shuffles of the
    passes already done are replayed (cheap: no windows are built) and the first pass starts that many batches
    in, so the batches that follow are exactly those the uninterrupted run would have trained on.
    """
    # the data order of shuffle.py (the JS trainer's too); no seed: a fresh random one
    rng = SplitMix64(seed if seed is not None else int(np.random.SeedSequence().entropy))
    steps = math.ceil(len(positions) / batch_size)
    passes, first = divmod(skip_batches, steps) if steps else (0, 0)
    if first and not repeat:
        raise ValueError("skip_batches must be a whole number of passes unless the data repeats")
    if shuffle:
        for _ in range(passes):
            shuffle_in_place(positions, rng)
    offset = [first]

    def batches():
        if shuffle:
            shuffle_in_place(positions, rng)
        start_batch, offset[0] = offset[0], 0
        for start in range(start_batch * batch_size, len(positions), batch_size):
            batch = positions[start : start + batch_size]
            if shard is None:
                yield source.pairs(batch)
            else:
                for part, weight in shard.slices(batch):
                    yield source.weighted_pairs(part, weight)

    signature = source.signature if shard is None else source.weighted_signature
    ds = tf.data.Dataset.from_generator(batches, output_signature=signature)
    if repeat:
        ds = ds.repeat()
    elif shard is None or shard.count == 1:
        # (a pipeline feeding several replicas stays of unknown length: Keras would count its elements as steps)
        ds = ds.apply(tf.data.experimental.assert_cardinality(steps))
    return ds.prefetch(tf.data.AUTOTUNE)
