"""The export variant of a trained model: same weights, outputs [probs, attention], text path only."""

from __future__ import annotations

from ..contract.config import ModelConfig
from .backend import keras
from .network import build_model, text_model, weighted_layers


def export_model(model: keras.Model, config: ModelConfig, num_classes: int) -> keras.Model:
    """Rebuild `model` (possibly a context or dropout model) with the attention weights as a second output.

    Weights are copied layer by layer by name, so the export variant computes exactly what `model` computes.
    """
    source = text_model(model)
    exported = build_model(config, num_classes, return_attention=True)
    for layer in weighted_layers(exported):
        layer.set_weights(source.get_layer(layer.name).get_weights())
    return exported
