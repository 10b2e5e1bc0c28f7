"""The TF.js Layers format (model.json + binary weight shards), written by hand in the Keras-2 style TF.js reads.

Why by hand: the Python `tensorflowjs` converter cannot be installed beside current TensorFlow, and its Keras-3
output does not load in `tf.loadLayersModel` (docs/design.md §4).  The topology is derived from the ModelConfig (the
architecture is fixed, docs/design.md §3) and the weights are taken from the Keras export model by layer name.

Weight names are the ones TF.js gives its own layers (`<layer>/<weight>`, Bidirectional halves
`<layer>/forward_<layer>/...`), so `loadLayersModel` matches them strictly.  The attention layer is the custom
class `AttentionWeightedAverage`, registered by web_demo/src/runtime/attention_layer.js.

Quantisation uses TF.js's own manifest fields: float16 (`{"dtype": "float16"}`) or affine uint8
(`{"dtype": "uint8", "scale": s, "min": m}`, value = q * scale + min); TF.js dequantises on load.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..contract.config import ModelConfig, read_json
from ..errors import UserError
from ..files.atomic import write_bytes, write_text
from ..files.reading import read_bytes

SHARD_BYTES = 4 * 1024 * 1024  # TF.js's converter default: browsers cache files this size well
QUANTIZE = ("float16", "uint8")
KERAS_VERSION = "2.15.0"  # the Keras-2 topology dialect that tfjs-layers 4.x deserialises


def _glorot() -> dict:
    return {"class_name": "GlorotUniform", "config": {"seed": None}}


def _lstm_config(config: ModelConfig, name: str) -> dict:
    return {
        "name": name,
        "trainable": True,
        "dtype": "float32",
        "units": config.rnn_size,
        "activation": "tanh",
        "recurrent_activation": "sigmoid",
        "use_bias": True,
        "kernel_initializer": _glorot(),
        "recurrent_initializer": {"class_name": "Orthogonal", "config": {"gain": 1.0, "seed": None}},
        "bias_initializer": {"class_name": "Zeros", "config": {}},
        "unit_forget_bias": True,
        "kernel_regularizer": None,
        "recurrent_regularizer": None,
        "bias_regularizer": None,
        "activity_regularizer": None,
        "kernel_constraint": None,
        "recurrent_constraint": None,
        "bias_constraint": None,
        "dropout": 0.0,
        "recurrent_dropout": 0.0,
        "implementation": 2,
        "return_sequences": True,
        "return_state": False,
        "go_backwards": False,
        "stateful": False,
        "unroll": False,
    }


def _node(*sources: tuple[str, int]) -> list:
    """One inbound node: [[layer, node_index, tensor_index, kwargs], ...]."""
    return [[[name, 0, tensor, {}] for name, tensor in sources]]


def topology(config: ModelConfig, num_classes: int) -> dict:
    """The Keras-2 `model_config` of the export model: input "windows", outputs [probs, attention]."""
    length = config.max_length
    layers = [
        {
            "class_name": "InputLayer",
            "name": "windows",
            "config": {
                "batch_input_shape": [None, length],
                "dtype": "int32",
                "sparse": False,
                "name": "windows",
            },
            "inbound_nodes": [],
        },
        {
            "class_name": "Embedding",
            "name": "embedding",
            "config": {
                "name": "embedding",
                "trainable": True,
                "batch_input_shape": [None, length],
                "dtype": "float32",
                "input_dim": num_classes,
                "output_dim": config.dim_embeddings,
                "embeddings_initializer": {
                    "class_name": "RandomUniform",
                    "config": {"minval": -0.05, "maxval": 0.05, "seed": None},
                },
                "embeddings_regularizer": None,
                "activity_regularizer": None,
                "embeddings_constraint": None,
                "mask_zero": False,
                "input_length": length,
            },
            "inbound_nodes": _node(("windows", 0)),
        },
    ]
    previous = "embedding"
    for number in range(1, config.rnn_layers + 1):
        name = f"rnn_{number}"
        if config.rnn_bidirectional:
            layer = {
                "class_name": "Bidirectional",
                "name": name,
                "config": {
                    "name": name,
                    "trainable": True,
                    "dtype": "float32",
                    "layer": {"class_name": "LSTM", "config": _lstm_config(config, "lstm")},
                    "merge_mode": "concat",
                },
            }
        else:
            layer = {"class_name": "LSTM", "name": name, "config": _lstm_config(config, name)}
        layer["inbound_nodes"] = _node((previous, 0))
        layers.append(layer)
        previous = name
    rnns = [f"rnn_{n}" for n in range(1, config.rnn_layers + 1)]
    layers += [
        {
            "class_name": "Concatenate",
            "name": "rnn_concat",
            "config": {"name": "rnn_concat", "trainable": True, "dtype": "float32", "axis": -1},
            "inbound_nodes": _node(*[(name, 0) for name in ["embedding", *rnns]]),
        },
        {
            "class_name": "AttentionWeightedAverage",
            "name": "attention",
            "config": {"name": "attention", "trainable": True, "dtype": "float32", "return_attention": True},
            "inbound_nodes": _node(("rnn_concat", 0)),
        },
        {
            "class_name": "Dense",
            "name": "output",
            "config": {
                "name": "output",
                "trainable": True,
                "dtype": "float32",
                "units": num_classes,
                "activation": "softmax",
                "use_bias": True,
                "kernel_initializer": _glorot(),
                "bias_initializer": {"class_name": "Zeros", "config": {}},
                "kernel_regularizer": None,
                "bias_regularizer": None,
                "activity_regularizer": None,
                "kernel_constraint": None,
                "bias_constraint": None,
            },
            "inbound_nodes": _node(("attention", 0)),
        },
    ]
    return {
        "class_name": "Functional",
        "config": {
            "name": config.name or "textgenrnn",
            "layers": layers,
            "input_layers": [["windows", 0, 0]],
            "output_layers": [["output", 0, 0], ["attention", 0, 1]],
        },
    }


CONTEXT_JSON = "context.json"  # the context head's model (contract/bundle.TFJS_CONTEXT), beside model.json
HEAD_SHARD = "context-shard1of1.bin"
HEAD_WEIGHTS = ["context_output/kernel", "context_output/bias"]


def context_topology(config: ModelConfig, num_classes: int, labels: int) -> dict:
    """The head's `model_config`: inputs [windows, context], outputs [context_output, attention, output] (the text
    model's layers, then concat(attention output, context) → softmax, as keras/network.py builds it)."""
    model = topology(config, num_classes)
    layers = model["config"]["layers"]
    dense = next(layer for layer in layers if layer["name"] == "output")
    head = json.loads(json.dumps(dense).replace('"output"', '"context_output"'))
    head["inbound_nodes"] = _node(("concat", 0))
    layers += [
        {
            "class_name": "InputLayer",
            "name": "context",
            "config": {
                "batch_input_shape": [None, labels],
                "dtype": "float32",
                "sparse": False,
                "name": "context",
            },
            "inbound_nodes": [],
        },
        {
            "class_name": "Concatenate",
            "name": "concat",
            "config": {"name": "concat", "trainable": True, "dtype": "float32", "axis": -1},
            "inbound_nodes": [[["attention", 0, 0, {}], ["context", 0, 0, {}]]],
        },
        head,
    ]
    model["config"]["input_layers"] = [["windows", 0, 0], ["context", 0, 0]]
    # the text path's softmax is a third output: TF.js drops layers no output reaches, and then refuses the
    # shards' `output` weights (strict loading); readers take the first two outputs
    model["config"]["output_layers"] = [["context_output", 0, 0], ["attention", 0, 1], ["output", 0, 0]]
    return model


