"""textgenrnn / Keras-2 `.hdf5` weight files, read and written with h5py (no tf-keras).

Layout (docs/design.md §3): root attribute `layer_names`; each layer group has `weight_names`; datasets live at
`<layer>/<weight name>`, e.g. `rnn_1/rnn_1/kernel:0`.  Files trained on a GPU hold cuDNN-format LSTM weights
(bias of 8·units); they are converted to the standard layout on reading.  We write the standard layout, so the
files we save load in the original textgenrnn too.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from ..errors import MissingFileError, UserError
from ..files.atomic import atomic_path
from ..files.reading import quoted

# Layers the text path needs; anything else in a file (e.g. context_output) is optional.
OPTIONAL_LAYERS = {"context_output"}
# No textgenrnn-sized layer comes near this; a file claiming more is hostile or corrupt (checked before reading).
MAX_ELEMENTS_PER_ARRAY = 64 * 1024 * 1024


def _gate_blocks(array: np.ndarray) -> list[np.ndarray]:
    return np.split(array, 4, axis=-1)


def cudnn_to_standard(kernel: np.ndarray, recurrent: np.ndarray, bias: np.ndarray):
    """Convert one cuDNN-format LSTM (bias 8·units) to the standard Keras layout; gate order i, f, c, o."""
    units = recurrent.shape[0]
    bias = bias[: 4 * units] + bias[4 * units :]
    kernel = np.concatenate([k.T.reshape(k.shape, order="F") for k in _gate_blocks(kernel)], axis=-1)
    recurrent = np.concatenate([k.T for k in _gate_blocks(recurrent)], axis=-1)
    return kernel, recurrent, bias


def _lstm_like(arrays: list[np.ndarray]) -> bool:
    return len(arrays) in (3, 6) and all(a.ndim == 1 for a in arrays[2::3])


def read_weights(
    path: str | Path, expected: dict[str, list[tuple[int, ...]]] | None = None
) -> dict[str, list[np.ndarray]]:
    """Read every layer's weights as {layer name: [arrays]} in standard layout.

    With `expected` ({layer: [shape, ...]}) every dataset's shape is checked before it is read, so a file that
    disagrees with the vocab/config fails with a message naming the layer instead of allocating garbage.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"weights file not found: {path}")
    try:
        handle = h5py.File(path, "r")
    except OSError:
        raise UserError(
            f"weights file {path} is not a readable HDF5 file (truncated or another format?)"
        ) from None
    with handle as f:
        try:
            return _read_layers(f, path, expected)
        except UserError:
            raise
        except (RuntimeError, KeyError, OSError, ValueError, TypeError, AttributeError, IndexError) as exc:
            # h5py raises these for damaged structure (bad attribute types, broken links, unknown messages)
            raise UserError(
                f"weights file {path} is damaged ({type(exc).__name__}: {' '.join(str(exc).split())[:80]}); "
                "use an intact copy of the weights"
            ) from None


def _child(parent, name: str, path: Path, what: str):
    """`parent[name]` through hard links only: a soft or external link (or a missing member) is refused here,
    before anything is read, so a weights file cannot make us open another file or loop."""
    obj = parent
    for part in name.split("/"):
        if not part:
            continue
        link = obj.get(part, getlink=True) if isinstance(obj, h5py.Group) else None
        if link is None:
            return None
        if not isinstance(link, h5py.HardLink):
            kind = "an external link" if isinstance(link, h5py.ExternalLink) else "a soft link"
            raise UserError(
                f"weights file {quoted(path)}: {what} {quoted(name)} is {kind}; weights must be stored in the "
                "file itself (save them again with Keras)"
            )
        obj = obj[part]
    return obj


def _check_dataset(d, path: Path, layer: str, wname: str) -> None:
    """Refuse data stored outside the file (external storage, virtual layout) and non-numeric data, unread."""
    where = f"weights file {quoted(path)}: layer {quoted(layer)} weight {quoted(wname)}"
    if not isinstance(d, h5py.Dataset):
        raise UserError(f"{where} is not a dataset (damaged file?)")
    plist = d.id.get_create_plist()
    if plist.get_layout() == h5py.h5d.VIRTUAL:
        raise UserError(f"{where} is a virtual dataset (data in other files); refusing to read it")
    if plist.get_external_count() > 0:
        raise UserError(f"{where} declares external storage (data in another file); refusing to read it")
    if d.dtype.kind not in "fiu" or d.shape is None:
        raise UserError(f"{where} holds {d.dtype} data, not numbers (damaged file?)")


