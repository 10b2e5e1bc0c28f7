"""The padding fast path for the Keras adapter: the model's own layers run over the unpadded tail of the windows,
from the LSTM states and attention summary of the padding prefix (keras/padding.py, float64 tables from the current
weights), combined exactly as model_tail.onnx does (export/tail.py).

The tables are made from the weights when first needed.  Weights change in place (training, `load_weights`), so
every call also checks, inside the traced function, that the weights the tables depend on still equal the copy
they were made from; when they do not, the tables are made again and the call repeated.
"""

from __future__ import annotations

import numpy as np

from ..contract.config import ModelConfig
from ..keras.oracle import EPSILON


class KerasFastPath:
    def __init__(self, model, config: ModelConfig):
        from ..keras.backend import tf

        self._tf, self.config, self.model = tf, config, model
        self.embedding = model.get_layer("embedding")
        self.rnns = [model.get_layer(f"rnn_{n}") for n in range(1, config.rnn_layers + 1)]
        self.attention = model.get_layer("attention")
        self.output = model.get_layer("output")
        self.watched = [v for layer in (self.embedding, *self.rnns, self.attention) for v in layer.weights]
        self._seen = None  # tf.Variables: the watched weights the tables were made from
        self._tables = None  # tf.Variables: states [layers, 2, L + 1, U], prefix max/sum/weighted
        self._call = tf.function(
            self._tail_probs, input_signature=[tf.TensorSpec([None, None], tf.int32)], reduce_retracing=True
        )

    def _refresh(self) -> None:
        from ..keras.padding import padding_tables

        tf = self._tf
        weights = {layer.name: layer.get_weights() for layer in (self.embedding, *self.rnns, self.attention)}
        tables = padding_tables(weights, self.config)
        values = [np.stack(tables.states), tables.prefix_max, tables.prefix_sum, tables.prefix_weighted]
        current = [np.asarray(v.value) for v in self.watched]
        if self._tables is None:
            self._tables = [tf.Variable(v, trainable=False) for v in values]
            self._seen = [tf.Variable(v, trainable=False) for v in current]
        else:
            for variable, value in zip([*self._tables, *self._seen], [*values, *current], strict=True):
                variable.assign(value)

    def _tail_probs(self, tail):
        tf = self._tf
        p = self.config.max_length - tf.shape(tail)[1]
        batch = tf.shape(tail)[0]
        states, prefix_max, prefix_sum, prefix_weighted = self._tables
        x = self.embedding(tail)
        features = [x]
        for number, rnn in enumerate(self.rnns):
            h, c = (tf.tile(states[number, which, p][None], [batch, 1]) for which in (0, 1))
            x = rnn(x, initial_state=[h, c], training=False)
            features.append(x)
        concat = tf.concat(features, axis=-1)  # [B, k, C]
        logits = tf.squeeze(tf.matmul(concat, self.attention.W), -1)  # [B, k]
        m_p = prefix_max[p]
        top = tf.maximum(tf.reduce_max(logits, axis=1, keepdims=True), m_p)  # [B, 1]
        e = tf.exp(logits - top)
        scale = tf.exp(m_p - top)
        total = prefix_sum[p] * scale + tf.reduce_sum(e, axis=1, keepdims=True)
        weighted = prefix_weighted[p][None] * scale + tf.reduce_sum(concat * e[..., None], axis=1)
        probs = self.output(weighted / (total + EPSILON), training=False)
        fresh = tf.reduce_all(
            [tf.reduce_all(v.value == s) for v, s in zip(self.watched, self._seen, strict=True)]
        )
        return probs, fresh

    def probs(self, tail: np.ndarray) -> np.ndarray:
        """Probabilities [B, V] of windows whose first max_length − k positions are padding, from their tail [B, k]."""
        if self._tables is None:
            self._refresh()
        probs, fresh = self._call(self._tf.constant(tail, dtype=self._tf.int32))
        if not bool(fresh):
            self._refresh()
            probs, _ = self._call(self._tf.constant(tail, dtype=self._tf.int32))
        return probs.numpy()
