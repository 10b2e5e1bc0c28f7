"""Model configuration: textgenrnn's config keys, defaults and JSON file format."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..files.atomic import write_text
from ..files.reading import MAX_JSON_BYTES, read_json  # noqa: F401  (re-exported: callers import it from here)

# Upper bounds keep a hostile or mistyped config from allocating absurd amounts of memory.
_INT_BOUNDS = {
    "rnn_layers": (1, 16),
    "rnn_size": (1, 4096),
    "max_length": (1, 2048),
    "max_words": (1, 1_000_000),
    "dim_embeddings": (1, 4096),
}


@dataclass(frozen=True)
class ModelConfig:
    rnn_layers: int = 2
    rnn_size: int = 128
    rnn_bidirectional: bool = False
    max_length: int = 40
    max_words: int = 10000
    dim_embeddings: int = 100
    word_level: bool = False
    single_text: bool = False
    name: str = "textgenrnn"

    def __post_init__(self) -> None:
        for key, (low, high) in _INT_BOUNDS.items():
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise UserError(f"config: {key} must be an integer from {low} to {high}, got {value!r}")
        for key in ("rnn_bidirectional", "word_level", "single_text"):
            if not isinstance(getattr(self, key), bool):
                raise UserError(f"config: {key} must be true or false, got {getattr(self, key)!r}")
        if not isinstance(self.name, str) or not self.name:
            raise UserError(f"config: name must be a non-empty string, got {self.name!r}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> ModelConfig:
        if not isinstance(data, dict):
            raise UserError(f"config must be a JSON object, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def replace(self, **changes: Any) -> ModelConfig:
        return dataclasses.replace(self, **changes)

    def save(self, path: str | Path) -> None:
        write_text(path, json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> ModelConfig:
        return cls.from_dict(read_json(path, "config"))
