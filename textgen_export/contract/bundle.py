"""The bundle: what `export` writes and every runtime (Python, Node, browser) reads.  TF-free.

    bundle/
      manifest.json   {"format": "textgen-export-bundle", "format_version": 1, "tool_version": ...,
                       "name": "docstrings", "description": "one line for people" (both optional to readers),
                       "config": {...}, "num_classes": N, "meta_token": META_TOKEN,
                       "files": {"model.onnx": {"size": bytes, "sha256": hex}, "tfjs/model.json": {...}, ...},
                       "parity": {"onnx": {"max_abs_diff": ..., "windows": ...}, "tfjs": {...}}}
      config.json     textgenrnn config keys
      vocab.json      token -> index (index 0 = padding/unknown, num_classes = len + 1)
      model.onnx      input "windows" int32 [batch, max_length];
                      outputs "probs" float32 [batch, num_classes], "attention" float32 [batch, max_length]
      model.int8.onnx optional, dynamic int8 quantisation of model.onnx
      model_tail.onnx optional (unidirectional models), the padding fast path: input "tail" int32 [batch, k],
                      1 <= k <= max_length, the last k positions of windows whose first max_length - k positions
                      are 0; same outputs as model.onnx for those windows.  It holds the padding tables (the
                      LSTM states after p padding steps and the attention summary of the padding prefix,
                      keras/padding.py) as initialisers.  Readers that do not know it use model.onnx.
      tfjs/model.json TF.js layers-model + weight shards (input "windows", outputs probs and attention)
    A model trained with context labels also carries its context head (readers that know nothing of it
    generate from the text path as before; model.onnx and tfjs/model.json keep the contract above):
      labels.json           the labels, in the order of the `context` input: ["animal", "fruit"]
      model.context.onnx    inputs "windows" int32 [batch, max_length] and "context" float32 [batch, labels]
                            (1 for each label to generate for, else 0); outputs "probs" float32
                            [batch, num_classes] (the context head's) and "attention" float32 [batch, max_length]
      tfjs/context.json     the same graph for TF.js (inputs windows, context); its weight manifest reuses the
                            text model's shards and adds the head's own (context-shard1of1.bin)
      parity/context_probe.json  the float64 reference of the head for every label (as probe.json for the text)

Files listed in the manifest are checked (size, sha256) on load.  The format version changes only when a
reader of the old version could misread a new bundle.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path, PurePosixPath
from typing import Any

from .. import __version__
from ..errors import MissingFileError, UserError
from ..files.atomic import write_text
from ..files.checksums import sha256_file
from ..files.ownership import check_listed_folder
from ..files.reading import quoted, read_bytes
from .config import ModelConfig, read_json
from .tokens import META_TOKEN
from .vocabulary import Vocabulary

FORMAT = "textgen-export-bundle"
FORMAT_VERSION = 1
# A model trained outside Python, not validated (docs/design.md §3; twin: web_demo/src/training/trained_bundle.js):
# the same layout and manifest checks, read only by `export` and `generate --model` (export/from_tfjs.py).
TRAINED_FORMAT = "textgen-export-trained"
# The bundle's file names and graph names: the only copy (web_demo/src/contract/bundle.js is the JS twin).
MANIFEST, CONFIG, VOCAB = "manifest.json", "config.json", "vocab.json"
ONNX, ONNX_INT8, ONNX_TAIL = "model.onnx", "model.int8.onnx", "model_tail.onnx"
TFJS_DIR = "tfjs"
TFJS_MODEL = f"{TFJS_DIR}/model.json"
PROBE = "parity/probe.json"
INPUT, PROBS, ATTENTION = "windows", "probs", "attention"
TAIL = "tail"  # model_tail.onnx's input
LABELS, ONNX_CONTEXT, TFJS_CONTEXT = "labels.json", "model.context.onnx", f"{TFJS_DIR}/context.json"
CONTEXT, CONTEXT_PROBE = "context", "parity/context_probe.json"  # the head's input; its reference


def file_entry(path: Path) -> dict[str, Any]:
    return {"size": path.stat().st_size, "sha256": sha256_file(path)}


MAX_NAME_CHARS, MAX_DESCRIPTION_CHARS = 100, 300


def check_label(value: str, what: str, limit: int) -> str:
    """A model's name or description: one line of text people read (the page shows it)."""
    if (
        not isinstance(value, str)
        or not value.strip()
        or len(value) > limit
        or "\n" in value
        or "\r" in value
    ):
        raise UserError(f"the {what} must be one line of 1 to {limit} characters, got {value!r}")
    return value.strip()


def one_line(text: str, limit: int = MAX_NAME_CHARS) -> str:
    """A default label made from text we did not ask the user for (a file name, a legacy config's name)."""
    return " ".join(str(text).split())[:limit]


