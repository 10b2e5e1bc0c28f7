"""Resumable training checkpoints: everything needed to continue an interrupted run from its next epoch.

Layout (`textgen-export train --out OUT` keeps it in `OUT/checkpoint/`; it goes when the final model is written):

    checkpoint/
      latest             "epoch-0003": the one complete checkpoint (replaced atomically)
      epoch-0003/
        state.json       epochs done, training options, history so far, RNG state, the caller's run info,
                         and the sha256 of every other file here
        config.json      ModelConfig
        vocab.json       token -> index
        model.npz        every model variable (weights and dropout seed states), in model.variables order
        optimizer.npz    every optimizer variable (iteration, learning rate, Adam moments)
        best.npz         early stopping's best weights (only with patience)

A new checkpoint is written to a temporary directory beside the others, each file fsynced, then renamed into
place; only then does `latest` (itself written to a temp file, fsynced and renamed) point at it, and only then
is the previous one deleted. A crash at any moment leaves `latest` naming a complete checkpoint. No pickle:
arrays are .npz read with allow_pickle=False, everything else JSON.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import random
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..contract.bundle import CONFIG, VOCAB
from ..contract.config import ModelConfig
from ..contract.vocabulary import Vocabulary
from ..errors import UserError
from ..files.atomic import atomic_directory, fsync_dir, recover_directory, write_bytes, write_text
from ..files.reading import parse_json, read_bytes
from .options import MAX_EPOCHS

FORMAT = 1
DIRNAME = "checkpoint"
LATEST = "latest"
STATE = "state.json"
MODEL, OPTIMIZER, BEST = "model.npz", "optimizer.npz", "best.npz"
MAX_STATE_BYTES = 64 * 1024 * 1024
MAX_BLOB_BYTES = 4 * 1024**3  # a checkpoint holds weights and optimiser state: bounded, but generously


@dataclass
class State:
    epoch: int  # epochs completed
    options: dict  # TrainOptions fields (trainer.TrainOptions(**options))
    config: ModelConfig
    vocab: Vocabulary
    model_variables: list[np.ndarray]
    optimizer_variables: list[np.ndarray]
    # loss, train_bits, validation_bits (lists per epoch), initial_validation_bits, seconds
    history: dict = field(default_factory=dict)
    rng: dict = field(default_factory=dict)  # data_seed, batches_done, python, numpy (see capture_rng)
    stopped: bool = False  # early stopping ended the run at `epoch`
    early_stopping: dict | None = None  # wait, best, best_epoch
    best_weights: list[np.ndarray] | None = None
    run: dict = field(default_factory=dict)  # the caller's own record (the CLI: data file, reading flags)
    path: Path | None = None  # where it was loaded from


def capture_rng() -> dict:
    """Python's and numpy's global generator states, as JSON (the data shuffle is replayed from its seed)."""
    version, internal, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "python": [version, list(internal), gauss],
        "numpy": [name, keys.tolist(), int(pos), int(has_gauss), float(cached)],
    }


def restore_rng(rng: dict) -> None:
    if "python" in rng:
        version, internal, gauss = rng["python"]
        random.setstate((version, tuple(internal), gauss))
    if "numpy" in rng:
        name, keys, pos, has_gauss, cached = rng["numpy"]
        np.random.set_state((name, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))


def locate(path: str | Path) -> Path:
    """The checkpoint folder for what the user named: a training --out dir, or its checkpoint/ itself."""
    path = Path(path).resolve()
    for folder in (path.parent, path) if path.name == DIRNAME else (path,):
        recover_directory(folder)  # a crash while the final model replaced OUT: finish or undo it first
    for root in (path / DIRNAME, path):
        if (root / LATEST).is_file():
            return root
    if (path / "metadata.json").is_file():  # keras/model_dir.METADATA: the final model is written
        raise UserError(
            f"--resume {path}: that run finished (its model directory is complete); nothing to resume"
        )
    if not path.exists():
        raise UserError(
            f"--resume {path}: no such directory; give the --out directory of the interrupted run"
        )
    raise UserError(
        f"--resume {path}: no training checkpoint there (expected {path / DIRNAME / LATEST}); "
        "give the --out directory of an interrupted `textgen-export train` run"
    )


def _npz(arrays: list[np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **{f"v{i:04d}": np.asarray(a) for i, a in enumerate(arrays)})
    return buffer.getvalue()


def save(root: str | Path, state: State) -> Path:
    """Write `state` as `root/epoch-NNNN/` and point `root/latest` at it; returns that folder."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    name = f"epoch-{state.epoch:04d}"
    blobs = {
        CONFIG: (json.dumps(state.config.to_dict(), indent=2) + "\n").encode(),
        VOCAB: state.vocab.to_json().encode(),
        MODEL: _npz(state.model_variables),
        OPTIMIZER: _npz(state.optimizer_variables),
    }
    if state.best_weights is not None:
        blobs[BEST] = _npz(state.best_weights)
    record = {
        "format": FORMAT,
        "epoch": state.epoch,
        "options": state.options,
        "history": state.history,
        "rng": state.rng,
        "stopped": state.stopped,
        "early_stopping": state.early_stopping,
        "run": state.run,
        "files": {file: hashlib.sha256(data).hexdigest() for file, data in blobs.items()},
    }
    blobs[STATE] = (json.dumps(record, indent=1) + "\n").encode()
    with atomic_directory(root / name) as tmp:
        for file, data in blobs.items():
            write_bytes(tmp / file, data)  # each: temp file, fsync, rename
        fsync_dir(tmp)
    fsync_dir(root)
    write_text(root / LATEST, name + "\n")
    fsync_dir(root)
    for old in root.iterdir():  # earlier checkpoints, and temp files and dirs a crash left behind
        if old.name in (name, LATEST):
            continue
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
        elif old.name.startswith(f".{LATEST}.") and old.name.endswith(".tmp"):
            old.unlink(missing_ok=True)
    return root / name


