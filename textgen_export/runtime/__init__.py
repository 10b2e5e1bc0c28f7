"""The TensorFlow-free runtime for other apps: a bundle + numpy + onnxruntime, nothing else.

from textgen_export.runtime import load_bundle
rt = load_bundle("bundle/")
rt.generate(n=3, temperature=0.5, seed=7)
"""

from .bundle_runtime import BundleRuntime, load_bundle

__all__ = ["BundleRuntime", "load_bundle"]
