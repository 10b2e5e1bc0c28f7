"""Keras callbacks for textgenrnn's training extras: samples, checkpoints, bits per token, early stopping."""

from __future__ import annotations

import math
from collections.abc import Callable

from ..config import ModelConfig
from ..generation import Generator
from ..model import text_model
from ..quiet_tf import keras
from ..runtimes.keras_runtime import KerasRuntime
from ..vocabulary import Vocabulary

SAMPLE_TEMPERATURES = (0.2, 0.5, 1.0)
LN2 = math.log(2)


def text_loss_key(model: keras.Model) -> str:
    """The log key of the next-token loss: `loss`, or the text output's own loss in a context model."""
    return "output_loss" if len(model.outputs) > 1 else "loss"


class Samples(keras.callbacks.Callback):
    """Every `gen_epochs` epochs (and after the last) print 3 texts at temperatures 0.2, 0.5 and 1.0."""

    def __init__(
        self,
        vocab: Vocabulary,
        config: ModelConfig,
        num_epochs: int,
        gen_epochs: int,
        max_gen_length: int,
        say=print,
    ):
        super().__init__()
        self.vocab, self.config, self.say = vocab, config, say
        self.num_epochs, self.gen_epochs, self.max_gen_length = num_epochs, gen_epochs, max_gen_length

    def on_epoch_end(self, epoch, logs=None):
        done = epoch + 1
        if self.gen_epochs <= 0 or not (done % self.gen_epochs == 0 or done == self.num_epochs):
            return
        generator = Generator(KerasRuntime(text_model(self.model)), self.vocab, self.config)
        for temperature in SAMPLE_TEMPERATURES:
            self.say("#" * 20 + f"\nTemperature: {temperature}\n" + "#" * 20)
            for text in generator.generate(n=3, temperature=temperature, max_gen_length=self.max_gen_length):
                self.say(f"{text}\n")


class Checkpoints(keras.callbacks.Callback):
    """Calls `save(epoch_number, text_model, is_checkpoint)` after each epoch, as textgenrnn did: a numbered
    checkpoint every `save_epochs` epochs (not after the last), the running weights otherwise."""

    def __init__(self, save: Callable, num_epochs: int, save_epochs: int):
        super().__init__()
        self.save, self.num_epochs, self.save_epochs = save, num_epochs, save_epochs

    def on_epoch_end(self, epoch, logs=None):
        done = epoch + 1
        checkpoint = self.save_epochs > 0 and done % self.save_epochs == 0 and done != self.num_epochs
        self.save(done, text_model(self.model), checkpoint)


class BitsPerToken(keras.callbacks.Callback):
    """Records the next-token loss per epoch in bits per token (loss / ln 2), training and validation."""

    def __init__(self, say=print, verbose: bool = True):
        super().__init__()
        self.say, self.verbose = say, verbose
        self.train: list[float] = []
        self.validation: list[float] = []

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        key = text_loss_key(self.model)
        if key in logs:
            self.train.append(float(logs[key]) / LN2)
        if f"val_{key}" in logs:
            self.validation.append(float(logs[f"val_{key}"]) / LN2)
            if self.verbose:
                self.say(f"epoch {epoch + 1}: validation {self.validation[-1]:.4f} bits per token")


def early_stopping(model: keras.Model, patience: int) -> keras.callbacks.Callback:
    """Stop when validation bits per token stop improving for `patience` epochs; keep the best weights."""
    return keras.callbacks.EarlyStopping(
        monitor=f"val_{text_loss_key(model)}", patience=patience, restore_best_weights=True, verbose=1
    )
