"""Runtime adapters (windows -> probabilities) and the TensorFlow-free bundle runtime for other apps.

from textgen_export.runtime import load_bundle
rt = load_bundle("bundle/")
rt.generate(n=3, temperature=0.5, seed=7)
"""

from .bundle import BundleRuntime, load_bundle

__all__ = ["BundleRuntime", "load_bundle"]
