"""The pretrained default: textgenrnn's Reddit-trained weights, obtained from PyPI at set-up.

The weights ship inside the `textgenrnn==2.0.0` source distribution.  We fetch it with pip, check both the
archive's and the weight file's sha256, and cache the files outside the repository; nothing third-party is
committed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from ..contract.config import ModelConfig
from ..errors import UserError
from ..files.atomic import write_bytes
from ..files.checksums import sha256_file

PACKAGE = "textgenrnn==2.0.0"
SDIST_SHA256 = "c2b6f1c201c76d5a6021079e95a8db499bbe15d9f3448d33cb51c0cd496c86f8"
FILES = {
    "textgenrnn_weights.hdf5": "6a89ca4235ed9f00be7b2acd65d5fe4a099967d676bfe20afb696106286ffbca",
    "textgenrnn_vocab.json": None,  # checked through the archive's hash
}


def cache_dir() -> Path:
    root = os.environ.get("TEXTGEN_EXPORT_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "textgen_export"
    )
    return Path(root) / "textgenrnn-2.0.0"


def paths() -> dict[str, Path]:
    """weights, vocab and config paths of the cached pretrained model, fetching it on first use."""
    folder = cache_dir()
    result = {
        "weights": folder / "textgenrnn_weights.hdf5",
        "vocab": folder / "textgenrnn_vocab.json",
        "config": folder / "textgenrnn_config.json",
    }
    if (
        not all(p.is_file() for p in result.values())
        or sha256_file(result["weights"]) != FILES["textgenrnn_weights.hdf5"]
    ):
        fetch()
    return result


def fetch() -> Path:
    """Download the sdist with pip, verify it and unpack the weight and vocab files into the cache."""
    folder = cache_dir()
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            PACKAGE,
            "--no-deps",
            "--no-binary",
            ":all:",
            "--disable-pip-version-check",
            "-q",
            "-d",
            tmp,
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            done = None
            reason = str(exc)
        if done is None or done.returncode != 0:
            reason = reason if done is None else (done.stderr.strip().splitlines() or ["pip failed"])[-1]
            raise UserError(
                f"the pretrained weights are not cached in {folder} and could not be downloaded ({reason}); "
                "connect to PyPI and run `textgen-export fetch-pretrained`, or pass --weights/--vocab/--config"
            )
        archives = list(Path(tmp).glob("textgenrnn-2.0.0.tar.gz"))
        if not archives or sha256_file(archives[0]) != SDIST_SHA256:
            raise UserError(f"downloaded {PACKAGE} does not match its known sha256; refusing to use it")
        with tarfile.open(archives[0]) as tar:
            for name, expected in FILES.items():
                member = tar.getmember(f"textgenrnn-2.0.0/textgenrnn/{name}")
                data = tar.extractfile(member).read()
                if expected and hashlib.sha256(data).hexdigest() != expected:
                    raise UserError(
                        f"{name} inside {PACKAGE} does not match its known sha256; refusing to use it"
                    )
                write_bytes(folder / name, data)
    ModelConfig().save(folder / "textgenrnn_config.json")
    return folder
