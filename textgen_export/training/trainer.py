"""The one training loop behind `textgen-export train` and the textgenrnn compat API."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config import ModelConfig
from ..errors import UserError
from ..model import build_model, text_model
from ..quiet_tf import keras, tf
from ..textgen import TextGen
from ..vocabulary import Vocabulary
from . import callbacks, checkpoint, schedule
from .corpus import Corpus, build_corpus
from .pipeline import WindowSource, dataset, split_positions

CONTEXT_LOSS_WEIGHTS = (0.8, 0.2)  # [context_output, output], as textgenrnn


@dataclass
class TrainOptions:
    num_epochs: int = 50
    batch_size: int = 128
    gen_epochs: int = 1
    train_size: float = 1.0
    validation: bool = True
    dropout: float = 0.0
    save_epochs: int = 0
    multi_gpu: bool = False
    max_gen_length: int = 300
    verbose: int = 1
    patience: int = 0
    seed: int | None = None
    # The train/validation split and the per-epoch shuffles: `seed` when given, else drawn once by `prepare` and
    # kept (checkpoints record it, so a resumed run shuffles exactly as the uninterrupted one would).
    data_seed: int | None = None
    steps_per_epoch: int | None = None  # benchmarks: a fixed number of steps per epoch, data repeated
    extra: dict = field(default_factory=dict)  # recorded in metadata as given

    def check(self) -> None:
        _int_at_least("num_epochs", self.num_epochs, 1)
        _int_at_least("batch_size", self.batch_size, 1)
        _int_at_least("gen_epochs", self.gen_epochs, 0)
        _int_at_least("save_epochs", self.save_epochs, 0)
        _int_at_least("patience", self.patience, 0)
        _int_at_least("max_gen_length", self.max_gen_length, 1)
        if self.steps_per_epoch is not None:
            _int_at_least("steps_per_epoch", self.steps_per_epoch, 1)
        if not (isinstance(self.train_size, int | float) and 0 < self.train_size <= 1):
            raise UserError(f"train_size must be in (0, 1], got {self.train_size!r} (e.g. 0.9 holds out 10%)")
        if not (isinstance(self.dropout, int | float) and 0 <= self.dropout < 1):
            raise UserError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if self.patience and not self.validates:
            raise UserError("patience (early stopping) needs a validation split: set train_size below 1")

    @property
    def validates(self) -> bool:
        return self.validation and self.train_size < 1


def settle_data_seed(options: TrainOptions) -> int:
    """The seed of the split and the shuffles: kept once chosen, so a checkpoint can replay them."""
    if options.data_seed is None:
        options.data_seed = (
            options.seed if options.seed is not None else int(np.random.SeedSequence().entropy)
        )
    return options.data_seed


def _int_at_least(name: str, value, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise UserError(f"{name} must be an integer ≥ {low}, got {value!r}")


@dataclass
class Prepared:
    """Everything checked and encoded before any training starts (bad input fails here, nothing written)."""

    corpus: Corpus
    train: np.ndarray
    validation: np.ndarray
    context_ids: np.ndarray | None
    context_names: list[str]


def prepare(
    texts: Sequence[str],
    vocab: Vocabulary,
    config: ModelConfig,
    options: TrainOptions,
    context_labels: Sequence | None = None,
    single_text: bool | None = None,
) -> Prepared:
    options.check()
    if isinstance(texts, str):
        texts = [texts]
    if context_labels is not None and len(context_labels) != len(texts):
        raise UserError(
            f"got {len(context_labels)} context labels for {len(texts)} texts; give one label per text"
        )
    keep = [i for i, t in enumerate(texts) if isinstance(t, str) and t.strip()]
    if not keep:
        raise UserError("no text to train on: every text is empty or blank")
    texts = [texts[i] for i in keep]
    context_ids, names = None, []
    if context_labels is not None:
        labels = [context_labels[i] for i in keep]
        if any(label is None or str(label).strip() == "" for label in labels):
            raise UserError("a context label is missing (empty); give every text a label")
        names = sorted({str(label) for label in labels})
        index = {name: i for i, name in enumerate(names)}
        context_ids = np.array([index[str(label)] for label in labels], dtype=np.int32)
    single = config.single_text if single_text is None else single_text
    corpus = build_corpus(texts, vocab, config.max_length, single)
    rng = np.random.default_rng(settle_data_seed(options))
    train, validation = split_positions(
        corpus.positions, options.train_size if options.validation else 1.0, rng
    )
    if len(train) < options.batch_size:
        raise UserError(
            f"only {len(train)} training sequences, fewer than batch_size {options.batch_size}; "
            "give more text or a smaller batch size"
        )
    if options.validates and len(validation) == 0:
        raise UserError("the validation split is empty; give more text or a smaller train_size")
    return Prepared(corpus, train, validation, context_ids, names)


def _strategy(multi_gpu: bool):
    return tf.distribute.MirroredStrategy() if multi_gpu else tf.distribute.get_strategy()


def training_model(textgen: TextGen, dropout: float, context_size: int | None) -> keras.Model:
    """A fresh graph with dropout/context as asked, starting from textgen's current weights (by layer name)."""
    model = build_model(textgen.config, textgen.vocab.num_classes, context_size=context_size, dropout=dropout)
    source = {layer.name: layer for layer in textgen.model.layers if layer.weights}
    for layer in model.layers:
        old = source.get(layer.name)
        if old is not None and [w.shape for w in old.weights] == [w.shape for w in layer.weights]:
            layer.set_weights(old.get_weights())
    return model


