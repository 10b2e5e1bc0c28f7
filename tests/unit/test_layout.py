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


# The data flow's layers, lowest first.  A module may import from its own layer or a lower one, never a higher
# one (cli dispatches to commands by name; demo runs the CLI, so commands sits above cli).
LAYERS = [
    {"__init__", "errors", "files"},
    {"contract"},
    {"sampling"},
    {"keras"},
    {"runtime"},
    {"web"},
    {"export", "training"},
    {"api", "datasets", "server"},
    {"utils"},
    {"cli"},
    {"commands"},
    {"__main__"},
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def imported_layers(path, package: list[str]) -> set[str]:
    """The top-level folders of textgen_export that the module at `path` imports, anywhere in it."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else [])).split(".")
            if target[0] == "textgen_export":
                found.add(target[1] if len(target) > 1 and target[1] else "__init__")
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("textgen_export.")}
    return found


def test_layers_only_import_downwards():
    from pathlib import Path

    root = Path(textgen_export.__file__).parent
    upward = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        layer = parts[0]
        assert layer in RANK, f"{path.relative_to(root)}: add its folder to LAYERS in this test"
        for target in imported_layers(path, ["textgen_export", *parts[:-1]]):
            if RANK[target] > RANK[layer]:
                upward.append(f"{'/'.join(parts)}.py imports {target}/")
    assert not upward, "imports from a lower layer to a higher one:\n" + "\n".join(upward)
