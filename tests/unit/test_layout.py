"""The layout's rules: TensorFlow only where it is needed, and no import cycles that a fresh import would hit."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import textgen_export

# The only folders whose modules may import TensorFlow when they are imported.
TF_FOLDERS = ("textgen_export.keras.", "textgen_export.training.", "textgen_export.export.")

# Imports each named module in turn, as if first: the package's modules are dropped from sys.modules before each, so
# an import cycle shows as it would in a fresh interpreter.  Third-party modules stay loaded (TensorFlow's import
# is paid once per interpreter, not per module), so the probe stops after a module outside TF_FOLDERS that loads
# TensorFlow: the modules after it are judged in a new interpreter.  One JSON line per module.
PROBE = r"""
import importlib, json, sys, traceback
allowed = tuple(sys.argv[1].split(","))
for name in sys.argv[2:]:
    for loaded in [m for m in sys.modules if m == "textgen_export" or m.startswith("textgen_export.")]:
        del sys.modules[loaded]
    had_tf = "tensorflow" in sys.modules or "keras" in sys.modules
    try:
        importlib.import_module(name)
        error = None
    except BaseException:
        error = traceback.format_exc()
    tf = "tensorflow" in sys.modules or "keras" in sys.modules
    print(json.dumps({"name": name, "error": error, "tf": tf and not had_tf}), flush=True)
    if tf and not name.startswith(allowed):
        break
"""


def modules() -> list[str]:
    names = pkgutil.walk_packages(textgen_export.__path__, "textgen_export.")
    return sorted(m.name for m in names if not m.name.endswith("__main__"))


def test_only_keras_training_and_export_import_tensorflow():
    """Each module is imported alone, as if first (so cycles and import-time TF both show): the modules outside
    TF_FOLDERS before any TensorFlow is loaded, then the TF folders' (TensorFlow may be loaded by then)."""
    import json

    # keras.network first of the TF folders: the probe must see it load TensorFlow (the check below)
    remaining = sorted(
        modules(), key=lambda m: (m.startswith(TF_FOLDERS), m != "textgen_export.keras.network")
    )
    offenders, tf_modules = [], []
    while remaining:
        done = subprocess.run(
            [sys.executable, "-c", PROBE, ",".join(TF_FOLDERS), *remaining],
            capture_output=True,
            text=True,
            timeout=600,
        )
        results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        assert results, f"the import probe failed:\n{done.stderr[-2000:]}"
        for result in results:
            name = result["name"]
            assert result["error"] is None, f"import {name} failed:\n{result['error'][-2000:]}"
            if result["tf"]:
                tf_modules.append(name)
                if not name.startswith(TF_FOLDERS):
                    offenders.append(name)
        remaining = remaining[len(results) :]
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