def write_tfjs_context(model, config: ModelConfig, out_dir: Path, quantize: str | None = None) -> dict:
    """Write `out_dir/context.json` beside a written `model.json`: the head's graph over the text model's shards
    plus one shard of the head's own weights (`model`: a model with a context head)."""
    out_dir = Path(out_dir)
    text = read_json(out_dir / "model.json", "TF.js model.json")
    (group,) = text["weightsManifest"]
    kernel, bias = model.get_layer("context_output").get_weights()
    specs, blobs = [], []
    for name, value in zip(HEAD_WEIGHTS, (kernel, bias), strict=True):
        spec, blob = _encode(name, np.asarray(value, dtype=np.float32), quantize)
        specs.append(spec)
        blobs.append(blob)
    write_bytes(out_dir / HEAD_SHARD, b"".join(blobs))
    labels = int(kernel.shape[0]) - int(np.asarray(model.get_layer("output").get_weights()[0]).shape[0])
    model_json = {
        **text,
        "modelTopology": {
            **text["modelTopology"],
            "model_config": context_topology(config, int(bias.shape[0]), labels),
        },
        # TF.js joins every group's shards into one buffer and reads the specs in order: text weights, then head
        "weightsManifest": [{"paths": [*group["paths"], HEAD_SHARD], "weights": [*group["weights"], *specs]}],
    }
    write_text(out_dir / CONTEXT_JSON, json.dumps(model_json, indent=1) + "\n")
    return {
        "format": "layers-model",
        "quantize": quantize,
        "labels": labels,
        "weight_bytes": len(b"".join(blobs)),
    }


