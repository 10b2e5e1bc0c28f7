"""Exporters: the Keras model → bundle (ONNX, TF.js), validated against Keras at export time."""
