"""Training options (textgenrnn's keywords plus ours), checked before anything is read or built.  TF-free."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import UserError
from ..sampling.generator import check_seed
from ..sampling.rng import fold_seed

# The most epochs a run may ask for: checked before training, and again when a checkpoint is resumed.
MAX_EPOCHS = 1_000_000


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
        if self.num_epochs > MAX_EPOCHS:
            raise UserError(f"num_epochs (--epochs) must be at most {MAX_EPOCHS:,}, got {self.num_epochs:,}")
        _int_at_least("batch_size", self.batch_size, 1)
        _int_at_least("gen_epochs", self.gen_epochs, 0)
        _int_at_least("save_epochs", self.save_epochs, 0)
        _int_at_least("patience", self.patience, 0)
        _int_at_least("max_gen_length", self.max_gen_length, 1)
        if self.seed is not None:  # any integer generate takes, folded as generate folds it
            self.seed = fold_seed(check_seed(self.seed))
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


def keras_seed(seed: int) -> int:
    """`seed` (any integer) as the 32-bit seed Keras and numpy's global generator take: the folded 64-bit
    seed's two halves xor-ed, so every seed below 2**32 is itself."""
    folded = fold_seed(seed)
    return (folded ^ (folded >> 32)) & 0xFFFFFFFF


def _int_at_least(name: str, value, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise UserError(f"{name} must be an integer ≥ {low}, got {value!r}")