def weight_names(config: ModelConfig) -> dict[str, list[str]]:
    """TF.js weight names of every weighted layer, in TF.js layer order (and Keras get_weights order)."""
    lstm = ("kernel", "recurrent_kernel", "bias")
    names = {"embedding": ["embedding/embeddings"]}
    for number in range(1, config.rnn_layers + 1):
        layer = f"rnn_{number}"
        halves = [f"{layer}/forward_lstm", f"{layer}/backward_lstm"] if config.rnn_bidirectional else [layer]
        names[layer] = [f"{half}/{w}" for half in halves for w in lstm]
    names["attention"] = ["attention/attention_W"]
    names["output"] = ["output/kernel", "output/bias"]
    return names


def named_weights(model, config: ModelConfig) -> list[tuple[str, np.ndarray]]:
    """(TF.js weight name, float32 array) for every weight of the export model, in TF.js layer order."""
    out: list[tuple[str, np.ndarray]] = []
    for layer, names in weight_names(config).items():
        values = model.get_layer(layer).get_weights()
        if len(values) != len(names):
            raise UserError(
                f"layer {layer!r} has {len(values)} weights, expected {len(names)}; "
                "export a model built by textgen_export"
            )
        out += list(zip(names, values, strict=True))
    return [(name, np.asarray(value, dtype=np.float32)) for name, value in out]


def _encode(name: str, value: np.ndarray, quantize: str | None) -> tuple[dict, bytes]:
    spec: dict = {"name": name, "shape": list(value.shape), "dtype": "float32"}
    if quantize is None:
        return spec, value.astype("<f4").tobytes()
    if quantize == "float16":
        spec["quantization"] = {"dtype": "float16"}
        return spec, value.astype("<f2").tobytes()
    low, high = float(value.min()), float(value.max())
    scale = (high - low) / 255.0 if high > low else 1.0
    q = np.clip(np.round((value.astype(np.float64) - low) / scale), 0, 255).astype(np.uint8)
    spec["quantization"] = {"dtype": "uint8", "scale": scale, "min": low}
    return spec, q.tobytes()


def write_tfjs(model, config: ModelConfig, out_dir: Path, quantize: str | None = None) -> dict:
    """Write `out_dir/model.json` and `group1-shardKofN.bin` (≤ 4 MB each); returns a summary for the manifest."""
    if quantize not in (None, *QUANTIZE):
        raise UserError(f"TF.js quantisation must be one of {', '.join(QUANTIZE)}, got {quantize!r}")
    num_classes = int(model.get_layer("output").get_weights()[1].shape[0])
    specs, blobs = [], []
    for name, value in named_weights(model, config):
        spec, blob = _encode(name, value, quantize)
        specs.append(spec)
        blobs.append(blob)
    data = b"".join(blobs)
    count = max(1, -(-len(data) // SHARD_BYTES))
    paths = [f"group1-shard{k + 1}of{count}.bin" for k in range(count)]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for k, path in enumerate(paths):
        write_bytes(out_dir / path, data[k * SHARD_BYTES : (k + 1) * SHARD_BYTES])
    model_json = {
        "format": "layers-model",
        "generatedBy": "textgen_export",
        "convertedBy": "textgen_export.export.tfjs",
        "modelTopology": {
            "keras_version": KERAS_VERSION,
            "backend": "tensorflow",
            "model_config": topology(config, num_classes),
        },
        "weightsManifest": [{"paths": paths, "weights": specs}],
    }
    write_text(out_dir / "model.json", json.dumps(model_json, indent=1) + "\n")
    return {"format": "layers-model", "quantize": quantize, "shards": count, "weight_bytes": len(data)}


# -- the decoder: what @tensorflow/tfjs's io.decodeWeights computes, in numpy (TF-free) -----------------------
_DTYPES = {None: "<f4", "float16": "<f2", "uint8": "u1"}


MAX_SHARDS = (
    1024  # 4 GB of 4 MB shards: more than any model of ours, few enough to refuse a crafted list fast
)


def _shard_reader(folder: Path) -> Callable[[str], bytes]:
    """Shards of a folder we have just written: regular files, read with a bound."""
    return lambda name: read_bytes(folder / name, "TF.js weight shard", SHARD_BYTES * MAX_SHARDS)


def _shape(spec: Any) -> list[int]:
    shape = spec["shape"]
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) for d in shape):
        raise ValueError("shape must be a list of integers")
    if any(d < 0 for d in shape):
        raise ValueError("shape has a negative dimension")
    return shape