def _read_layers(f, path: Path, expected) -> dict[str, list[np.ndarray]]:
    nested = _child(f, "model_weights", path, "group")
    group = nested if nested is not None else f  # full-model saves nest the weights
    if "layer_names" not in group.attrs:
        raise UserError(f"weights file {path} has no 'layer_names': not a Keras/textgenrnn weights file")
    result: dict[str, list[np.ndarray]] = {}
    for raw in group.attrs["layer_names"]:
        name = raw.decode() if isinstance(raw, bytes) else str(raw)
        layer = _child(group, name, path, "layer") if name else None
        if layer is None:
            raise UserError(f"weights file {path} lists layer {name!r} but has no data for it (truncated?)")
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in layer.attrs.get("weight_names", [])]
        if not names:
            continue
        datasets = []
        for wname in names:
            d = _child(layer, wname, path, "weight")
            if d is None:
                raise UserError(
                    f"weights file {path}: layer {name!r} is missing weight {wname!r} (truncated?)"
                )
            _check_dataset(d, path, name, wname)
            datasets.append(d)
        for d in datasets:
            if d.size > MAX_ELEMENTS_PER_ARRAY:
                raise UserError(
                    f"weights file {path}: layer {name!r} claims {d.shape}, too large for this model"
                )
        if expected is not None and name in expected:
            _check_shapes(path, name, [d.shape for d in datasets], expected[name])
        try:
            arrays = [np.asarray(d[()], dtype=np.float32) for d in datasets]
        except (OSError, ValueError, TypeError):
            raise UserError(
                f"weights file {path}: data of layer {name!r} cannot be read (truncated?)"
            ) from None
        if _lstm_like(arrays) and arrays[2].shape[0] == 8 * arrays[1].shape[0]:
            converted = []
            for i in range(0, len(arrays), 3):
                converted.extend(cudnn_to_standard(*arrays[i : i + 3]))
            arrays = converted
        result[name] = arrays
    return result


def _check_shapes(path: Path, layer: str, found: list[tuple[int, ...]], want: list[tuple[int, ...]]) -> None:
    found = [tuple(s) for s in found]
    want = [tuple(s) for s in want]
    if len(found) != len(want):
        raise UserError(
            f"weights file {path}: layer '{layer}' has {len(found)} weight arrays, the model expects {len(want)}; "
            "check rnn_bidirectional in the config"
        )
    for f_shape, w_shape in zip(found, want, strict=True):
        cudnn_bias = len(f_shape) == 1 and len(w_shape) == 1 and f_shape[0] == 2 * w_shape[0]
        if f_shape != w_shape and not cudnn_bias:
            raise UserError(
                f"weights file {path}: layer '{layer}' has shape {f_shape} where the vocab/config give {w_shape}; "
                "use the vocab and config the weights were trained with"
            )


def model_shapes(model) -> dict[str, list[tuple[int, ...]]]:
    return {layer.name: [tuple(w.shape) for w in layer.weights] for layer in model.layers if layer.weights}


def load_into(model, path: str | Path, required: tuple[str, ...] = ()) -> None:
    """Load a legacy weights file into `model`, by layer name, after checking every shape (`required`: optional
    layers this model needs all the same)."""
    want = model_shapes(model)
    weights = read_weights(path, want)
    for name in want:
        if name not in weights:
            if (name in OPTIONAL_LAYERS and name not in required) or name == "dropout":
                continue
            raise UserError(
                f"weights file {path} has no layer {name!r}; it was not saved from this kind of model"
            )
        model.get_layer(name).set_weights(weights[name])


def _weight_names(layer) -> list[str]:
    names = []
    for variable in layer.weights:
        short = variable.path.split("/")[-1]
        if layer.__class__.__name__ == "Bidirectional":
            direction = "forward" if "forward" in variable.path else "backward"
            names.append(f"{layer.name}/{direction}_{layer.name}/{short}:0")
        else:
            names.append(f"{layer.name}/{short}:0")
    return names


def write_weights(model, path: str | Path) -> None:
    """Save `model`'s weights in the Keras-2 layout textgenrnn reads (atomically)."""

    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["layer_names"] = np.array([layer.name.encode() for layer in model.layers])
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.1.5"  # Keras 2 readers convert files claiming older versions
        for layer in model.layers:
            group = f.create_group(layer.name)
            names = _weight_names(layer) if layer.weights else []
            group.attrs["weight_names"] = np.array([n.encode() for n in names], dtype="S")
            for name, value in zip(names, layer.get_weights(), strict=True):
                group.create_dataset(name, data=value)
