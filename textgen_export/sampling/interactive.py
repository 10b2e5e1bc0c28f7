"""Interactive generation: the user picks each next token from the model's top-N (textgenrnn's console mode)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..contract.display import token_label
from ..contract.labels import check_context
from ..contract.tokens import META_TOKEN
from ..errors import UserError
from ..files.text import print_text
from .generator import Generator, check_prefix
from .sampler import check_finite, check_temperatures, tempered, top_options

MAX_TOP_N = 100


def check_top_n(top_n: int) -> int:
    if isinstance(top_n, bool) or not isinstance(top_n, int) or not 1 <= top_n <= MAX_TOP_N:
        raise UserError(f"top_n must be an integer from 1 to {MAX_TOP_N}, got {top_n!r}")
    return top_n


class InteractiveSession:
    """State of one interactively written text; the terminal and tests drive it through its methods."""

    def __init__(
        self, generator: Generator, prefix=None, temperature=0.5, top_n=3, max_gen_length=300, context=None
    ):
        self.generator = generator
        self.context = check_context(generator.labels, context)  # None: the text path
        self.top_n = check_top_n(top_n)
        self.temperatures = check_temperatures(temperature)
        self.max_gen_length = max_gen_length
        self.tokens = generator.start_tokens(check_prefix(prefix))
        self.stopped = False

    @property
    def done(self) -> bool:
        return self.stopped or len(self.tokens) >= self.max_gen_length

    def options(self) -> list[str]:
        """The top-N next tokens, most likely first (under this position's temperature)."""
        vocab, config = self.generator.vocab, self.generator.config
        windows = vocab.windows([self.tokens], config.max_length)
        extra = {} if self.context is None else {"context": self.context[None, :]}
        probs = check_finite(np.asarray(self.generator.adapter.probs(windows, **extra)))
        temp = self.temperatures[(len(self.tokens) - 1) % len(self.temperatures)]
        ranked = probs if temp == 0 else tempered(probs, temp)
        return [vocab.token(i) for i in top_options(ranked[0], self.top_n)]

    def choose(self, token: str) -> None:
        self.tokens.append(token)
        if token == META_TOKEN:
            self.stopped = True

    def write(self, text: str) -> None:
        """ "o: write your own": the text is tokenised like a prefix and appended token by token.

        textgenrnn appended the typed string as one token (not in the vocabulary, so the model saw index 0,
        padding, and offered start-of-text letters after `o` + `he cat`); we tokenise it, identically here, in the
        CLI and on the page (web_demo/src/sampling/interactive.js)."""
        self.tokens.extend(self.generator.vocab.tokenize(text))

    def backspace(self) -> None:
        if len(self.tokens) > 1:
            self.tokens.pop()

    def stop(self) -> None:
        self.stopped = True

    @property
    def text(self) -> str:
        return self.generator.finish_text(self.tokens)


def run_terminal(
    session: InteractiveSession, ask: Callable[[str], str] = input, say: Callable[[str], None] = print_text
):
    """textgenrnn's console loop: a number picks an option, s stops, x deletes, o writes your own.  Options and
    progress are model text: the default `say` escapes them on a terminal (files.text.shown_on)."""
    while not session.done:
        options = session.options()
        say("Controls:\n\ts: stop.\tx: backspace.\to: write your own.")
        say("\nOptions:")
        for number, option in enumerate(options, 1):  # invisible tokens by name: ␣, ↵, ZWJ, VS16, ...
            say(f"\t{number}: {token_label(option) if option else repr(option)}")
        say(f"\nProgress: {session.text}")
        say("\nYour choice?")
        try:
            answer = ask("> ").strip()
        except EOFError:
            break
        if answer.isdigit() and 1 <= int(answer) <= len(options):
            session.choose(options[int(answer) - 1])
        elif answer == "s":
            session.stop()
        elif answer == "x":
            session.backspace()
        elif answer == "o":
            try:
                session.write(ask("> "))
            except EOFError:
                break
        else:
            say("That's not an option!")
    return session.text
