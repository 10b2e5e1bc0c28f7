"""Greedy text from a textgen-export bundle with nothing but numpy + onnxruntime (char-level models).

usage: python examples/python_onnx.py BUNDLE [PREFIX] [MAX_TOKENS]      (the bundle contract: README.md)
"""

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort

folder = Path(sys.argv[1])
prefix = sys.argv[2] if len(sys.argv) > 2 else ""
max_tokens = int(sys.argv[3]) if len(sys.argv) > 3 else 120  # counting the start token, like textgenrnn

manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
assert manifest["format"] == "textgen-export-bundle" and manifest["format_version"] == 1, "unsupported bundle"
for name, entry in manifest["files"].items():  # every file is listed with its sha256
    assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == entry["sha256"], f"{name} is damaged"
config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
assert not config["word_level"] and not config["single_text"], "this short example handles char-level models"
vocab = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))  # token -> index, 0 = padding/unknown
token_of = {index: token for token, index in vocab.items()}
session = ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
start = manifest["meta_token"]  # "<s>" opens (and ends) every text

tokens = [start, *prefix]
while len(tokens) < max_tokens:
    ids = [vocab.get(token, 0) for token in tokens[-config["max_length"] :]]
    window = np.zeros((1, config["max_length"]), dtype=np.int32)
    window[0, config["max_length"] - len(ids) :] = ids  # the last max_length tokens, left-padded with 0
    probs = session.run(["probs"], {"windows": window})[0]
    token = token_of.get(int(np.argmax(probs[0])), "")
    if token == start:
        break
    tokens.append(token)
print("".join(tokens[1:]))
