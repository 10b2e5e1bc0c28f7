"""Keras adapter: the model called through one traced `tf.function` (≈30× faster than `model.predict`)."""

from __future__ import annotations

import numpy as np

from ..model import text_model
from ..quiet_tf import keras, tf


class KerasRuntime:
    name = "keras"

    def __init__(self, model: keras.Model, jit_compile: bool = False):
        self.model = text_model(model)
        length = self.model.inputs[0].shape[1]
        signature = [tf.TensorSpec([None, length], tf.int32)]
        self._call = tf.function(
            lambda w: self.model(w, training=False),
            input_signature=signature,
            jit_compile=jit_compile,
            reduce_retracing=True,
        )

    def probs(self, windows: np.ndarray) -> np.ndarray:
        return self._call(tf.constant(windows, dtype=tf.int32)).numpy()
