"""Keras callbacks for textgenrnn's training extras: samples, checkpoints, bits per token, early stopping, and
the resumable checkpoint written after every epoch."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from ..contract.config import ModelConfig
from ..contract.vocabulary import Vocabulary
from ..files.text import print_text
from ..keras.backend import keras
from ..keras.network import saved_model, text_model
from ..runtime.keras import KerasRuntime
from ..sampling.generator import Generator
from . import checkpoint

SAMPLE_TEMPERATURES = (0.2, 0.5, 1.0)
LN2 = math.log(2)


CONTEXT_LOSS = "context_output_loss"  # the log key of a context model's head


def text_loss_key(model: keras.Model) -> str:
    """The log key of the next-token loss: `loss`, or the text output's own loss in a context model."""
    return "output_loss" if len(model.outputs) > 1 else "loss"


class _AfterProgressBar(keras.callbacks.Callback):
    """Keras appends its progress bar after the callbacks it is given, so a line printed in `on_epoch_end`
    lands before the bar's line is finished ("... loss: 1.23epoch 1: ..."). Lines are kept until the next
    epoch begins or training ends, when the bar has written its newline."""

    def __init__(self, say):
        super().__init__()
        self.say, self.pending = say, []

    def later(self, line: str) -> None:
        self.pending.append(line)

    def flush(self) -> None:
        lines, self.pending = self.pending, []
        for line in lines:
            self.say(line)

    def on_epoch_begin(self, epoch, logs=None):
        self.flush()

    def on_train_end(self, logs=None):
        self.flush()


class Samples(_AfterProgressBar):
    """Every `gen_epochs` epochs (and after the last) print 3 texts at temperatures 0.2, 0.5 and 1.0."""

    def __init__(
        self,
        vocab: Vocabulary,
        config: ModelConfig,
        num_epochs: int,
        gen_epochs: int,
        max_gen_length: int,
        say=print_text,  # samples are model text: escaped on a terminal (files.text.shown_on)
    ):
        super().__init__(say)
        self.vocab, self.config = vocab, config
        self.num_epochs, self.gen_epochs, self.max_gen_length = num_epochs, gen_epochs, max_gen_length

    def on_epoch_end(self, epoch, logs=None):
        done = epoch + 1
        if self.gen_epochs <= 0 or not (done % self.gen_epochs == 0 or done == self.num_epochs):
            return
        generator = Generator(KerasRuntime(text_model(self.model)), self.vocab, self.config)
        for temperature in SAMPLE_TEMPERATURES:
            self.later("#" * 20 + f"\nTemperature: {temperature}\n" + "#" * 20)
            for text in generator.generate(n=3, temperature=temperature, max_gen_length=self.max_gen_length):
                self.later(f"{text}\n")


class Checkpoints(keras.callbacks.Callback):
    """Calls `save(epoch_number, model, is_checkpoint)` (the model with its context head, if any) after each epoch, as textgenrnn did: a numbered
    checkpoint every `save_epochs` epochs (not after the last), the running weights otherwise."""

    def __init__(self, save: Callable, num_epochs: int, save_epochs: int):
        super().__init__()
        self.save, self.num_epochs, self.save_epochs = save, num_epochs, save_epochs

    def on_epoch_end(self, epoch, logs=None):
        done = epoch + 1
        checkpoint = self.save_epochs > 0 and done % self.save_epochs == 0 and done != self.num_epochs
        self.save(done, saved_model(self.model), checkpoint)


class BitsPerToken(_AfterProgressBar):
    """Records the next-token loss per epoch in bits per token (loss / ln 2), training and validation, and the
    training loss as Keras reports it.  What it prints uses the progress bar's unit (the loss, nats per token),
    so one run shows one unit; bits per token go to the metadata."""

    def __init__(self, say=print_text, verbose: bool = True):
        super().__init__(say)
        self.verbose = verbose
        self.loss: list[float] = []
        self.train: list[float] = []
        self.validation: list[float] = []
        self.context_validation: list[float] = []  # a context model's head, fed each text's own labels

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        key = text_loss_key(self.model)
        if "loss" in logs:
            self.loss.append(float(logs["loss"]))
        if key in logs:
            self.train.append(float(logs[key]) / LN2)
        if f"val_{key}" in logs:
            self.validation.append(float(logs[f"val_{key}"]) / LN2)
            head = logs.get(f"val_{CONTEXT_LOSS}")
            if head is not None:
                self.context_validation.append(float(head) / LN2)
            if self.verbose:
                beside = f"; context head with each text's labels {head:.4f}" if head is not None else ""
                self.later(
                    f"epoch {epoch + 1}: validation loss {logs[f'val_{key}']:.4f}{beside} (the bar's unit)"
                )


class EarlyStopping(keras.callbacks.EarlyStopping):
    """Keras' EarlyStopping whose progress (epochs waited, best figure, best weights) a checkpoint keeps, so a
    resumed run stops, and restores, exactly as the uninterrupted one would."""

    def __init__(self, *args, resume: dict | None = None, resume_weights=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.resume, self.resume_weights = resume, resume_weights

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self.resume is not None:
            self.wait, self.best = self.resume["wait"], self.resume["best"]
            self.best_epoch = self.resume["best_epoch"]
            self.best_weights = self.resume_weights

    def progress(self) -> dict:
        best = None if self.best is None else float(self.best)
        return {"wait": int(self.wait), "best": best, "best_epoch": int(self.best_epoch)}


def early_stopping(
    model: keras.Model, patience: int, resume: dict | None = None, resume_weights=None
) -> EarlyStopping:
    """Stop when validation bits per token stop improving for `patience` epochs; keep the best weights."""
    return EarlyStopping(
        monitor=f"val_{text_loss_key(model)}",
        patience=patience,
        restore_best_weights=True,
        verbose=1,
        resume=resume,
        resume_weights=resume_weights,
    )


class SaveCheckpoint(keras.callbacks.Callback):
    """After every epoch, write the resumable training state (`checkpoint.save` into `folder`).

    `snapshot(epochs_done)` gathers the state; put this callback last, so the epoch's figures and early
    stopping's decision are already recorded when it runs.
    """

    def __init__(self, folder: str | Path, snapshot: Callable):
        super().__init__()
        self.folder, self.snapshot = Path(folder), snapshot

    def on_epoch_end(self, epoch, logs=None):
        checkpoint.save(self.folder, self.snapshot(epoch + 1))
