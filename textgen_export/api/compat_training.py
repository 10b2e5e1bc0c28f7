"""textgenrnn's training methods (`train_on_texts`, `train_new_model`, `train_from_file`,
`train_from_largetext_file`) over the one trainer, writing the files the original wrote.

Like the original, weights go to `{name}_weights.hdf5` in the working directory after each epoch
(`{name}_weights_epoch_{N}.hdf5` every `save_epochs`), and a new model also writes `{name}_vocab.json` and
`{name}_config.json` there. Contextual training keeps the context head in those weights and writes its labels to
`{name}_labels.json`, so `textgenrnn("{name}_weights.hdf5", ...)` can generate for a label again.
"""

from __future__ import annotations

from ..contract.config import ModelConfig
from ..keras.h5_weights import write_weights
from ..keras.model_dir import LABELS
from ..training.corpus import new_vocabulary
from ..training.options import TrainOptions
from ..training.prepare import prepare
from ..training.texts import read_context_texts, read_largetext, read_texts
from .textgen import TextGen

NEW_MODEL_KEYS = (
    "max_length",
    "rnn_layers",
    "rnn_size",
    "rnn_bidirectional",
    "dim_embeddings",
    "word_level",
    "max_words",
    "single_text",
    "name",
)
# Our additions, accepted by every entry point.
EXTRA_KEYS = ("patience", "seed")


def _options(kwargs: dict, **given) -> TrainOptions:
    extras = {k: kwargs[k] for k in EXTRA_KEYS if k in kwargs}
    if given.get("multi_gpu"):
        # textgenrnn's batch_size was per GPU (it multiplied by the GPU count); ours is the global batch
        given["batch_size"] = given["batch_size"] * _gpu_count()
    return TrainOptions(**given, **extras)


def _gpu_count() -> int:
    from ..keras.backend import tf

    return max(1, len(tf.config.list_logical_devices("GPU")))


def _saver(name: str):
    def save(epoch: int, model, checkpoint: bool) -> None:
        path = f"{name}_weights_epoch_{epoch}.hdf5" if checkpoint else f"{name}_weights.hdf5"
        write_weights(model, path)

    return save


def train_on_texts(
    tg,
    texts,
    context_labels=None,
    batch_size=128,
    num_epochs=50,
    verbose=1,
    new_model=False,
    gen_epochs=1,
    train_size=1.0,
    max_gen_length=300,
    validation=True,
    dropout=0.0,
    via_new_model=False,
    save_epochs=0,
    multi_gpu=False,
    **kwargs,
):
    if new_model and not via_new_model:
        return train_new_model(
            tg,
            texts,
            context_labels=context_labels,
            num_epochs=num_epochs,
            gen_epochs=gen_epochs,
            batch_size=batch_size,
            dropout=dropout,
            train_size=train_size,
            validation=validation,
            save_epochs=save_epochs,
            multi_gpu=multi_gpu,
            verbose=verbose,
            max_gen_length=max_gen_length,
            **kwargs,
        )
    options = _options(
        kwargs,
        num_epochs=num_epochs,
        batch_size=batch_size,
        gen_epochs=gen_epochs,
        train_size=train_size,
        validation=validation,
        dropout=dropout,
        save_epochs=save_epochs,
        multi_gpu=multi_gpu,
        max_gen_length=max_gen_length,
        verbose=verbose,
    )
    textgen: TextGen = tg.textgen
    prepared = prepare(
        texts, textgen.vocab, textgen.config, options, context_labels, kwargs.get("single_text")
    )
    _say_sequences(prepared, textgen.config, options)
    textgen.train(options=options, prepared=prepared, save=_saver(textgen.config.name))
    _save_kept(textgen, options)
    return None


def _save_kept(textgen: TextGen, options: TrainOptions) -> None:
    """Early stopping restores the best epoch's weights after the last epoch was saved: save what is kept.
    A context head's labels go beside the weights."""
    labels = textgen.head_labels()
    if labels is not None:
        labels.save(f"{textgen.config.name}_{LABELS}")
    if options.patience:
        _saver(textgen.config.name)(options.num_epochs, textgen.model, False)


def train_new_model(
    tg,
    texts,
    context_labels=None,
    num_epochs=50,
    gen_epochs=1,
    batch_size=128,
    dropout=0.0,
    train_size=1.0,
    validation=True,
    save_epochs=0,
    multi_gpu=False,
    **kwargs,
):
    """A fresh model and vocabulary: the default config updated with the given keys (as the original); the
    model keeps the drop-in's `name`, so its files are `{name}_weights.hdf5`, `{name}_vocab.json`, ..."""
    base = ModelConfig(name=tg.textgen.config.name)
    config = base.replace(**{k: kwargs[k] for k in NEW_MODEL_KEYS if k in kwargs})
    if isinstance(texts, str):
        texts = [texts]
    options = _options(
        kwargs,
        num_epochs=num_epochs,
        batch_size=batch_size,
        gen_epochs=gen_epochs,
        train_size=train_size,
        validation=validation,
        dropout=dropout,
        save_epochs=save_epochs,
        multi_gpu=multi_gpu,
        max_gen_length=kwargs.get("max_gen_length", 300),
        verbose=kwargs.get("verbose", 1),
    )
    vocab = new_vocabulary([t for t in texts if isinstance(t, str)], config)
    textgen = TextGen.new(config, vocab, seed=options.seed)
    if options.verbose:
        kind = "Bidirectional " if config.rnn_bidirectional else ""
        print(f"Training new model w/ {config.rnn_layers}-layer, {config.rnn_size}-cell {kind}LSTMs")
    prepared = prepare(texts, vocab, config, options, context_labels)  # fail before writing anything
    _say_sequences(prepared, config, options)
    vocab.save(f"{config.name}_vocab.json")
    config.save(f"{config.name}_config.json")
    tg.textgen = textgen
    textgen.train(options=options, prepared=prepared, save=_saver(config.name))
    _save_kept(textgen, options)
    return None


def _say_sequences(prepared, config: ModelConfig, options: TrainOptions) -> None:
    """textgenrnn's "Training on N character sequences." line."""
    if options.verbose:
        unit = "word" if config.word_level else "character"
        print(f"Training on {len(prepared.train):,} {unit} sequences.")


def train_from_file(
    tg, file_path, header=True, delim="\n", new_model=False, context=None, is_csv=False, **kwargs
):
    context_labels = None
    if context:
        texts, context_labels = read_context_texts(file_path, header)
    else:
        texts = read_texts(file_path, header, delim, is_csv)
    if kwargs.get("verbose", 1):
        print(f"{len(texts):,} texts collected.")
    trainer = train_new_model if new_model else train_on_texts
    return trainer(tg, texts, context_labels=context_labels, **kwargs)


def train_from_largetext_file(tg, file_path, new_model=True, **kwargs):
    text = read_largetext(file_path)
    kwargs["single_text"] = True
    if new_model:
        return train_new_model(tg, [text], **kwargs)
    return train_on_texts(tg, [text], **kwargs)
