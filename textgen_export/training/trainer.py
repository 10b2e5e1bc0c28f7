"""The one training loop behind `textgen-export train` and the textgenrnn compat API."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..contract.config import ModelConfig
from ..contract.labels import ContextLabels
from ..contract.vocabulary import Vocabulary
from ..errors import UserError
from ..files.text import print_text
from ..keras.backend import keras
from ..keras.network import build_model, saved_model
from ..keras.network import context_size as head_size
from . import callbacks, checkpoint, distribute, schedule
from .options import TrainOptions, keras_seed, settle_data_seed
from .prepare import Prepared, prepare
from .tfdata import WindowSource, dataset

CONTEXT_LOSS_WEIGHTS = (0.8, 0.2)  # [context_output, output], as textgenrnn


def training_model(
    start: keras.Model,
    config: ModelConfig,
    num_classes: int,
    dropout: float,
    context_size: int | None,
    keep_head: bool = True,
) -> keras.Model:
    """A fresh graph with dropout/context as asked, starting from `start`'s weights (by layer name); the
    context head starts afresh unless `keep_head` (the same labels in the same order)."""
    model = build_model(config, num_classes, context_size=context_size, dropout=dropout)
    source = {layer.name: layer for layer in start.layers if layer.weights}
    if not keep_head:
        source.pop("context_output", None)
    for layer in model.layers:
        old = source.get(layer.name)
        if old is not None and [w.shape for w in old.weights] == [w.shape for w in layer.weights]:
            layer.set_weights(old.get_weights())
    return model


@dataclass
class Trained:
    """What training returns: the trained model (text path, plus the context head and its labels when it has
    one) and the run's metadata (losses, bits per token)."""

    model: keras.Model
    metadata: dict
    labels: ContextLabels | None = None


