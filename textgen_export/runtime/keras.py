"""Keras adapter: the model called through one traced `tf.function` (≈30× faster than `model.predict`).

TensorFlow is imported when an adapter is made, not when this module is: the runtime package stays TF-free.
With the model's config (unidirectional models), calls whose windows share leading padding take the padding fast
path (keras_fast.py): only the tail runs, from the padding prefix's float64 tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .padding import tail_length

if TYPE_CHECKING:
    import keras

    from ..contract.config import ModelConfig


class KerasRuntime:
    name = "keras"

    def __init__(
        self,
        model: keras.Model,
        jit_compile: bool = False,
        config: ModelConfig | None = None,
        fast: bool = True,
    ):
        """`config` (the model's) lets `outputs` also return attention, through the export graph, and `probs`
        take the padding fast path (unless `fast=False`).  A model with a context head also answers for label
        vectors: `probs(windows, context)`."""
        from ..keras.backend import tf
        from ..keras.network import context_size, saved_model, text_model

        self._tf = tf
        self.full = saved_model(model)
        self.labels_size = context_size(model)
        self.model = text_model(model)
        length = self.model.inputs[0].shape[1]
        signature = [tf.TensorSpec([None, length], tf.int32)]
        self._call = tf.function(
            lambda w: self.model(w, training=False),
            input_signature=signature,
            jit_compile=jit_compile,
            reduce_retracing=True,
        )
        self._signature = signature
        self._config = config
        self._with_attention = None
        self._head = self._head_with_attention = None
        self._fast = None
        if fast and config is not None and not config.rnn_bidirectional:
            from .keras_fast import KerasFastPath

            self._fast = KerasFastPath(self.model, config)

    def _context_signature(self):
        tf = self._tf
        return [*self._signature, tf.TensorSpec([None, self.labels_size], tf.float32)]

    def _head_call(self, windows: np.ndarray, context: np.ndarray) -> np.ndarray:
        if self.labels_size is None:
            raise TypeError("this Keras model has no context head")
        if self._head is None:
            self._head = self._tf.function(
                lambda w, c: self.full([w, c], training=False)[0],
                input_signature=self._context_signature(),
                reduce_retracing=True,
            )
        tf = self._tf
        return self._head(
            tf.constant(windows, dtype=tf.int32), tf.constant(context, dtype=tf.float32)
        ).numpy()

    def outputs(
        self, windows: np.ndarray, context: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(probs [B, V], attention [B, max_length]), from the export graph (same weights, attention as an output);
        with `context` the probabilities are the context head's."""
        if context is not None:
            return self._head_outputs(windows, context)
        if self._with_attention is None:
            if self._config is None:
                raise TypeError("KerasRuntime needs the model's config to report attention")
            from ..keras.export_variant import export_model

            exported = export_model(self.model, self._config, self.model.outputs[0].shape[-1])
            self._with_attention = self._tf.function(
                lambda w: exported(w, training=False), input_signature=self._signature, reduce_retracing=True
            )
        probs, attention = self._with_attention(self._tf.constant(windows, dtype=self._tf.int32))
        return probs.numpy(), attention.numpy()

    def _head_outputs(self, windows: np.ndarray, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self._head_with_attention is None:
            if self._config is None or self.labels_size is None:
                raise TypeError(
                    "KerasRuntime needs a context model and its config to report the head's attention"
                )
            from ..keras.export_variant import export_context_model

            exported = export_context_model(self.full, self._config, self.model.outputs[0].shape[-1])
            self._head_with_attention = self._tf.function(
                lambda w, c: exported([w, c], training=False),
                input_signature=self._context_signature(),
                reduce_retracing=True,
            )
        tf = self._tf
        probs, attention = self._head_with_attention(
            tf.constant(windows, dtype=tf.int32), tf.constant(context, dtype=tf.float32)
        )
        return probs.numpy(), attention.numpy()

    def probs(self, windows: np.ndarray, context: np.ndarray | None = None) -> np.ndarray:
        if context is not None:
            return self._head_call(windows, context)
        k = tail_length(windows) if self._fast is not None else None
        if k is not None:
            return self._fast.probs(np.asarray(windows)[:, -k:])
        return self._call(self._tf.constant(windows, dtype=self._tf.int32)).numpy()
