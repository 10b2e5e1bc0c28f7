"""Context labels: the ordered label list of a contextual model and the label vector its context head reads.
TF-free; web_demo/src/contract/labels.js is the JS twin.

A contextual model (trained with `train --context`) has a second input: one float per label, 1 for each label a
text has (multi-hot; a CSV cell `a|b` gives a text both labels), 0 otherwise. The list's order is the order of
that input, so it is saved with the model (`labels.json`: a JSON array of strings) and travels into the bundle.
Generating "for" labels feeds the same kind of vector; no label means the text-only path.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..files.atomic import write_text
from ..files.reading import read_json

SEPARATOR = "|"  # several labels in one CSV cell: "fruit|animal"
MAX_LABELS = 10_000
MAX_LABEL_CHARS = 200


def split_labels(cell) -> list[str]:
    """One text's labels: a string (`a|b` → both) or a sequence of strings; stripped, repeats dropped."""
    parts = [cell] if isinstance(cell, str) else cell
    if not isinstance(parts, Sequence) or cell is None:
        raise UserError(f"a context label must be a string such as 'a' or 'a|b', got {cell!r}")
    labels: list[str] = []
    for part in parts:
        if not isinstance(part, str):
            raise UserError(f"a context label must be a string, got {part!r}")
        for name in (piece.strip() for piece in part.split(SEPARATOR)):
            if name and name not in labels:
                labels.append(name)
    if not labels:
        raise UserError("a context label is missing (empty); give every text a label")
    return labels


class ContextLabels:
    """The ordered labels of a context head: names ↔ positions of the head's `context` input."""

    def __init__(self, names: Sequence[str]):
        names = list(names)
        if not 1 <= len(names) <= MAX_LABELS:
            raise UserError(f"a context model needs 1 to {MAX_LABELS} labels, got {len(names)}")
        for name in names:
            if (
                not isinstance(name, str)
                or not name.strip()
                or len(name) > MAX_LABEL_CHARS
                or name != name.strip()
            ):
                raise UserError(f"context labels must be non-empty trimmed strings, got {name!r:.80}")
            if SEPARATOR in name:
                raise UserError(f"context label {name!r} contains {SEPARATOR!r}, which separates labels")
        if len(set(names)) != len(names):
            raise UserError("context labels must be unique")
        self.names = names
        self.index = {name: i for i, name in enumerate(names)}

    def __len__(self) -> int:
        return len(self.names)

    def __eq__(self, other) -> bool:
        return isinstance(other, ContextLabels) and other.names == self.names

    def __repr__(self) -> str:
        return f"ContextLabels({self.names!r})"

    def known(self) -> str:
        return ", ".join(self.names)

    def vector(self, context) -> np.ndarray:
        """float32 [len(self)] with 1 at each label of `context` (a name, `a|b`, or a list of names).

        An unknown name is a UserError listing the known ones."""
        chosen = split_labels(context)
        unknown = [name for name in chosen if name not in self.index]
        if unknown:
            raise UserError(f"unknown context label {unknown[0]!r}; this model knows: {self.known()}")
        vector = np.zeros(len(self.names), dtype=np.float32)
        vector[[self.index[name] for name in chosen]] = 1.0
        return vector

    def multi_hot(self, rows: Sequence) -> np.ndarray:
        """float32 [len(rows), len(self)]: each row's labels (see `split_labels`), for training."""
        return np.stack([self.vector(row) for row in rows]) if rows else np.zeros((0, len(self)), np.float32)

    @classmethod
    def from_texts(cls, rows: Sequence) -> ContextLabels:
        """Every label the rows use, sorted (the order training gives the head's input)."""
        return cls(sorted({name for row in rows for name in split_labels(row)}))

    def to_json(self) -> str:
        return json.dumps(self.names, ensure_ascii=False) + "\n"

    def save(self, path: str | Path) -> None:
        write_text(path, self.to_json())

    @classmethod
    def load(cls, path: str | Path) -> ContextLabels:
        data = read_json(path, "context labels")
        if not isinstance(data, list):
            raise UserError(f"{path} must be a JSON array of label strings; re-train or re-export")
        return cls(data)


def check_context(labels: ContextLabels | None, context) -> np.ndarray | None:
    """The label vector for `context` (None → None: the text-only path); a model without a head refuses."""
    if context is None or (isinstance(context, Sequence) and not context):  # "" or []
        return None
    if labels is None:
        raise UserError(
            "this model has no context head (it was not trained with --context); generate without a context label"
        )
    return labels.vector(context)
