"""The model directory: what training writes and every command reads.

config.json    textgenrnn config keys (ModelConfig)
vocab.json     token -> index (textgenrnn's *_vocab.json format)
weights.hdf5   Keras-2 layout weights (loadable by the original textgenrnn too)
metadata.json  training figures (epochs, losses, validation bits per token, ...), optional
labels.json    a contextual model's labels, in the order of its context input (contract/labels.py); with it,
               weights.hdf5 also holds the context head (`context_output`). No labels.json: text path only.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..contract.bundle import CONFIG, VOCAB
from ..contract.config import ModelConfig, read_json
from ..contract.labels import ContextLabels
from ..contract.vocabulary import Vocabulary
from ..errors import MissingFileError, UserError
from ..files.atomic import write_text
from ..files.ownership import check_ours
from . import pretrained

WEIGHTS, METADATA, LABELS = "weights.hdf5", "metadata.json", "labels.json"
# How `legacy_files` finds a weights file's companions, for the commands' --help.
VOCAB_HELP = "textgenrnn vocab .json (default: *_vocab.json beside the weights, else the pretrained vocab)"
CONFIG_HELP = "textgenrnn config .json (default: *_config.json beside the weights, else the default config)"
# metadata.json names this format: `train --out` replaces only directories that say they are ours.
MODEL_FORMAT = "textgen-export-model"
LEGACY_TRAINER_KEYS = {"train_bits_per_token", "sequences_per_second", "corpus"}
CHECKPOINT_DIR = "checkpoint"  # training/checkpoint.DIRNAME, kept while a run is in progress


def save_model_dir(
    folder: str | Path,
    model,
    vocab: Vocabulary,
    config: ModelConfig,
    metadata: dict | None = None,
    labels: ContextLabels | None = None,
):
    """Write the model directory; a model with a context head keeps it, with its `labels`."""
    from .h5_weights import write_weights
    from .network import context_size, saved_model

    folder = Path(folder)
    size = context_size(model)
    if (size is None) != (labels is None) or (labels is not None and size != len(labels)):
        raise ValueError(f"a context head of {size} labels needs its labels, got {labels!r}")
    write_weights(saved_model(model), folder / WEIGHTS)
    if labels is not None:
        labels.save(folder / LABELS)
    vocab.save(folder / VOCAB)
    config.save(folder / CONFIG)
    metadata = {**(metadata or {}), "format": MODEL_FORMAT}
    write_text(folder / METADATA, json.dumps(metadata, indent=2) + "\n")


def check_model_dir_owned(folder: Path) -> None:
    """Raise unless `folder` is a model directory we wrote (or a run's checkpoint) holding only our files."""

    def marked(path: Path) -> bool:
        if (path / CHECKPOINT_DIR / "latest").is_file():
            return True
        try:
            metadata = read_json(path / METADATA, "metadata")
        except UserError:
            return False
        if not isinstance(metadata, dict):
            return False
        # Directories `train` wrote before metadata named its format carry the trainer's own figures.
        return metadata.get("format") == MODEL_FORMAT or LEGACY_TRAINER_KEYS <= metadata.keys()

    known = {CONFIG, VOCAB, WEIGHTS, METADATA, LABELS}
    check_ours(
        folder,
        "model directory",
        marked,
        METADATA,
        lambda rel: rel in known or rel.startswith(f"{CHECKPOINT_DIR}/"),
    )


def read_metadata(folder: str | Path) -> dict[str, Any]:
    path = Path(folder) / METADATA
    return read_json(path, "metadata") if path.is_file() else {}


def read_labels(source: str | Path | None, weights: str | Path | None = None) -> ContextLabels | None:
    """The context labels of what `load_source` loads (None: no context head): a model directory's
    labels.json, or the `*_labels.json` beside a weights file (what the drop-in writes after contextual
    training)."""
    if source is not None and (
        Path(source).is_file() or Path(str(source)).suffix.lower() in (".hdf5", ".h5")
    ):
        source, weights = None, source
    if source is not None:
        path = Path(source) / LABELS
    elif weights is not None:
        path = files_beside(weights, LABELS)
    else:
        return None
    return ContextLabels.load(path) if path.is_file() else None


def model_dir_files(folder: str | Path) -> dict[str, Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise MissingFileError(
            f"model directory not found: {folder}; train one with `textgen-export train`, or give a textgenrnn "
            "weights .hdf5"
        )
    files = {"weights": folder / WEIGHTS, "vocab": folder / VOCAB, "config": folder / CONFIG}
    for what, path in files.items():
        if not path.is_file():
            raise UserError(f"model directory {folder} has no {path.name} ({what}); it is incomplete")
    return files


def files_beside(weights_path, suffix: str) -> Path:
    """textgenrnn names companions `<name>_vocab.json` beside `<name>_weights.hdf5` (or `<name>.hdf5`)."""
    path = Path(weights_path)
    stem = path.stem[: -len("_weights")] if path.stem.endswith("_weights") else path.stem
    return path.with_name(f"{stem}_{suffix}")


def note_on_stderr(message: str) -> None:
    print(f"note: {message}", file=sys.stderr)


def legacy_files(weights, vocab=None, config=None, note: Callable[[str], None] = note_on_stderr) -> dict:
    """The files of a textgenrnn weights file, found as textgenrnn found them: the vocab and config given, else
    `*_vocab.json` / `*_config.json` beside the weights, else textgenrnn's own (pretrained) vocabulary and the
    default config, as `textgenrnn('/weights/hacker_news.hdf5')` in its README relies on."""
    weights = Path(weights)
    if not weights.is_file():
        raise MissingFileError(f"weights file not found: {weights}")
    if vocab is None:
        beside = files_beside(weights, "vocab.json")
        if beside.is_file():
            vocab = beside
        else:
            vocab = pretrained.paths()["vocab"]
            note(
                f"no {beside.name} beside {weights.name}: using textgenrnn's pretrained vocabulary "
                "(give the vocab file if these weights were trained with their own)"
            )
    if config is None:
        beside = files_beside(weights, "config.json")
        config = beside if beside.is_file() else None
    return {"weights": weights, "vocab": Path(vocab), "config": Path(config) if config else None}


def load_source(model_dir=None, weights=None, vocab=None, config=None):
    """Resolve what the user pointed at: a model directory, a textgenrnn weights file (as the source or with
    --weights; its vocab/config found by `legacy_files`), or nothing (the pretrained model).

    Returns (keras model, Vocabulary, ModelConfig); a model directory with labels.json gives the model with its
    context head (its labels: `read_labels`).
    """
    from .h5_weights import load_into
    from .network import build_model

    looks_like_weights = Path(str(model_dir)).suffix.lower() in (".hdf5", ".h5")
    if model_dir is not None and (Path(model_dir).is_file() or looks_like_weights):  # a textgenrnn .hdf5
        if weights is not None:
            raise UserError(f"{model_dir} is a weights file already; drop --weights")
        model_dir, weights = None, model_dir
    if model_dir is not None:
        if weights or vocab or config:
            raise UserError(
                "give either a model directory or textgenrnn files (a weights .hdf5 with --vocab/--config), "
                "not both"
            )
        files = model_dir_files(model_dir)
    elif weights is not None:
        files = legacy_files(weights, vocab, config)
    else:
        if vocab or config:
            raise UserError("--vocab/--config need --weights too (or the weights .hdf5 as the model source)")
        files = pretrained.paths()
    cfg = ModelConfig.load(files["config"]) if files["config"] else ModelConfig()
    voc = Vocabulary.load(files["vocab"], word_level=cfg.word_level)
    labels = read_labels(model_dir, weights)
    model = build_model(cfg, voc.num_classes, context_size=len(labels) if labels is not None else None)
    load_into(model, files["weights"], required=("context_output",) if labels is not None else ())
    return model, voc, cfg
