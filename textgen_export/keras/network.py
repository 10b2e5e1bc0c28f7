"""The textgenrnn network in Keras 3, with the exact layer names legacy weight files load by."""

from __future__ import annotations

import re

from ..contract.config import ModelConfig
from .attention import AttentionWeightedAverage
from .backend import keras


def keras_name(name: str | None) -> str:
    """The model's name as Keras may hold it: Keras opens a TensorFlow root name scope with it, which must
    match `[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*`. Other characters become `_`; the user's own name stays in
    config.json and the bundle (the Keras name is never shown)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name or "")
    return safe if safe[:1].isascii() and (safe[:1].isalnum() or safe[:1] == ".") else f"textgen{safe}"


def rnn_layer(config: ModelConfig, number: int) -> keras.layers.Layer:
    name = f"rnn_{number}"
    if config.rnn_bidirectional:
        lstm = keras.layers.LSTM(config.rnn_size, return_sequences=True, recurrent_activation="sigmoid")
        return keras.layers.Bidirectional(lstm, name=name)
    return keras.layers.LSTM(
        config.rnn_size, return_sequences=True, recurrent_activation="sigmoid", name=name
    )


def build_model(
    config: ModelConfig,
    num_classes: int,
    context_size: int | None = None,
    dropout: float = 0.0,
    return_attention: bool = False,
) -> keras.Model:
    """embedding → [dropout] → rnn_1..rnn_N → concat(embedding, rnns) → attention → softmax.

    `context_size` adds the `context_input` branch (outputs [context_output, output]); `return_attention` adds
    the attention weights as a second output (used by the exporters; last output with a context branch).
    """
    windows = keras.Input(shape=(config.max_length,), dtype="int32", name="input")
    embedded = keras.layers.Embedding(num_classes, config.dim_embeddings, name="embedding")(windows)
    if dropout > 0:
        embedded = keras.layers.SpatialDropout1D(dropout, name="dropout")(embedded)
    rnns = []
    for number in range(1, config.rnn_layers + 1):
        rnns.append(rnn_layer(config, number)(rnns[-1] if rnns else embedded))
    concat = keras.layers.Concatenate(name="rnn_concat")([embedded, *rnns])
    attention = AttentionWeightedAverage(name="attention", return_attention=return_attention)(concat)
    if return_attention:
        attention, weights = attention
    output = keras.layers.Dense(num_classes, activation="softmax", name="output")(attention)
    if context_size is None:
        outputs = [output, weights] if return_attention else output
        return keras.Model(inputs=windows, outputs=outputs, name=keras_name(config.name))
    context = keras.Input(shape=(context_size,), name="context_input")
    merged = keras.layers.Concatenate(name="concat")([attention, context])
    context_output = keras.layers.Dense(num_classes, activation="softmax", name="context_output")(merged)
    outputs = [context_output, output, weights] if return_attention else [context_output, output]
    return keras.Model(inputs=[windows, context], outputs=outputs, name=keras_name(config.name))


def context_size(model: keras.Model) -> int | None:
    """The number of labels of a model's context head, None when it has none."""
    if len(model.inputs) < 2:
        return None
    return int(model.inputs[1].shape[-1])


def saved_model(model: keras.Model) -> keras.Model:
    """What a model directory keeps: the text path, plus the context head when the model has one."""
    if context_size(model) is None:
        return text_model(model)
    return keras.Model(
        inputs=model.inputs[:2],
        outputs=[model.get_layer("context_output").output, model.get_layer("output").output],
        name=model.name,
    )


def text_model(model: keras.Model) -> keras.Model:
    """The text-only path of a (possibly context) model: windows → next-token probabilities."""
    if len(model.inputs) == 1 and len(model.outputs) == 1:
        return model
    return keras.Model(inputs=model.inputs[0], outputs=model.get_layer("output").output, name=model.name)


def weighted_layers(model: keras.Model) -> list[keras.layers.Layer]:
    return [layer for layer in model.layers if layer.weights]
