"""Ensembles (textgenrnn's `synthesize`): several models take turns writing one text.

Each turn a model continues the text until it emits a stop token (a space or newline at char level, every word
at word level); the text ends when a model emits `<s>` or reaches max_gen_length.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .generator import check_n


def synthesize_texts(
    models: Sequence,
    n: int = 1,
    prefix: str = "",
    temperature=(0.5, 0.2, 0.2),
    max_gen_length: int = 300,
    progress: bool = True,
    stop_tokens=(" ", "\n"),
    seed: int | None = None,
    shuffle: Callable[[list], None] | None = None,
) -> list[str]:
    models = list(models)
    texts = []
    bar = None
    if progress and check_n(n) > 1:
        from tqdm import tqdm

        bar = tqdm(total=n, unit="text")
    for text_number in range(check_n(n)):
        if shuffle:
            shuffle(models)
        text, turn = prefix, 0
        while True:
            generator = models[turn % len(models)].generator
            turn_seed = None if seed is None else seed + 1_000_003 * text_number + turn
            batch = generator.start(
                n=1,
                temperature=list(temperature) if isinstance(temperature, list | tuple) else temperature,
                prefix=text,
                max_gen_length=max_gen_length,
                seed=turn_seed,
                break_tokens=stop_tokens,
            )
            while batch.active.size:
                generator.advance(batch)
            row = batch.rows[0]
            text = generator.finish_text(row.tokens)
            turn += 1
            if row.ended or not row.done:
                break
        texts.append(text)
        if bar:
            bar.update(1)
    if bar:
        bar.close()
    return texts