def train(
    textgen: TextGen,
    texts: Sequence[str] | None = None,
    options: TrainOptions | None = None,
    context_labels: Sequence | None = None,
    single_text: bool | None = None,
    prepared: Prepared | None = None,
    save: Callable | None = None,
    say: Callable[[str], None] = print,
    checkpoints: str | Path | None = None,
    run: dict | None = None,
    resume: checkpoint.State | None = None,
) -> dict:
    """Train `textgen` in place (its model becomes the trained text-only model); returns the metadata dict.

    `save(epoch, model, is_checkpoint)` is called after every epoch (see callbacks.Checkpoints).
    `checkpoints`: a folder that receives a resumable checkpoint after every epoch (see checkpoint.py), with
    `run` (any JSON the caller wants back on resume) recorded in it. `resume`: a `checkpoint.load` result to
    continue from its next epoch; its options replace `options` (all but `verbose`), and `prepared` must hold
    the same data (prepared with those options).
    """
    if resume is not None:
        options = TrainOptions(**{**resume.options, "verbose": (options or TrainOptions()).verbose})
    options = options or TrainOptions()
    if prepared is None:
        prepared = prepare(texts, textgen.vocab, textgen.config, options, context_labels, single_text)
    # When `prepared` came from elsewhere: still fix the shuffles, so a checkpoint can replay them.
    settle_data_seed(options)
    if options.seed is not None:
        keras.utils.set_random_seed(options.seed)
    strategy = _strategy(options.multi_gpu)
    batch_size = options.batch_size * strategy.num_replicas_in_sync
    context_size = len(prepared.context_names) if prepared.context_ids is not None else None
    with strategy.scope():
        model = training_model(textgen, options.dropout, context_size)
        loss = keras.losses.SparseCategoricalCrossentropy()
        model.compile(
            optimizer=schedule.optimizer(),
            loss=[loss, loss] if context_size else loss,
            loss_weights=list(CONTEXT_LOSS_WEIGHTS) if context_size else None,
        )
        if resume is not None:
            _restore(model, resume)
    done = resume.epoch if resume is not None else 0
    past = resume.history if resume is not None else {}
    steps = options.steps_per_epoch or math.ceil(len(prepared.train) / batch_size)
    source = WindowSource(prepared.corpus, prepared.context_ids, context_size or 0)
    repeat = options.steps_per_epoch is not None
    train_ds = dataset(
        source,
        prepared.train,
        batch_size,
        shuffle=True,
        seed=options.data_seed,
        repeat=repeat,
        skip_batches=done * steps,
    )
    val_ds = val_steps = None
    if options.validates:
        # With steps_per_epoch (a huge text) each validation run takes the next `val_steps` batches of the
        # (randomly drawn, fixed) held-out pairs, cycling, so a run never hits the end of the data.
        val_ds = dataset(source, prepared.validation, batch_size, shuffle=False, repeat=repeat)
        if repeat:
            val_steps = min(options.steps_per_epoch, math.ceil(len(prepared.validation) / batch_size))
    bits = callbacks.BitsPerToken(say, verbose=bool(options.verbose))
    bits.loss, bits.train = list(past.get("loss", [])), list(past.get("train_bits", []))
    bits.validation = list(past.get("validation_bits", []))
    cbs = [schedule.scheduler(options.num_epochs), bits]
    cbs.append(
        callbacks.Samples(
            textgen.vocab, textgen.config, options.num_epochs, options.gen_epochs, options.max_gen_length, say
        )
    )
    if save is not None:
        cbs.append(callbacks.Checkpoints(save, options.num_epochs, options.save_epochs))
    stopper = None
    if options.patience:
        stopper = callbacks.early_stopping(
            model,
            options.patience,
            resume=resume.early_stopping if resume is not None else None,
            resume_weights=resume.best_weights if resume is not None else None,
        )
        cbs.append(stopper)
    initial = past.get("initial_validation_bits")
    if val_ds is not None and resume is None:  # the figure to beat: the starting weights on the same pairs
        scores = model.evaluate(val_ds, steps=val_steps, verbose=0, return_dict=True)
        initial = float(scores[callbacks.text_loss_key(model)]) / callbacks.LN2
        if options.verbose:
            say(f"before training: validation {initial:.4f} bits per token")
    started = time.perf_counter()
    earlier_seconds = float(past.get("seconds", 0.0))

    def snapshot(epochs_done: int) -> checkpoint.State:
        return checkpoint.State(
            epoch=epochs_done,
            options=checkpoint.options_dict(options),
            config=textgen.config,
            vocab=textgen.vocab,
            model_variables=[np.asarray(v) for v in model.variables],
            optimizer_variables=[np.asarray(v) for v in model.optimizer.variables],
            history={
                "loss": bits.loss,
                "train_bits": bits.train,
                "validation_bits": bits.validation,
                "initial_validation_bits": initial,
                "seconds": earlier_seconds + time.perf_counter() - started,
            },
            rng={
                "data_seed": options.data_seed,
                "batches_done": epochs_done * steps,
                **checkpoint.capture_rng(),
            },
            stopped=bool(model.stop_training),
            early_stopping=stopper.progress() if stopper is not None else None,
            best_weights=stopper.best_weights if stopper is not None else None,
            run=run or {},
        )

    if checkpoints is not None:
        cbs.append(callbacks.SaveCheckpoint(checkpoints, snapshot))
    finished = resume is not None and (resume.stopped or done >= options.num_epochs)
    if not finished:
        model.fit(
            train_ds,
            epochs=options.num_epochs,
            initial_epoch=done,
            steps_per_epoch=options.steps_per_epoch,
            validation_data=val_ds,
            validation_steps=val_steps,
            shuffle=False,  # the dataset reshuffles itself every epoch
            callbacks=cbs,
            verbose=options.verbose,
        )
    elif resume.best_weights is not None:
        # the run had ended (early stopping) before its final model was saved
        model.set_weights(resume.best_weights)
    seconds = earlier_seconds + time.perf_counter() - started
    textgen.model = text_model(model)
    textgen.model_changed()
    epochs_run = len(bits.loss)
    ran = epochs_run - done
    metadata = {
        "epochs": epochs_run,
        "num_epochs": options.num_epochs,
        "batch_size": batch_size,
        "learning_rate": [schedule.linear_decay(options.num_epochs)(e) for e in range(epochs_run)],
        "train_loss": bits.loss,
        "train_bits_per_token": bits.train,
        "initial_validation_bits_per_token": initial,
        "validation_bits_per_token": bits.validation,
        "final_validation_bits_per_token": _final(bits.validation, options.patience),
        "dropout": options.dropout,
        "train_size": options.train_size,
        "context_labels": prepared.context_names or None,
        "corpus": {
            "documents": prepared.corpus.num_documents,
            "tokens": prepared.corpus.num_tokens,
            "training_sequences": int(len(prepared.train)),
            "validation_sequences": int(len(prepared.validation)),
        },
        "seconds": round(seconds, 3),
        "sequences_per_second": round(ran * steps * batch_size / seconds, 1) if seconds > 0 and ran else None,
        **({"resumed_after_epoch": done} if resume is not None else {}),
        **options.extra,
    }
    textgen.metadata = metadata
    return metadata


def _restore(model: keras.Model, state: checkpoint.State) -> None:
    """Put a checkpoint's model and optimizer variables (and global RNG states) back, checking they fit."""
    _assign("model", model.variables, state.model_variables, state)
    model.optimizer.build(model.trainable_variables)
    _assign("optimizer", model.optimizer.variables, state.optimizer_variables, state)
    checkpoint.restore_rng(state.rng)


def _assign(what: str, variables, values, state: checkpoint.State) -> None:
    shapes = [tuple(v.shape) for v in variables]
    if shapes != [tuple(a.shape) for a in values]:
        raise UserError(
            f"the checkpoint in {state.path} does not fit this model ({what} variables differ); "
            "delete it and train again without --resume"
        )
    for variable, value in zip(variables, values, strict=True):
        variable.assign(value)


def _final(validation: list[float], patience: int) -> float | None:
    """The figure the saved weights have: the best epoch when early stopping restored it, else the last."""
    if not validation:
        return None
    return min(validation) if patience else validation[-1]
