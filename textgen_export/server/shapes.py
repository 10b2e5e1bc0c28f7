"""The OpenAI response shapes: a completion, a streamed chunk, the model list."""

from __future__ import annotations

from .choice import Delta

OBJECT = "text_completion"


def choice_body(delta: Delta, with_logprobs: bool) -> dict:
    logprobs = None
    if with_logprobs:
        logprobs = {
            "tokens": delta.tokens,
            "token_logprobs": delta.token_logprobs,
            "top_logprobs": delta.top_logprobs,
            "text_offset": delta.text_offset,
        }
    return {
        "index": delta.index,
        "text": delta.text,
        "logprobs": logprobs,
        "finish_reason": delta.finish_reason,
    }


def usage(prompt_tokens: int, completion_tokens: int) -> dict:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def completion(job, model_id: str, choices: list[Delta], with_usage: bool = True) -> dict:
    """A completion object (a whole response, or one streamed chunk when `with_usage` is False)."""
    return {
        "id": job.id,
        "object": OBJECT,
        "created": job.created,
        "model": model_id,
        "choices": [choice_body(d, job.request.logprobs is not None) for d in choices],
        "usage": usage(job.prompt_tokens, job.completion_tokens) if with_usage else None,
    }


def model_list(model_id: str, created: int) -> dict:
    return {"object": "list", "data": [model_card(model_id, created)]}


def model_card(model_id: str, created: int) -> dict:
    return {"id": model_id, "object": "model", "created": created, "owned_by": "textgen-export"}