def train(
    start: keras.Model,
    vocab: Vocabulary,
    config: ModelConfig,
    texts: Sequence[str] | None = None,
    options: TrainOptions | None = None,
    context_labels: Sequence | None = None,
    single_text: bool | None = None,
    prepared: Prepared | None = None,
    save: Callable | None = None,
    say: Callable[[str], None] = print_text,
    checkpoints: str | Path | None = None,
    run: dict | None = None,
    resume: checkpoint.State | None = None,
    labels: ContextLabels | None = None,
) -> Trained:
    """Train a copy of `start` (its weights, by layer name) on `texts`; returns the trained model.

    `labels`: those of `start`'s context head, if it has one. Training with context labels keeps that head
    when the texts use only those labels (else the head starts afresh for the texts' labels); training without
    them trains the text path and keeps `start`'s head as it was.

    `save(epoch, model, is_checkpoint)` is called after every epoch (see callbacks.Checkpoints).
    `say(line)` prints progress and sample lines; the default escapes control characters when stdout is a
    terminal (files.text.print_text), a `say` of your own gets the exact text.
    `checkpoints`: a folder that receives a resumable checkpoint after every epoch (see checkpoint.py), with
    `run` (any JSON the caller wants back on resume) recorded in it. `resume`: a `checkpoint.load` result to
    continue from its next epoch; its options replace `options` (all but `verbose`), and `prepared` must hold
    the same data (prepared with those options).
    """
    if resume is not None:
        options = TrainOptions(**{**resume.options, "verbose": (options or TrainOptions()).verbose})
    options = options or TrainOptions()
    if prepared is None:
        prepared = prepare(texts, vocab, config, options, context_labels, single_text, labels)
    # When `prepared` came from elsewhere: still fix the shuffles, so a checkpoint can replay them.
    settle_data_seed(options)
    if options.seed is not None:
        keras.utils.set_random_seed(keras_seed(options.seed))
    strategy = distribute.strategy(options.multi_gpu)
    batch_size = options.batch_size  # the global batch: each replica trains on its slice of it
    replicas = strategy.num_replicas_in_sync
    if batch_size < replicas:
        raise UserError(
            f"batch size {batch_size} is smaller than the {replicas} replicas training it; the batch size is "
            f"the global batch (each replica takes batch size / {replicas}): give at least {replicas}"
        )
    context_size = len(prepared.labels) if prepared.labels is not None else None
    _check_workers_agree(strategy, options, config, vocab, prepared, resume)
    with strategy.scope():
        keep_head = prepared.labels is not None and prepared.labels == labels
        model = training_model(start, config, vocab.num_classes, options.dropout, context_size, keep_head)
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
    source = WindowSource(prepared.corpus, prepared.context)
    # Under a strategy, too, an epoch is counted in steps over one repeating stream: a pipeline that feeds
    # several replicas has no length Keras can read, and each new iterator would start another shuffle.
    distributed = distribute.is_distributed(strategy)
    repeat = options.steps_per_epoch is not None or distributed
    distribute.build_for_fit(strategy, model, source.weighted_signature)
    train_ds = distribute.distributed_dataset(
        strategy,
        lambda shard: dataset(
            source,
            prepared.train,
            batch_size,
            shuffle=True,
            seed=options.data_seed,
            repeat=repeat,
            skip_batches=done * steps,
            shard=shard,
        ),
    )
    val_ds = val_steps = None
    if options.validates:
        # With steps_per_epoch (a huge text) each validation run takes the next `val_steps` batches of the
        # (randomly drawn, fixed) held-out pairs, cycling, so a run never hits the end of the data.
        val_ds = distribute.distributed_dataset(
            strategy,
            lambda shard: dataset(
                source, prepared.validation, batch_size, shuffle=False, repeat=repeat, shard=shard
            ),
        )
        if repeat:
            val_steps = min(
                options.steps_per_epoch or steps, math.ceil(len(prepared.validation) / batch_size)
            )
    bits = callbacks.BitsPerToken(say, verbose=bool(options.verbose))
    bits.loss, bits.train = list(past.get("loss", [])), list(past.get("train_bits", []))
    bits.validation = list(past.get("validation_bits", []))
    bits.context_validation = list(past.get("context_validation_bits", []))
    cbs = [schedule.scheduler(options.num_epochs), bits]
    if distribute.is_chief():  # the other workers of a cluster print and write nothing
        cbs.append(
            callbacks.Samples(
                vocab, config, options.num_epochs, options.gen_epochs, options.max_gen_length, say
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
            say(f"before training: validation loss {initial * callbacks.LN2:.4f}")  # the bar's unit (nats)
    started = time.perf_counter()
    earlier_seconds = float(past.get("seconds", 0.0))

    def snapshot(epochs_done: int) -> checkpoint.State:
        return checkpoint.State(
            epoch=epochs_done,
            options=checkpoint.options_dict(options),
            config=config,
            vocab=vocab,
            model_variables=[np.asarray(v) for v in model.variables],
            optimizer_variables=[np.asarray(v) for v in model.optimizer.variables],
            history={
                "loss": bits.loss,
                "train_bits": bits.train,
                "validation_bits": bits.validation,
                "context_validation_bits": bits.context_validation,
                "initial_validation_bits": initial,
                "seconds": earlier_seconds + time.perf_counter() - started,
                # the head's label order, which a resumed run must give its input again
                "context_labels": prepared.labels.names if prepared.labels is not None else None,
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
            steps_per_epoch=steps if repeat else None,
            validation_data=val_ds,
            validation_steps=val_steps,
            shuffle=False,  # the dataset reshuffles itself every epoch
            callbacks=cbs,
            verbose=options.verbose,
        )
    elif resume.best_weights is not None:
        # the run had ended (early stopping) before its final model was saved
        model.set_weights(resume.best_weights)
    # Workers leave together: the chief may still be printing samples, and a worker that exits first waits
    # on TensorFlow's coordination service at shutdown, which times out noisily.
    distribute.check_agreement(strategy, {"finished": True})
    seconds = earlier_seconds + time.perf_counter() - started
    epochs_run = len(bits.loss)
    ran = epochs_run - done
    metadata = {
        "epochs": epochs_run,
        "num_epochs": options.num_epochs,
        "batch_size": batch_size,
        "replicas": replicas,
        "learning_rate": [schedule.linear_decay(options.num_epochs)(e) for e in range(epochs_run)],
        "train_loss": bits.loss,
        "train_bits_per_token": bits.train,
        "initial_validation_bits_per_token": initial,
        "validation_bits_per_token": bits.validation,
        "final_validation_bits_per_token": _final(bits.validation, options.patience),
        "dropout": options.dropout,
        "train_size": options.train_size,
        "context_labels": prepared.labels.names if prepared.labels is not None else None,
        **_head_figures(bits.context_validation, bits.validation, options.patience),
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
    if prepared.labels is not None:
        return Trained(saved_model(model), metadata, prepared.labels)
    if labels is not None and head_size(start) == len(labels):  # the text path trained; the head rides along
        return Trained(with_head(model, start, config, vocab.num_classes), metadata, labels)
    return Trained(saved_model(model), metadata)


def with_head(text: keras.Model, start: keras.Model, config: ModelConfig, num_classes: int) -> keras.Model:
    """`text`'s text path with `start`'s context head (layers by name)."""
    model = build_model(config, num_classes, context_size=head_size(start))
    for layer in model.layers:
        if layer.weights:
            origin = start if layer.name == "context_output" else text
            layer.set_weights(origin.get_layer(layer.name).get_weights())
    return model


def _head_figures(context_validation: list[float], validation: list[float], patience: int) -> dict:
    """The context head's held-out bits per token (each text fed its own labels), beside the text path's: the
    final figure is the kept epoch's (the text path's best one under early stopping, else the last)."""
    if not context_validation or len(context_validation) != len(validation):
        return {}
    kept = int(np.argmin(validation)) if patience else -1
    return {
        "context_validation_bits_per_token": context_validation,
        "final_context_validation_bits_per_token": context_validation[kept],
    }


def _check_workers_agree(strategy, options, config, vocab, prepared, resume) -> None:
    """Several workers must train the same model on the same data from the same epoch (see distribute)."""
    agreed = {k: v for k, v in checkpoint.options_dict(options).items() if k not in ("verbose", "extra")}
    run = {
        "options": agreed,
        "config": config.to_dict(),
        "vocab": vocab.to_json(),
        "corpus": [prepared.corpus.num_tokens, len(prepared.train), len(prepared.validation)],
        "epoch": resume.epoch if resume is not None else 0,
    }
    distribute.check_agreement(strategy, run)


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
