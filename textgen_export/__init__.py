"""textgen_export: train textgenrnn-style text generators and deploy them to every runtime.

Imports are lazy so that `textgen_export.runtime` (numpy + onnxruntime) never pulls in TensorFlow.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_LAZY = {
    "TextGen": ("textgen_export.api.textgen", "TextGen"),
    "textgenrnn": ("textgen_export.api.compat", "textgenrnn"),
    "synthesize": ("textgen_export.api.compat", "synthesize"),
    "synthesize_to_file": ("textgen_export.api.compat", "synthesize_to_file"),
    "ModelConfig": ("textgen_export.contract.config", "ModelConfig"),
    "Vocabulary": ("textgen_export.contract.vocabulary", "Vocabulary"),
}

__all__ = [*_LAZY, "__version__"]


def __getattr__(name: str):
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'textgen_export' has no attribute {name!r}")
