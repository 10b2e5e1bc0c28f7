"""The model directory: what training writes and every command reads.

config.json    textgenrnn config keys (ModelConfig)
vocab.json     token -> index (textgenrnn's *_vocab.json format)
weights.hdf5   Keras-2 layout weights (loadable by the original textgenrnn too)
metadata.json  training figures (epochs, losses, validation bits per token, ...), optional
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import MissingFileError, UserError
from ..files.atomic import write_text
from ..files.ownership import check_ours
from ..spec.bundle import CONFIG, VOCAB
from ..spec.config import ModelConfig, read_json
from ..spec.vocabulary import Vocabulary
from . import pretrained

WEIGHTS, METADATA = "weights.hdf5", "metadata.json"
# metadata.json names this format: `train --out` replaces only directories that say they are ours.
MODEL_FORMAT = "textgen-export-model"
LEGACY_TRAINER_KEYS = {"train_bits_per_token", "sequences_per_second", "corpus"}
CHECKPOINT_DIR = "checkpoint"  # training/checkpoint.DIRNAME, kept while a run is in progress


def save_model_dir(
    folder: str | Path, model, vocab: Vocabulary, config: ModelConfig, metadata: dict | None = None
):
    from .h5_weights import write_weights

    folder = Path(folder)
    write_weights(model, folder / WEIGHTS)
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

    known = {CONFIG, VOCAB, WEIGHTS, METADATA}
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


def model_dir_files(folder: str | Path) -> dict[str, Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise MissingFileError(f"model directory not found: {folder}; train one with `textgen-export train`")
    files = {"weights": folder / WEIGHTS, "vocab": folder / VOCAB, "config": folder / CONFIG}
    for what, path in files.items():
        if not path.is_file():
            raise UserError(f"model directory {folder} has no {path.name} ({what}); it is incomplete")
    return files


def load_source(model_dir=None, weights=None, vocab=None, config=None):
    """Resolve what the user pointed at (a model dir, a legacy weights triple, or nothing = pretrained).

    Returns (keras model, Vocabulary, ModelConfig).
    """
    from .h5_weights import load_into
    from .network import build_model

    if model_dir is not None:
        if weights or vocab or config:
            raise UserError("give either --model DIR or --weights/--vocab/--config, not both")
        files = model_dir_files(model_dir)
    elif weights is not None:
        if vocab is None:
            raise UserError("--weights needs --vocab too (the *_vocab.json saved with the weights)")
        files = {"weights": Path(weights), "vocab": Path(vocab), "config": Path(config) if config else None}
    else:
        if vocab or config:
            raise UserError("--vocab/--config need --weights too")
        files = pretrained.paths()
    cfg = ModelConfig.load(files["config"]) if files["config"] else ModelConfig()
    voc = Vocabulary.load(files["vocab"], word_level=cfg.word_level)
    if not Path(files["weights"]).is_file():
        raise MissingFileError(f"weights file not found: {files['weights']}")
    model = build_model(cfg, voc.num_classes)
    load_into(model, files["weights"])
    return model, voc, cfg
