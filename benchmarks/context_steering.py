"""Does a context label steer what a model writes?  `python -m benchmarks.context_steering`

Runs the commands a user runs, on our synthetic fruit-vs-animal corpus: `textgen-export dataset fruit-animal`,
`train --context` (a small new word-level model, held-out tenth), then `generate --context LABEL` for each label,
for both labels and for none (the text-only path), and counts the share of fruit and animal words in what each
wrote. Writes benchmarks/results/context_steering/results.md (with the commands) and results.json.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

from textgen_export.datasets.fruit_animal import share

RESULTS = Path(__file__).resolve().parent / "results" / "context_steering"
TRAIN = (
    "train fa.csv --context --header --new-model --word-level --rnn-layers 1 --rnn-size 48 --max-length 8 "
    "--dim-embeddings 16 --epochs 8 --batch-size 32 --train-size 0.9 --gen-epochs 0 --seed 1 --out fa_model"
)
GENERATE = "generate --model fa_model -n 40 --temperature 0.5 --max-length 8 --seed 5"
CASES = {
    "none (text only)": [],
    "fruit": ["fruit"],
    "animal": ["animal"],
    "animal and fruit": ["animal", "fruit"],
}


def cli(folder: Path, command: str, *extra: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "textgen_export", *command.split(), *extra],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cli(folder, "dataset fruit-animal --out fa.csv")
        cli(folder, TRAIN)
        meta = json.loads((folder / "fa_model" / "metadata.json").read_text())
        rows = {}
        for name, labels in CASES.items():
            texts = cli(folder, GENERATE, *(["--context", *labels] if labels else [])).splitlines()
            rows[name] = {
                "context": labels,
                "fruit_share": share(texts, "fruit"),
                "animal_share": share(texts, "animal"),
                "examples": texts[:3],
            }
    nats = math.log(2)
    result = {
        "commands": [
            "textgen-export dataset fruit-animal --out fa.csv",
            f"textgen-export {TRAIN}",
            f"textgen-export {GENERATE}",
        ],
        "heldout_loss_text_path": meta["final_validation_bits_per_token"] * nats,
        "heldout_loss_context_head": meta["final_context_validation_bits_per_token"] * nats,
        "generated": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "results.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    lines = [
        "# Context labels steer generation",
        "",
        "Made by `python -m benchmarks.context_steering`, which runs:",
        "",
        "```sh",
        *result["commands"][:2],
        f"textgen-export {GENERATE} [--context LABEL ...]",
        "```",
        "",
        f"Held-out loss (nats per token): text path {result['heldout_loss_text_path']:.4f}, context head fed each "
        f"text's labels {result['heldout_loss_context_head']:.4f}.",
        "",
        "| --context | fruit words | animal words | first texts |",
        "|---|---:|---:|---|",
    ]
    for name, row in rows.items():
        examples = " / ".join(row["examples"])
        lines.append(f"| {name} | {row['fruit_share']:.0%} | {row['animal_share']:.0%} | {examples} |")
    (RESULTS / "results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
