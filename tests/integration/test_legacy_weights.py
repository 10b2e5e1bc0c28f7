import h5py
import numpy as np
import pytest

from helpers import random_textgen
from textgen_export.contract.config import ModelConfig
from textgen_export.errors import UserError
from textgen_export.keras.h5_weights import cudnn_to_standard, load_into, read_weights, write_weights
from textgen_export.keras.network import build_model
from textgen_export.keras.oracle import lstm


def _cudnn_layout(kernel, recurrent, bias):
    """Inverse of the documented conversion: what a cuDNN-trained Keras 2 file holds."""
    k_blocks = [k.reshape(k.shape[::-1], order="F").T for k in np.split(kernel, 4, axis=-1)]
    r_blocks = [k.T for k in np.split(recurrent, 4, axis=-1)]
    half = bias / 2
    return np.concatenate(k_blocks, -1), np.concatenate(r_blocks, -1), np.concatenate([half, half])


def test_cudnn_conversion_inverts_the_cudnn_layout():
    rng = np.random.default_rng(0)
    kernel, recurrent, bias = rng.normal(size=(5, 12)), rng.normal(size=(3, 12)), rng.normal(size=12)
    converted = cudnn_to_standard(*_cudnn_layout(kernel, recurrent, bias))
    for got, want in zip(converted, (kernel, recurrent, bias), strict=True):
        np.testing.assert_allclose(got, want, atol=1e-12)
    # and the converted LSTM computes the same sequence
    x = rng.normal(size=(2, 4, 5))
    np.testing.assert_allclose(lstm(x, *converted), lstm(x, kernel, recurrent, bias), atol=1e-12)


def test_pretrained_file_is_cudnn_format_and_converts(pretrained_files):
    with h5py.File(pretrained_files["weights"], "r") as f:
        assert f["rnn_1/rnn_1/bias:0"].shape == (1024,)
    weights = read_weights(pretrained_files["weights"])
    assert weights["rnn_1"][2].shape == (512,)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_write_then_load_round_trips_exactly(tmp_path, bidirectional):
    tg = random_textgen(seed=5, rnn_bidirectional=bidirectional)
    path = tmp_path / "w.hdf5"
    write_weights(tg.model, path)
    with h5py.File(path, "r") as f:  # Keras-2 layout the original textgenrnn reads
        assert b"rnn_1" in list(f.attrs["layer_names"])
        assert "attention/attention_W:0" in f["attention"]
    fresh = build_model(tg.config, tg.vocab.num_classes)
    load_into(fresh, path)
    for a, b in zip(tg.model.get_weights(), fresh.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_shape_mismatch_names_layer_and_shapes(pretrained_files):
    model = build_model(ModelConfig(), 300)
    with pytest.raises(
        UserError, match=r"layer 'embedding' has shape \(465, 100\) where the vocab/config give \(300, 100\)"
    ):
        load_into(model, pretrained_files["weights"])


def test_bidirectional_mismatch_is_explained(pretrained_files):
    model = build_model(ModelConfig(rnn_bidirectional=True), 465)
    with pytest.raises(UserError, match="rnn_bidirectional"):
        load_into(model, pretrained_files["weights"])


@pytest.mark.parametrize("content", [b"", b"not hdf5 at all" * 10])
def test_unreadable_weight_files_are_user_errors(tmp_path, content):
    path = tmp_path / "bad.hdf5"
    path.write_bytes(content)
    with pytest.raises(UserError, match="not a readable HDF5 file"):
        read_weights(path)


def test_truncated_weight_file_is_a_user_error(tmp_path, pretrained_files):
    data = pretrained_files["weights"].read_bytes()
    path = tmp_path / "trunc.hdf5"
    path.write_bytes(data[: len(data) // 2])
    model = build_model(ModelConfig(), 465)
    with pytest.raises(UserError):
        load_into(model, path)


def test_missing_weight_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="weights file not found"):
        read_weights(tmp_path / "nope.hdf5")
