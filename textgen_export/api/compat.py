"""`from textgen_export import textgenrnn`: a drop-in for textgenrnn 2.x scripts.

Same constructor arguments, method names, keywords and attributes as the original; every method delegates to
the one implementation behind `TextGen`.
"""

from __future__ import annotations

import random

from ..contract.config import ModelConfig
from ..contract.tokens import META_TOKEN
from ..contract.vocabulary import Vocabulary
from ..files.atomic import write_text
from ..files.text import print_text
from ..keras import pretrained
from ..keras.model_dir import files_beside  # noqa: F401 - kept importable from here
from ..sampling.ensemble import synthesize_texts
from .textgen import TextGen


class textgenrnn:  # noqa: N801 - the original's name is the point
    META_TOKEN = META_TOKEN
    config = ModelConfig().to_dict()
    default_config = config.copy()

    def __init__(
        self, weights_path=None, vocab_path=None, config_path=None, name="textgenrnn", allow_growth=None
    ):
        if weights_path is None:
            files = pretrained.paths()
            weights_path, vocab_path = files["weights"], files["vocab"]
            config_path = config_path or files["config"]
        # No vocab given: `*_vocab.json` beside the weights, else textgenrnn's own vocabulary (with a note), as
        # the original did for `textgenrnn('/weights/hacker_news.hdf5')`; the same for `*_config.json`.
        self._tg = TextGen.from_legacy(weights_path, vocab_path, config_path)
        # The original sets config['name'] = name whatever the config file says; files it writes are `{name}_*`.
        self._tg.config = self._tg.config.replace(name=name)

    # -- attributes of the original ------------------------------------------------------------------------
    @property
    def model(self):
        """The text path, as the original left it after contextual training (the context head stays with
        `textgen`: `generate(context=...)` uses it)."""
        from ..keras.network import text_model

        full = self._tg.model
        if getattr(self, "_text_of", None) is not full:
            self._text_of, self._text = full, text_model(full)
        return self._text

    @model.setter
    def model(self, value):
        self._tg.model = value

    @property
    def config(self) -> dict:  # noqa: F811 - instance view shadows the class defaults, as in the original
        return self._tg.config.to_dict()

    @property
    def vocab(self) -> dict:
        return self._tg.vocab.token_to_index

    @property
    def num_classes(self) -> int:
        return self._tg.vocab.num_classes

    @property
    def indices_char(self) -> dict:
        return self._tg.vocab.index_to_token

    @property
    def textgen(self) -> TextGen:
        """The clean API object behind this one."""
        return self._tg

    @textgen.setter
    def textgen(self, textgen: TextGen) -> None:
        self._tg = textgen

    # -- generation ---------------------------------------------------------------------------------------
    def generate(
        self,
        n=1,
        return_as_list=False,
        prefix=None,
        temperature=[1.0, 0.5, 0.2, 0.2],
        max_gen_length=300,
        interactive=False,
        top_n=3,
        progress=True,
        seed=None,
        context=None,
    ):
        """textgenrnn's generate; `seed` and `context` (a context label or several, for a model trained with
        context labels) are our additions."""
        if interactive:
            texts = [
                self._tg.interactive(prefix, temperature, top_n, max_gen_length, context=context)
                for _ in range(n)
            ]
        else:
            texts = self._tg.generate(
                n, temperature, prefix, max_gen_length, seed=seed, progress=progress, context=context
            )
        if return_as_list:
            return texts
        for text in texts:
            print_text(f"{text}\n")
        return None

    def generate_samples(self, n=3, temperatures=[0.2, 0.5, 1.0], **kwargs):
        for temperature in temperatures:
            print("#" * 20 + f"\nTemperature: {temperature}\n" + "#" * 20)
            self.generate(n, temperature=temperature, progress=False, **kwargs)

    def generate_to_file(self, destination_path, **kwargs):
        texts = self.generate(return_as_list=True, **kwargs)
        write_text(destination_path, "".join(f"{t}\n" for t in texts))

    # -- training (textgen_export.training) ------------------------------------------------------------------
    def train_on_texts(
        self,
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
        from .compat_training import train_on_texts

        return train_on_texts(
            self,
            texts,
            context_labels=context_labels,
            batch_size=batch_size,
            num_epochs=num_epochs,
            verbose=verbose,
            new_model=new_model,
            gen_epochs=gen_epochs,
            train_size=train_size,
            max_gen_length=max_gen_length,
            validation=validation,
            dropout=dropout,
            via_new_model=via_new_model,
            save_epochs=save_epochs,
            multi_gpu=multi_gpu,
            **kwargs,
        )

    def train_new_model(
        self,
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
        from .compat_training import train_new_model

        return train_new_model(
            self,
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
            **kwargs,
        )

    def train_from_file(
        self, file_path, header=True, delim="\n", new_model=False, context=None, is_csv=False, **kwargs
    ):
        from .compat_training import train_from_file

        return train_from_file(
            self,
            file_path,
            header=header,
            delim=delim,
            new_model=new_model,
            context=context,
            is_csv=is_csv,
            **kwargs,
        )

    def train_from_largetext_file(self, file_path, new_model=True, **kwargs):
        from .compat_training import train_from_largetext_file

        return train_from_largetext_file(self, file_path, new_model=new_model, **kwargs)

    # -- persistence ----------------------------------------------------------------------------------------
    def save(self, weights_path="textgenrnn_weights_saved.hdf5"):
        """The weights (with the context head, if any: textgenrnn ignores it) and the head's labels beside them
        (`*_labels.json`)."""
        from ..keras.h5_weights import write_weights
        from ..keras.model_dir import LABELS
        from ..keras.network import saved_model

        labels = self._tg.head_labels()
        write_weights(saved_model(self._tg.model) if labels else self.model, weights_path)
        if labels is not None:
            labels.save(files_beside(weights_path, LABELS))

    def load(self, weights_path):
        from ..keras.h5_weights import load_into
        from ..keras.model_dir import read_labels
        from ..keras.network import build_model

        labels = read_labels(None, weights_path)
        size = len(labels) if labels is not None else None
        model = build_model(self._tg.config, self._tg.vocab.num_classes, context_size=size)
        load_into(model, weights_path, required=("context_output",) if size else ())
        self._tg.model, self._tg.labels = model, labels

    def reset(self):
        """Back to the default config (the original's behaviour; the model is rebuilt untrained)."""
        config = ModelConfig(name=self._tg.config.name)
        self._tg = TextGen.new(config, Vocabulary(self._tg.vocab.token_to_index, config.word_level))

    # -- text vectors -------------------------------------------------------------------------------------
    def encode_text_vectors(
        self, texts, pca_dims=50, tsne_dims=None, tsne_seed=None, return_pca=False, return_tsne=False
    ):
        return self._tg.encode_text_vectors(texts, pca_dims, tsne_dims, tsne_seed, return_pca, return_tsne)

    def similarity(self, text, texts, use_pca=True):
        return self._tg.similarity(text, texts, use_pca)


def synthesize(
    textgens,
    n=1,
    return_as_list=False,
    prefix="",
    temperature=[0.5, 0.2, 0.2],
    max_gen_length=300,
    progress=True,
    stop_tokens=[" ", "\n"],
    seed=None,
):
    """Ensemble generation: the models take turns, each adding text up to its next stop token."""

    models = [t.textgen if isinstance(t, textgenrnn) else t for t in textgens]
    texts = synthesize_texts(
        models,
        n=n,
        prefix=prefix,
        temperature=temperature,
        max_gen_length=max_gen_length,
        progress=progress,
        stop_tokens=stop_tokens,
        seed=seed,
        shuffle=random.Random(seed).shuffle,
    )
    if return_as_list:
        return texts
    for text in texts:
        print_text(f"{text}\n")
    return None


def synthesize_to_file(textgens, destination_path, **kwargs):
    texts = synthesize(textgens, return_as_list=True, **kwargs)
    write_text(destination_path, "".join(f"{t}\n" for t in texts))
