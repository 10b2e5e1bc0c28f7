"""The export variants of a trained model: same weights, outputs [probs, attention]: the text path, and for a
model with a context head also the head (inputs [windows, context], its probabilities and the attention)."""

from __future__ import annotations

from ..contract.config import ModelConfig
from .backend import keras
from .network import build_model, context_size, text_model, weighted_layers


def export_model(model: keras.Model, config: ModelConfig, num_classes: int) -> keras.Model:
    """Rebuild `model` (possibly a context or dropout model) with the attention weights as a second output.

    Weights are copied layer by layer by name, so the export variant computes exactly what `model` computes.
    """
    source = text_model(model)
    exported = build_model(config, num_classes, return_attention=True)
    for layer in weighted_layers(exported):
        layer.set_weights(source.get_layer(layer.name).get_weights())
    return exported


def export_context_model(model: keras.Model, config: ModelConfig, num_classes: int) -> keras.Model:
    """The context head of `model` as [windows, context] → [context probs, attention], weights copied by name."""
    size = context_size(model)
    if size is None:
        raise ValueError("the model has no context head")
    full = build_model(config, num_classes, context_size=size, return_attention=True)
    for layer in weighted_layers(full):
        layer.set_weights(model.get_layer(layer.name).get_weights())
    head, _, attention = full.outputs
    return keras.Model(inputs=full.inputs, outputs=[head, attention], name=config.name)