def decode_weights(
    folder: Path, model_file: str = "model.json", read: Callable[[str], bytes] | None = None
) -> tuple[dict[str, np.ndarray], str | None]:
    """Read `model.json` + shards as TF.js does: float32 as is, float16 widened, uint8 as `min + scale * q`.

    `read(shard name)` gives a shard's bytes (a bundle passes its own verified reader, so a shard the manifest
    does not list is never read); model.json's shard list must name each shard once, and every weight's shape
    must fit the bytes there are before anything is allocated for it.  Returns ({weight name: float32 array},
    the quantisation dtype or None).  Values are float32 because that is what TF.js holds after decoding (it
    dequantises into a Float32Array).
    """
    folder = Path(folder)
    where = folder / model_file
    model_json = read_json(where, f"TF.js {model_file}")
    try:
        (group,) = model_json["weightsManifest"]
        paths, specs = group["paths"], group["weights"]
        if not isinstance(paths, list) or not isinstance(specs, list):
            raise TypeError
    except (KeyError, TypeError, ValueError):
        raise UserError(f"{where} has no single weightsManifest group; re-export") from None
    for path in paths:
        if not isinstance(path, str) or "/" in path or "\\" in path or path.startswith("."):
            raise UserError(f"{where} names an unsafe shard path {path!r:.80}; re-export")
    if len(set(paths)) != len(paths) or len(paths) > MAX_SHARDS:
        raise UserError(
            f"{where} lists {len(paths)} shard paths, not each once and at most {MAX_SHARDS}; re-export"
        )
    read = read or _shard_reader(folder)
    try:
        data = b"".join(read(p) for p in paths)
    except OSError as exc:
        raise UserError(f"{folder}: a weight shard cannot be read ({exc.strerror}); re-export") from None
    out: dict[str, np.ndarray] = {}
    offset, kinds = 0, set()
    for spec in specs:
        try:
            name, shape = str(spec["name"]), _shape(spec)
            q = spec.get("quantization")
            kind = q["dtype"] if q else None
            dtype = np.dtype(_DTYPES[kind])
            scale, low = (float(q["scale"]), float(q["min"])) if kind == "uint8" else (1.0, 0.0)
            if not (np.isfinite(scale) and np.isfinite(low)):
                raise ValueError("quantisation scale and min must be finite")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise UserError(
                f"{where}: weight entry {spec!r:.80} is malformed ({exc!s:.60}); re-export"
            ) from None
        count = math.prod(shape)  # Python integers: [2**32, 2**32] is too big, not an overflow
        if count * dtype.itemsize > len(data) - offset:
            raise UserError(
                f"{folder}: the shards are shorter than model.json says (at {name!r:.80}); re-export"
            )
        raw = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
        offset += count * dtype.itemsize
        if kind == "uint8":  # TF.js: `values[i] = v * scale + min` in JS doubles, stored in a Float32Array
            values = (raw.astype(np.float64) * scale + low).astype(np.float32)
        else:
            values = raw.astype(np.float32)
        out[name] = values.reshape(shape)
        kinds.add(kind)
    if offset != len(data):
        raise UserError(f"{folder}: the shards hold {len(data) - offset} bytes model.json does not describe")
    if len(kinds) > 1:
        raise UserError(f"{where} mixes quantisations {sorted(map(str, kinds))}; re-export")
    return out, (kinds.pop() if kinds else None)


def decode_model(
    folder: Path,
    config: ModelConfig,
    model_file: str = "model.json",
    read: Callable[[str], bytes] | None = None,
) -> tuple[dict[str, list[np.ndarray]], str | None]:
    """The decoded shards as {layer: [arrays]} for the float64 forward pass (keras/oracle.py); `context.json`
    gives the context head's weights too."""
    decoded, quantization = decode_weights(folder, model_file, read)
    layers = weight_names(config)
    if model_file == CONTEXT_JSON:
        layers["context_output"] = HEAD_WEIGHTS
    missing = sorted(set(n for names in layers.values() for n in names) - set(decoded))
    if missing:
        raise UserError(f"{folder / model_file} has no weight {missing[0]!r} the config needs; re-export")
    return {layer: [decoded[n] for n in names] for layer, names in layers.items()}, quantization
