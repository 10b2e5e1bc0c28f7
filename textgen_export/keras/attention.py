"""AttentionWeightedAverage: textgenrnn's attention over all LSTM outputs (docs/design.md §3).

logits_t = x_t · W;  a_t = exp(logits_t - max) / (sum exp + 1e-7);  output = sum_t a_t x_t.
With `return_attention=True` it also returns a [batch, time] tensor of the weights (for export/visualisation).
The TF.js twin is web_demo/src/runtime/attention_layer.js.
"""

from __future__ import annotations

from .backend import keras

ops = keras.ops

EPSILON = 1e-7


@keras.saving.register_keras_serializable(package="textgen_export")
class AttentionWeightedAverage(keras.layers.Layer):
    def __init__(self, return_attention: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.return_attention = return_attention

    def build(self, input_shape):
        # Named "<layer>_W" like the original so Keras-2 weight files line up by name.
        self.W = self.add_weight(
            shape=(input_shape[-1], 1),
            name=f"{self.name}_W",
            initializer=keras.initializers.RandomUniform(-0.05, 0.05),
            trainable=True,
        )

    def call(self, x):
        logits = ops.squeeze(ops.matmul(x, self.W), axis=-1)
        weights = ops.exp(logits - ops.max(logits, axis=-1, keepdims=True))
        weights = weights / (ops.sum(weights, axis=1, keepdims=True) + EPSILON)
        result = ops.sum(x * ops.expand_dims(weights, -1), axis=1)
        if self.return_attention:
            return [result, weights]
        return result

    def compute_output_shape(self, input_shape):
        out = (input_shape[0], input_shape[-1])
        if self.return_attention:
            return [out, (input_shape[0], input_shape[1])]
        return out

    def get_config(self):
        return {**super().get_config(), "return_attention": self.return_attention}
