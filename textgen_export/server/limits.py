"""What one server accepts: the caps on a request and on the work it holds at once."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Caps that keep one request, or many, from taking the server: a request past one is answered 400/413/429,
    never half-served."""

    max_body_bytes: int = 64 * 1024  # a request body
    max_prompt_chars: int = 4096  # each prompt (the model reads only its last max_length tokens anyway)
    max_prompts: int = 16  # prompts in one request
    max_n: int = 64  # choices in one request (prompts × n)
    max_tokens: int = 2048  # new tokens per choice
    default_max_tokens: int = 256
    max_stop: int = 4  # stop strings, as OpenAI allows
    max_stop_chars: int = 64
    max_logprobs: int = 5  # top-k alternatives per token, as OpenAI allows
    max_rows: int = 256  # rows the loop runs at once (its largest batch)
    max_queue: int = 256  # requests waiting for room in the loop; more get 429
    body_timeout: float = 10.0  # seconds to receive a request body
    retry_after: int = 1  # seconds a 429 asks the client to wait
