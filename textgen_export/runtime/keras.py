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
        take the padding fast path (unless `fast=False`)."""
        from ..keras.backend import tf
        from ..keras.network import text_model

        self._tf = tf
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
        self._fast = None
        if fast and config is not None and not config.rnn_bidirectional:
            from .keras_fast import KerasFastPath

            self._fast = KerasFastPath(self.model, config)

    def outputs(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(probs [B, V], attention [B, max_length]), from the export graph (same weights, attention as an output)."""
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

    def probs(self, windows: np.ndarray) -> np.ndarray:
        k = tail_length(windows) if self._fast is not None else None
        if k is not None:
            return self._fast.probs(np.asarray(windows)[:, -k:])
        return self._call(self._tf.constant(windows, dtype=self._tf.int32)).numpy()
