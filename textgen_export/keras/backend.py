"""Import TensorFlow/Keras without its start-up log noise on stderr (CUDA probes, oneDNN banners).

TensorFlow 2.21 writes these from C++ before any log setting applies, so stderr (fd 2) is pointed at
/dev/null while TensorFlow loads and finds its devices.  Python exceptions are unaffected.
"""

import contextlib
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")


@contextlib.contextmanager
def _silenced_stderr():
    if os.environ.get("TEXTGEN_EXPORT_TF_LOGS"):  # opt out, for debugging TensorFlow itself
        yield
        return
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


with _silenced_stderr():
    import tensorflow as tf

    tf.config.list_physical_devices()  # device discovery logs here, once
    # The first op initialises the runtime (and its CUDA probe); not under TF_CONFIG, where
    # MultiWorkerMirroredStrategy must configure collective ops first (training/distribute.py).
    if not os.environ.get("TF_CONFIG", "").strip():
        tf.constant(0)
    import keras

tf.get_logger().setLevel("ERROR")

__all__ = ["keras", "tf"]
