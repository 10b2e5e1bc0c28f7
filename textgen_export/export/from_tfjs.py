"""TF.js weights back in Keras, by layer name: how a model trained outside Python (in the page, or by the Node
trainer: docs/design.md §3, "Training outside Python") comes back to `export` and `generate --model`.

The source is that model's folder (manifest format TRAINED_FORMAT) or a bundle, or the one .zip file the page
downloads (read whole into memory with files/zip_reading.py, unpacked into a temporary folder, then read as a
folder: every file checked against the manifest, as contract/bundle.Bundle checks a bundle's).  Its tfjs/model.json must hold float32 weights named as export/tfjs.py names them; the Keras model is
built from its config.json and vocab.json and each weighted layer gets its arrays.  The text path only: a bundle
with a context head is refused (its head is re-exported from its model directory).
"""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePosixPath

from ..contract.bundle import FORMAT, LABELS, MANIFEST, TFJS_MODEL, TRAINED_FORMAT, Bundle
from ..errors import UserError
from ..files.atomic import write_bytes
from ..files.reading import parse_json, quoted, read_json
from ..files.zip_reading import read_zip
from ..keras.model_dir import load_source

ZIP_SUFFIX = ".zip"


def is_bundle_source(source) -> bool:
    """True for what this module reads: a .zip file, or a folder holding a bundle manifest."""
    if source is None:
        return False
    path = Path(source)
    return path.suffix.lower() == ZIP_SUFFIX or (path / MANIFEST).is_file()


def load_model_source(model_dir=None, weights=None, vocab=None, config=None):
    """keras/model_dir.load_source, plus a bundle folder or the page's .zip as `model_dir` (what `export` and
    `generate --model` take)."""
    if not is_bundle_source(model_dir):
        return load_source(model_dir, weights, vocab, config)
    if weights or vocab or config:
        raise UserError(f"{model_dir} holds its own vocab and config; drop --weights/--vocab/--config")
    return load_bundle_model(model_dir)


def _zip_entries(path: Path) -> dict[str, bytes]:
    """The zip's files relative to the bundle root (a zip of the bundle's folder keeps that folder's name)."""
    entries = read_zip(path, "model zip")
    if MANIFEST not in entries:
        tops = {PurePosixPath(name).parts[0] for name in entries}
        if len(tops) == 1 and f"{next(iter(tops))}/{MANIFEST}" in entries:
            cut = len(next(iter(tops))) + 1
            entries = {name[cut:]: data for name, data in entries.items()}
    if MANIFEST not in entries:
        raise UserError(
            f"{quoted(path)} is not a model downloaded from the page (it has no {MANIFEST}); download it again"
        )
    return entries


def read_manifest(source) -> dict:
    """The source's manifest.json (what it says of itself: name, how it was trained)."""
    path = Path(source)
    if path.suffix.lower() == ZIP_SUFFIX:
        manifest = parse_json(_zip_entries(path)[MANIFEST], f"{quoted(path)}: {MANIFEST}")
    else:
        manifest = read_json(path / MANIFEST, "model manifest")
    return manifest if isinstance(manifest, dict) else {}


WHERE = {"browser": "in the browser", "node": "in Node"}


def description(manifest: dict) -> str | None:
    """What a trained model's manifest says of it, as one line: "fine-tuned in the browser from textgenrnn"."""
    if manifest.get("format") != TRAINED_FORMAT:
        return manifest.get("description") if isinstance(manifest.get("description"), str) else None
    where = WHERE.get(manifest.get("trained_in"), "outside Python")
    source = (
        (manifest.get("trained_from") or {}).get("name")
        if isinstance(manifest.get("trained_from"), dict)
        else None
    )
    return (
        f"fine-tuned {where} from {source}" if isinstance(source, str) and source else f"fine-tuned {where}"
    )


def load_bundle_model(source):
    """(Keras model, Vocabulary, ModelConfig) from a bundle folder or the page's .zip."""
    path = Path(source)
    if path.suffix.lower() != ZIP_SUFFIX:
        return _load_folder(path)
    entries = _zip_entries(path)
    with tempfile.TemporaryDirectory(prefix="textgen-zip-") as tmp:
        for name, data in entries.items():
            target = Path(tmp, *PurePosixPath(name).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            write_bytes(target, data)
        return _load_folder(Path(tmp), shown=path)


def _load_folder(folder: Path, shown: Path | None = None):
    from ..keras.network import build_model
    from .tfjs import decode_model

    shown = shown or folder
    manifest = read_json(folder / MANIFEST, "model manifest")
    trained = isinstance(manifest, dict) and manifest.get("format") == TRAINED_FORMAT
    # Every listed file: inside, regular, size and sha256 checked.
    bundle = Bundle(folder, format_name=TRAINED_FORMAT if trained else FORMAT)
    if LABELS in bundle.files:
        raise UserError(
            f"{quoted(shown)} has a context head; its TF.js files carry the text path only, so export it from "
            "its model directory"
        )
    if TFJS_MODEL not in bundle.files:
        raise UserError(f"{quoted(shown)} has no TF.js model ({TFJS_MODEL}) to read the weights from")
    config, vocab = bundle.config, bundle.vocab
    model_json = bundle.path(TFJS_MODEL)

    def read_shard(name: str) -> bytes:
        return bundle.read(f"{PurePosixPath(TFJS_MODEL).parent}/{name}")

    decoded, quantization = decode_model(model_json.parent, config, read=read_shard)
    if quantization is not None:
        raise UserError(
            f"{quoted(shown)} holds {quantization}-quantised TF.js weights; export from the float32 model"
        )
    model = build_model(config, vocab.num_classes)
    for layer, arrays in decoded.items():
        try:
            model.get_layer(layer).set_weights(arrays)
        except ValueError as exc:
            raise UserError(
                f"{quoted(shown)}: the TF.js weights of layer {layer!r} do not fit its config.json ({exc!s:.100})"
            ) from None
    return model, vocab, config
