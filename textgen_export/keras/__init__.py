"""Everything that builds or loads the Keras network (the only place besides training/ and export/ that imports TensorFlow)."""