def _corrupt(folder: Path, what: str) -> UserError:
    return UserError(
        f"the checkpoint in {folder} is damaged ({what}); delete {folder.parent} and train again "
        "without --resume"
    )


def load(root: str | Path) -> State:
    """Read and verify (sha256 of every file) the checkpoint `root/latest` names; damage is a UserError."""
    root = Path(root)
    try:
        name = (root / LATEST).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise _corrupt(root / LATEST, f"cannot read {LATEST}: {exc}") from None
    folder = root / name
    if not name.startswith("epoch-") or "/" in name or not folder.is_dir():
        raise _corrupt(folder, f"{LATEST} names {name!r}, which is missing")
    try:
        record = parse_json(read_bytes(folder / STATE, "checkpoint state", MAX_STATE_BYTES), STATE)
    except UserError as exc:
        raise _corrupt(folder, f"{STATE} unreadable: {exc}") from None
    if (
        not isinstance(record, dict)
        or record.get("format") != FORMAT
        or not isinstance(record.get("files"), dict)
    ):
        raise _corrupt(folder, f"{STATE} is not a format-{FORMAT} checkpoint record")
    _check_record(folder, record)
    blobs = {}
    for file, digest in record["files"].items():
        try:
            data = read_bytes(folder / file, "checkpoint", MAX_BLOB_BYTES)
        except UserError:
            raise _corrupt(folder, f"{file} is missing or not a regular file") from None
        if hashlib.sha256(data).hexdigest() != digest:
            raise _corrupt(folder, f"{file} does not match its recorded sha256")
        blobs[file] = data
    try:
        config = ModelConfig.from_dict(json.loads(blobs[CONFIG]))
        return State(
            epoch=int(record["epoch"]),
            options=dict(record["options"]),
            config=config,
            vocab=Vocabulary(json.loads(blobs[VOCAB]), config.word_level),
            model_variables=_arrays(blobs[MODEL]),
            optimizer_variables=_arrays(blobs[OPTIMIZER]),
            history=dict(record["history"]),
            rng=dict(record["rng"]),
            stopped=bool(record["stopped"]),
            early_stopping=record["early_stopping"],
            best_weights=_arrays(blobs[BEST]) if BEST in blobs else None,
            run=dict(record["run"]),
            path=folder,
        )
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, zipfile.BadZipFile) as exc:
        raise _corrupt(folder, f"{type(exc).__name__}: {exc}") from None


def _check_record(folder: Path, record: dict) -> None:
    """Types and ranges of what load() trusts, before any of it is used (a damaged or edited state.json)."""
    unknown = [name for name in record["files"] if name not in (CONFIG, VOCAB, MODEL, OPTIMIZER, BEST)]
    if unknown or not all(isinstance(d, str) for d in record["files"].values()):
        raise _corrupt(folder, f"{STATE} lists unexpected files {unknown!r}")
    options = record.get("options")
    if not isinstance(options, dict):
        raise _corrupt(folder, f"{STATE} has no training options")
    total = options.get("num_epochs")
    epoch = record.get("epoch")
    if isinstance(total, bool) or not isinstance(total, int) or not 1 <= total <= MAX_EPOCHS:
        raise _corrupt(folder, f"num_epochs {total!r} is not an integer from 1 to {MAX_EPOCHS}")
    if isinstance(epoch, bool) or not isinstance(epoch, int) or not 0 <= epoch <= MAX_EPOCHS:
        raise _corrupt(folder, f"epoch {epoch!r} is not an integer from 0 to {MAX_EPOCHS}")
    for key, kind in (("history", dict), ("rng", dict), ("run", dict), ("stopped", bool)):
        if not isinstance(record.get(key), kind):
            raise _corrupt(folder, f"{key} is not a {kind.__name__}")
    if record.get("early_stopping") is not None and not isinstance(record["early_stopping"], dict):
        raise _corrupt(folder, "early_stopping is not an object")
    saved = random.getstate(), np.random.get_state()
    try:  # the RNG state must be one the generators accept: try it, then put ours back
        restore_rng(record["rng"])
    except (TypeError, ValueError, OverflowError, KeyError, IndexError) as exc:
        raise _corrupt(folder, f"rng state unusable ({type(exc).__name__})") from None
    finally:
        random.setstate(saved[0])
        np.random.set_state(saved[1])


def _arrays(data: bytes) -> list[np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        return [npz[f"v{i:04d}"] for i in range(len(npz.files))]


def options_dict(options) -> dict:
    """TrainOptions as the JSON record keeps it."""
    return dataclasses.asdict(options)
