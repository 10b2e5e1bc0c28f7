"""Exporters: model → bundle (ONNX, TF.js), every runtime validated against a float64 reference."""
