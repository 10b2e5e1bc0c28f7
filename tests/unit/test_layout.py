"""The layout's rules: TensorFlow only where it is needed, and no import cycles that a fresh import would hit."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import textgen_export

# The only folders whose modules may import TensorFlow when they are imported.
TF_FOLDERS = ("textgen_export.keras.", "textgen_export.training.", "textgen_export.export.")

PROBE = r"""
import importlib, sys
importlib.import_module(sys.argv[1])
print("tensorflow" in sys.modules, "keras" in sys.modules)
"""


def modules() -> list[str]:
    names = pkgutil.walk_packages(textgen_export.__path__, "textgen_export.")
    return sorted(m.name for m in names if not m.name.endswith("__main__"))


def test_only_keras_training_and_export_import_tensorflow():
    """Each module is imported alone in a fresh interpreter (so cycles and import-time TF both show)."""
    offenders, tf_modules = [], []
    for name in modules():
        done = subprocess.run(
            [sys.executable, "-c", PROBE, name], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"import {name} failed:\n{done.stderr[-2000:]}"
        loaded = "True" in done.stdout
        if loaded:
            tf_modules.append(name)
            if not name.startswith(TF_FOLDERS):
                offenders.append(name)
    assert not offenders, f"these modules import TensorFlow/Keras at import time: {offenders}"
    assert "textgen_export.keras.network" in tf_modules  # the probe does see TensorFlow when it loads


def test_every_package_folder_says_what_it_holds():
    for info in pkgutil.walk_packages(textgen_export.__path__, "textgen_export."):
        if info.ispkg:
            module = __import__(info.name, fromlist=["_"])
            doc = (module.__doc__ or "").strip()
            assert doc, f"{info.name}/__init__.py needs a one-line docstring"
