"""TextGen: the clean Python API over one model, vocabulary and config (Keras runtime)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..contract.config import ModelConfig
from ..contract.labels import ContextLabels
from ..contract.tokens import META_TOKEN
from ..contract.vocabulary import Vocabulary
from ..files.text import print_text
from ..keras.model_dir import load_source, read_labels, read_metadata, save_model_dir
from ..runtime.keras import KerasRuntime
from ..sampling.generator import Generator
from ..sampling.interactive import InteractiveSession, check_top_n, run_terminal
from ..sampling.trace import Trace
from ..training.options import TrainOptions, keras_seed
from .vectors import PCA, cosine_similarity, tsne

if TYPE_CHECKING:
    import keras

# Arguments of training.trainer.train that are not options: how the caller follows and checkpoints the run.
TRAINER_HOOKS = ("prepared", "save", "say", "run", "resume")


class TextGen:
    """A textgenrnn-architecture text generator.

    >>> tg = TextGen.pretrained()
    >>> tg.generate(temperature=0.0, prefix="Why I", max_gen_length=60)

    A model trained with context labels keeps its context head: `tg.labels` lists them, and
    `tg.generate(context="label")` (or several: `context=["a", "b"]`) samples the head fed those labels.
    """

    def __init__(
        self,
        model: keras.Model,
        vocab: Vocabulary,
        config: ModelConfig,
        metadata: dict | None = None,
        labels: ContextLabels | None = None,
    ):
        self.model = model  # the setter keeps the text-only graph the runtime traces
        self.vocab = vocab
        self.config = config
        self.metadata = metadata or {}
        self.labels = labels

    @property
    def model(self) -> keras.Model:
        return self._model

    @model.setter
    def model(self, model: keras.Model) -> None:
        self._model = model
        self._runtime: KerasRuntime | None = None

    # -- constructors ------------------------------------------------------------------------------------
    @classmethod
    def pretrained(cls) -> TextGen:
        """textgenrnn's own Reddit-trained weights (fetched from PyPI on first use, then cached)."""

        return cls(*load_source())

    @classmethod
    def from_legacy(cls, weights: str | Path, vocab: str | Path, config: str | Path | None = None) -> TextGen:
        return cls(
            *load_source(weights=weights, vocab=vocab, config=config), labels=read_labels(None, weights)
        )

    @classmethod
    def load(cls, model_dir: str | Path) -> TextGen:
        return cls(
            *load_source(model_dir=model_dir),
            metadata=read_metadata(model_dir),
            labels=read_labels(model_dir),
        )

    @classmethod
    def new(
        cls, config: ModelConfig, vocab: Vocabulary, dropout: float = 0.0, seed: int | None = None
    ) -> TextGen:
        """A fresh model; with `seed`, its initial weights are reproducible (set before it is built)."""
        from ..keras.backend import keras
        from ..keras.network import build_model

        if seed is not None:
            keras.utils.set_random_seed(keras_seed(seed))
        return cls(build_model(config, vocab.num_classes, dropout=dropout), vocab, config)

    def save(self, model_dir: str | Path) -> None:
        """Write a model directory (the context head and its labels too, when the model has one and its labels
        are known; else the text path alone)."""
        from ..keras.network import text_model

        labels = self.head_labels()
        model = self.model if labels is not None else text_model(self.model)
        save_model_dir(model_dir, model, self.vocab, self.config, self.metadata, labels)

    def head_labels(self) -> ContextLabels | None:
        """`labels` if the model really has a context head of that many labels, else None."""
        from ..keras.network import context_size

        size = context_size(self.model)
        return (
            self.labels if size is not None and self.labels is not None and size == len(self.labels) else None
        )

    # -- generation --------------------------------------------------------------------------------------
    @property
    def runtime(self) -> KerasRuntime:
        """The Keras adapter, traced once per model (assigning `model` makes the next call trace anew)."""
        if self._runtime is None:
            self._runtime = KerasRuntime(self.model, config=self.config)
        return self._runtime

    def model_changed(self) -> None:
        """Kept for callers that swapped layers in place: the traced function is rebuilt on next use."""
        self._runtime = None

    @property
    def generator(self) -> Generator:
        return Generator(self.runtime, self.vocab, self.config, self.head_labels())

    def generate(
        self,
        n: int = 1,
        temperature: float | Sequence[float] = 0.5,
        prefix: str | None = None,
        max_gen_length: int = 300,
        seed: int | None = None,
        progress: bool = False,
        context: str | Sequence[str] | None = None,
    ) -> list[str]:
        """Generate `n` texts as one batch; with `seed` the output is reproducible (and equal across runtimes).

        `context`: a label of the model's context head (or a list of them) to generate for; None: text path."""
        bar = None
        if progress and n > 1:
            from tqdm import tqdm

            bar = tqdm(total=n, unit="text")
        try:
            return self.generator.generate(
                n=n,
                temperature=temperature,
                prefix=prefix,
                max_gen_length=max_gen_length,
                seed=seed,
                context=context,
                on_text=(lambda i, text: bar.update(1)) if bar else None,
            )
        finally:
            if bar:
                bar.close()

    def train(
        self,
        texts: Sequence[str] | None = None,
        context_labels: Sequence | None = None,
        single_text: bool | None = None,
        checkpoints: str | Path | None = None,
        *,
        options: TrainOptions | None = None,
        **fields,
    ) -> dict:
        """Train this model in place on `texts`; returns the training metadata (losses, bits per token).

        `fields` are `TrainOptions` fields (num_epochs, batch_size, train_size, dropout, patience, seed, ...) or
        trainer arguments (prepared, save, say, run, resume); `checkpoints`: a folder that gets a resumable
        checkpoint after every epoch.
        """
        from ..training.trainer import train

        hooks = {k: fields.pop(k) for k in TRAINER_HOOKS if k in fields}
        if options is None:
            try:
                options = TrainOptions(**fields)
            except TypeError as exc:
                raise ValueError(f"unknown training option: {exc}") from None
        elif fields:
            raise ValueError(f"give either options= or option fields, not both: {sorted(fields)}")
        trained = train(
            self.model,
            self.vocab,
            self.config,
            texts,
            options,
            context_labels,
            single_text,
            checkpoints=checkpoints,
            labels=self.head_labels(),
            **hooks,
        )
        self.model, self.metadata, self.labels = trained.model, trained.metadata, trained.labels
        return trained.metadata

    def stream(self, **options) -> Iterator[tuple[int, str]]:
        """Yield (text index, piece) as tokens are produced."""
        return self.generator.stream(**options)

    def trace(self, n: int = 1, top_k: int = 5, **options) -> list[Trace]:
        """Generate like `generate` (same options, same seeded texts) and return, per text, every step: the
        window, the attention over it (`Trace.attention_matrix()`: one row per generated token) and the top-k
        next tokens with the probabilities the sampler drew from."""
        return self.generator.trace(n=n, top_k=top_k, **options)

    def interactive(
        self,
        prefix=None,
        temperature=0.5,
        top_n=3,
        max_gen_length=300,
        ask=input,
        say=print_text,
        context=None,
    ) -> str:
        session = InteractiveSession(
            self.generator, prefix, temperature, check_top_n(top_n), max_gen_length, context
        )
        return run_terminal(session, ask, say)

    def probs(self, texts: Sequence[str]) -> np.ndarray:
        """Next-token probabilities after `<s>` + each text (the window the generator would use)."""
        tokens = [[META_TOKEN, *self.vocab.tokenize(t)] for t in texts]
        return self.runtime.probs(self.vocab.windows(tokens, self.config.max_length))

    # -- text vectors --------------------------------------------------------------------------------------
    def encode_text_vectors(
        self, texts, pca_dims=50, tsne_dims=None, tsne_seed=None, return_pca=False, return_tsne=False
    ):
        """The attention layer's output for `<s>` + the first max_length tokens of each text (+ PCA/t-SNE)."""
        if isinstance(texts, str):
            texts = [texts]
        length = self.config.max_length
        from ..keras.backend import keras

        encoder = keras.Model(self.model.inputs[0], self.model.get_layer("attention").output)
        tokens = [[META_TOKEN, *self.vocab.tokenize(t)[:length]] for t in texts]
        vectors = np.asarray(encoder(self.vocab.windows(tokens, length), training=False))
        pca = tsne_model = None
        if pca_dims is not None:
            pca = PCA(pca_dims)
            vectors = pca.fit_transform(vectors)
        if tsne_dims is not None:
            vectors, tsne_model = tsne(vectors, tsne_dims, tsne_seed)
        if not (return_pca or return_tsne):
            return vectors
        result = [vectors]
        if return_pca:
            result.append(pca)
        if return_tsne:
            result.append(tsne_model)
        return result

    def similarity(self, text: str, texts: Sequence[str], use_pca: bool = True) -> list[tuple[str, float]]:
        """Texts ranked by cosine similarity of their encodings to `text`."""
        encoded = self.encode_text_vectors(text, pca_dims=None)
        if use_pca:
            others, pca = self.encode_text_vectors(texts, return_pca=True)
            encoded = pca.transform(encoded)
        else:
            others = self.encode_text_vectors(texts, pca_dims=None)
        scores = cosine_similarity(encoded, others)[0]
        return sorted(zip(texts, (float(s) for s in scores), strict=True), key=lambda pair: -pair[1])
