"""textgenrnn's optimiser: Adam at 4e-3, decayed linearly per epoch to (almost) zero."""

from __future__ import annotations

from ..keras.backend import keras

BASE_LEARNING_RATE = 4e-3


def linear_decay(num_epochs: int, base: float = BASE_LEARNING_RATE):
    """Learning rate for (0-based) epoch: base · (1 − epoch / num_epochs)."""

    def rate(epoch: int, current: float | None = None) -> float:
        return base * (1 - epoch / num_epochs)

    return rate


def optimizer(base: float = BASE_LEARNING_RATE) -> keras.optimizers.Optimizer:
    return keras.optimizers.Adam(learning_rate=base)


def scheduler(num_epochs: int, base: float = BASE_LEARNING_RATE) -> keras.callbacks.Callback:
    return keras.callbacks.LearningRateScheduler(linear_decay(num_epochs, base))
