"""A training run's --out: checked before training (it is replaced as a whole, so it must be ours), written
at once at the end, and `OUT_epochN/` snapshots every --save-epochs.  TF-free at import."""

from __future__ import annotations

from pathlib import Path

from ..contract.config import ModelConfig
from ..contract.labels import ContextLabels
from ..contract.vocabulary import Vocabulary
from ..errors import UserError
from ..files.atomic import atomic_directory, recover_directory
from ..files.ownership import check_replaceable
from ..keras.model_dir import check_model_dir_owned, save_model_dir
from . import checkpoint
from .options import TrainOptions


def check_out(out: Path, file, options: TrainOptions) -> None:
    """Fail before training, not after: the directory is replaced as a whole, so it must be ours to replace."""

    recover_directory(out)
    if Path(file).resolve().is_relative_to(out):
        raise UserError(
            f"the training file {file} is inside --out {out}, which is replaced as a whole; "
            "choose another --out (or move the file)"
        )
    saved = out / checkpoint.DIRNAME
    if saved.exists() and not (saved / checkpoint.LATEST).exists():
        raise UserError(
            f"--out {out} holds an incomplete checkpoint (a run died during its first epoch); "
            f"delete {saved} to start over"
        )
    if saved.exists():
        raise UserError(
            f"--out {out} holds the checkpoint of an interrupted run; continue it with "
            f"`textgen-export train --resume {out}`, or delete {saved} to start over"
        )
    check_replaceable(out, "model directory", check_model_dir_owned)
    if options.save_epochs:  # OUT_epochN/ (none after the last epoch) are replaced too: check them now
        for epoch in range(options.save_epochs, options.num_epochs, options.save_epochs):
            check_replaceable(epoch_dir(out, epoch), "model directory", check_model_dir_owned)


def write_model_dir(
    out: Path,
    model,
    vocab: Vocabulary,
    config: ModelConfig,
    metadata: dict,
    labels: ContextLabels | None = None,
) -> None:
    """The whole directory appears at once (or not at all): a crash never leaves half a model.  A model with a
    context head keeps it, with its `labels`."""
    with atomic_directory(out, owned=check_model_dir_owned) as tmp:
        save_model_dir(tmp, model, vocab, config, metadata, labels)


def epoch_dir(out: Path, epoch: int) -> Path:
    return out.with_name(f"{out.name}_epoch{epoch}")


def epoch_saver(out: Path, vocab: Vocabulary, config: ModelConfig, labels: ContextLabels | None = None):
    """The trainer's `save(epoch, model, is_checkpoint)`: every --save-epochs, a whole `OUT_epochN/` (with the
    context head and its `labels` when the model being trained has one)."""
    from ..keras.network import context_size

    def save(epoch, model, is_checkpoint):
        if is_checkpoint:
            head = labels if context_size(model) is not None else None
            with atomic_directory(epoch_dir(out, epoch), owned=check_model_dir_owned) as tmp:
                save_model_dir(tmp, model, vocab, config, {"epoch": epoch}, head)

    return save