def write_manifest(
    folder: Path,
    config: ModelConfig,
    num_classes: int,
    parity: dict[str, Any],
    name: str | None = None,
    description: str | None = None,
) -> dict:
    """Describe every file already in `folder` (except the manifest itself) and write manifest.json.

    `name` (default: the config's) and `description` say what the model is; readers of format version 1 that
    predate them ignore them, and readers treat both as optional.
    """

    files = {
        p.relative_to(folder).as_posix(): file_entry(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST and not p.name.startswith(".")
    }
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "tool_version": __version__,
        "name": check_label(name, "model name", MAX_NAME_CHARS)
        if name
        else one_line(config.name) or "textgen",
        **(
            {"description": check_label(description, "description", MAX_DESCRIPTION_CHARS)}
            if description
            else {}
        ),
        "config": config.to_dict(),
        "num_classes": num_classes,
        "meta_token": META_TOKEN,
        "files": files,
        "parity": parity,
    }
    write_text(folder / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return manifest


def check_bundle_owned(folder: Path) -> None:
    """Raise unless `folder` is a bundle we wrote that holds only the files its manifest lists."""
    check_listed_folder(folder, "bundle", MANIFEST, FORMAT)


MAX_BUNDLE_ENTRIES = 10_000  # far more than any bundle holds; a bundle folder is not a home directory


class Bundle:
    """A verified bundle on disk: manifest, config and vocabulary loaded, checksums checked.

    Every file read is one the manifest lists, a regular file, and inside the folder once symlinks are resolved;
    a bundle holds no symlinks at all (we never write one), so nothing a runtime opens on its own (ONNX external
    data) can lead outside either.
    """

    def __init__(self, folder: str | Path, verify: bool = True, format_name: str = FORMAT):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise MissingFileError(
                f"bundle directory not found: {quoted(self.folder)}; create one with `textgen-export export`"
            )
        self.root = self.folder.resolve()
        self._check_no_links()
        self.manifest = read_json(self.folder / MANIFEST, "bundle manifest")
        if not isinstance(self.manifest, dict) or self.manifest.get("format") != format_name:
            raise UserError(
                f"{quoted(self.folder / MANIFEST)} is not a textgen-export bundle manifest; re-export the bundle"
            )
        version = self.manifest.get("format_version")
        if version != FORMAT_VERSION:
            raise UserError(
                f"bundle format version {version!r} is not supported (this is textgen-export {__version__}, which "
                f"reads version {FORMAT_VERSION}); re-export the bundle with this version"
            )
        files = self.manifest.get("files")
        if not isinstance(files, dict):
            raise UserError(f"{quoted(self.folder / MANIFEST)} has no 'files' table; re-export the bundle")
        self.files: dict[str, dict] = files
        for required in (CONFIG, VOCAB):
            if required not in files:
                raise UserError(f"bundle manifest does not list {required}; re-export the bundle")
        if verify:
            self.verify()
        self.config = ModelConfig.load(self.path(CONFIG))
        self.vocab = Vocabulary.load(self.path(VOCAB), word_level=self.config.word_level)
        declared = self.manifest.get("num_classes")
        if declared != self.vocab.num_classes:
            raise UserError(
                f"bundle {quoted(self.folder)}: vocab.json gives {self.vocab.num_classes} classes but the manifest "
                f"says {declared!r}; re-export the bundle"
            )

    def _check_no_links(self) -> None:
        count = 0
        for top, dirs, names in os.walk(self.root, followlinks=False):
            for name in [*dirs, *names]:
                count += 1
                path = Path(top, name)
                if path.is_symlink():
                    rel = path.relative_to(self.root).as_posix()
                    raise UserError(
                        f"bundle {quoted(self.folder)} holds a symlink {rel!r}; a bundle holds only regular files "
                        "(copy the real file in, or re-export)"
                    )
                if count > MAX_BUNDLE_ENTRIES:
                    raise UserError(
                        f"{quoted(self.folder)} holds over {MAX_BUNDLE_ENTRIES} entries; that is not a bundle"
                    )

    def inside(self, name: object) -> Path:
        """The real path of listed file `name`: a relative path that stays inside the bundle, a regular file."""
        parts = PurePosixPath(name).parts if isinstance(name, str) else ()
        if not parts or "\\" in name or "\0" in name or parts[0] == "/" or ".." in parts:
            raise UserError(f"bundle manifest lists an unsafe path {name!r}; re-export the bundle")
        try:
            real = (self.root / name).resolve(strict=True)
            mode = real.stat().st_mode
        except FileNotFoundError:
            raise MissingFileError(
                f"bundle {quoted(self.folder)} is missing {quoted(name)}; re-export the bundle"
            ) from None
        except (OSError, RuntimeError) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            raise UserError(
                f"bundle file {name!r} cannot be opened ({reason}); re-export the bundle"
            ) from None
        if not real.is_relative_to(self.root):
            raise UserError(f"bundle file {name!r} resolves outside the bundle; re-export the bundle")
        if not stat.S_ISREG(mode):
            raise UserError(f"bundle file {name!r} is not a regular file; re-export the bundle")
        return real

    def verify(self) -> None:
        """Every listed file exists inside the bundle with the listed size and sha256 (the size compared first:
        a file of the wrong size is refused without reading it)."""
        for name, entry in self.files.items():
            path = self.inside(name)
            if (
                not isinstance(entry, dict)
                or path.stat().st_size != entry.get("size")
                or sha256_file(path) != entry.get("sha256")
            ):
                raise _mismatch(name)

    def read(self, name: str) -> bytes:
        """The bytes of listed file `name` (inside, regular, at most its listed size read, size and sha256
        checked); a name the manifest does not list is refused unread."""
        entry = self.files.get(name) if isinstance(name, str) else None
        if not isinstance(entry, dict):
            raise UserError(
                f"bundle file {quoted(str(name))} is not listed in manifest.json (a bundle reads only the files it "
                "lists); re-export the bundle"
            )
        path = self.inside(name)
        size = entry.get("size")
        if isinstance(size, bool) or not isinstance(size, int) or path.stat().st_size != size:
            raise _mismatch(name)
        data = read_bytes(path, f"bundle file {quoted(name)}", size)
        if len(data) != size or hashlib.sha256(data).hexdigest() != entry.get("sha256"):
            raise _mismatch(name)
        return data

    def path(self, name: str) -> Path:
        if name not in self.files:
            raise MissingFileError(
                f"bundle {quoted(self.folder)} has no {name}; export it with the matching option"
            )
        return self.inside(name)


def _mismatch(name: str) -> UserError:
    return UserError(
        f"bundle file {quoted(name)} does not match its checksum in manifest.json (damaged or edited); "
        "re-export the bundle"
    )
