"""`train --new-model --seed S` is reproducible: two runs on the same machine give identical weights."""

from __future__ import annotations

import h5py
import numpy as np

from helpers import run_cli

TINY = ["--new-model", "--rnn-size", "8", "--max-length", "6", "--dim-embeddings", "4", "--gen-epochs", "0"]
TINY += ["--epochs", "1", "--batch-size", "8"]
CORPUS = "".join(f"line {i}: the quick brown fox jumps\n" for i in range(30))


def weights(folder) -> dict[str, np.ndarray]:
    arrays = {}
    with h5py.File(folder / "weights.hdf5", "r") as f:
        f.visititems(
            lambda name, obj: arrays.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None
        )
    return arrays


def test_two_seeded_new_model_runs_give_identical_weights(tmp_path):
    (tmp_path / "corpus.txt").write_text(CORPUS)
    runs = []
    for name, seed in (("a", "3"), ("b", "3"), ("c", "4")):
        done = run_cli("train", tmp_path / "corpus.txt", *TINY, "--seed", seed, "--out", tmp_path / name)
        assert done.returncode == 0, done.stderr
        runs.append(weights(tmp_path / name))
    a, b, c = runs
    assert a.keys() == b.keys() and len(a) > 5
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    assert any(not np.array_equal(a[name], c[name]) for name in a)  # the seed matters: another one differs
