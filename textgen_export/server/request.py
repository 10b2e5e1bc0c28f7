"""A completions request, checked: every field's type and range, before any work is queued.

The fields are OpenAI's (`prompt`, `max_tokens`, `temperature`, `n`, `seed`, `stop`, `stream`, `logprobs`,
`echo`, `stream_options`), with this project's meanings where they differ: `max_tokens` counts new tokens (the
end marker included), `temperature` may also be a list that cycles per token, and choice i of a prompt draws from
stream `seed + i`, as `textgen-export generate --seed` does.  Sampling features the model does not have
(`top_p`, penalties, `logit_bias`, `best_of`, `suffix`) are refused unless given their neutral value.
Fields OpenAI clients add for their own bookkeeping (`user`, ...) are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UserError
from ..files.reading import parse_json
from ..sampling.sampler import check_temperatures
from .errors import ApiError, bad_request
from .limits import Limits

MAX_SEED = 2**64  # seeds are splitmix64 states: |seed| below this
NEUTRAL = {
    "top_p": (1,),
    "frequency_penalty": (0,),
    "presence_penalty": (0,),
    "logit_bias": ({},),
    "suffix": ("",),
}
DEFAULT_TEMPERATURE = 0.5  # `generate`'s default, so a request without one gives the same text


@dataclass(frozen=True)
class CompletionRequest:
    prompts: list[str]
    max_tokens: int
    temperature: list[float]
    n: int
    seed: int | None
    stop: list[str]
    stream: bool
    include_usage: bool
    logprobs: int | None
    echo: bool


def parse_completion(data: bytes, limits: Limits, model_id: str) -> CompletionRequest:
    """The checked request in `data` (a JSON body), or an ApiError saying which field is wrong and how."""
    try:
        body = parse_json(data, "the request body")
    except UserError as exc:
        raise bad_request(str(exc).replace("; re-export or fix the file", "; send a JSON object")) from None
    if not isinstance(body, dict):
        raise bad_request(f"the request body must be a JSON object, got {json_type(body)}")
    model = body.get("model")
    if model is not None and model != model_id:
        if not isinstance(model, str):
            raise bad_request(f"model must be a string, got {json_type(model)}", "model")
        raise ApiError(
            404,
            f"model {model!r} is not served here; this server serves {model_id!r}",
            "model",
            code="model_not_found",
        )
    for name, allowed in NEUTRAL.items():
        if body.get(name) is not None and body[name] not in allowed:
            raise bad_request(
                f"{name} is not supported by this model; leave it out (sampling uses temperature)", name
            )
    prompts = prompt_list(body.get("prompt"), limits)
    n = integer(body, "n", 1, 1, limits.max_n)
    if n * len(prompts) > limits.max_n:
        raise bad_request(f"{len(prompts)} prompts × n={n} is over the limit of {limits.max_n} choices", "n")
    best_of = body.get("best_of")
    if best_of is not None and best_of != n:
        raise bad_request("best_of is not supported; leave it out or set it to n", "best_of")
    seed = body.get("seed")
    if seed is not None and (not is_int(seed) or abs(seed) >= MAX_SEED):
        raise bad_request(f"seed must be an integer of magnitude below 2**64, got {short(seed)}", "seed")
    logprobs = body.get("logprobs")
    if logprobs is not None:
        logprobs = integer(body, "logprobs", 0, 0, limits.max_logprobs)
    stream_options = body.get("stream_options")
    if stream_options is not None and not isinstance(stream_options, dict):
        raise bad_request(
            f"stream_options must be an object, got {json_type(stream_options)}", "stream_options"
        )
    stream = boolean(body, "stream")
    return CompletionRequest(
        prompts=prompts,
        max_tokens=integer(body, "max_tokens", limits.default_max_tokens, 1, limits.max_tokens),
        temperature=temperatures(body.get("temperature")),
        n=n,
        seed=seed,
        stop=stop_list(body.get("stop"), limits),
        stream=stream,
        include_usage=stream and boolean(stream_options or {}, "include_usage"),
        logprobs=logprobs,
        echo=boolean(body, "echo"),
    )


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {short(value)}"
    return {str: "a string", list: "an array", dict: "an object"}.get(type(value), type(value).__name__)


def short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def integer(body: dict, name: str, default: int, low: int, high: int) -> int:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON writers may send 3.0 for 3
    if not is_int(value) or not low <= value <= high:
        raise bad_request(f"{name} must be an integer from {low} to {high}, got {json_type(value)}", name)
    return value


def boolean(body: dict, name: str) -> bool:
    value = body.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise bad_request(f"{name} must be true or false, got {json_type(value)}", name)
    return value


def prompt_list(prompt, limits: Limits) -> list[str]:
    if prompt is None:
        return [""]
    prompts = [prompt] if isinstance(prompt, str) else prompt
    if not isinstance(prompts, list) or not prompts:
        raise bad_request("prompt must be a string or a non-empty array of strings", "prompt")
    if not all(isinstance(p, str) for p in prompts):
        raise bad_request("prompt must be text: token-id prompts are not supported by this model", "prompt")
    if len(prompts) > limits.max_prompts:
        raise bad_request(f"{len(prompts)} prompts is over the limit of {limits.max_prompts}", "prompt")
    for p in prompts:
        if len(p) > limits.max_prompt_chars:
            raise bad_request(
                f"a prompt of {len(p)} characters is over the limit of {limits.max_prompt_chars}; the model reads "
                "only its last tokens, so send the end of the text",
                "prompt",
            )
    return prompts


def temperatures(value) -> list[float]:
    if value is None:
        return [DEFAULT_TEMPERATURE]
    if isinstance(value, bool) or not isinstance(value, int | float | list):
        raise bad_request(
            f"temperature must be a number or an array of numbers, got {json_type(value)}", "temperature"
        )
    items = value if isinstance(value, list) else [value]
    if len(items) > 1000 or any(isinstance(t, bool) or not isinstance(t, int | float) for t in items):
        raise bad_request("temperature must be a number or an array of at most 1000 numbers", "temperature")
    try:
        return check_temperatures(items)
    except UserError as exc:
        raise bad_request(str(exc), "temperature") from None


def stop_list(value, limits: Limits) -> list[str]:
    if value is None:
        return []
    stops = [value] if isinstance(value, str) else value
    if not isinstance(stops, list) or not all(isinstance(s, str) and s for s in stops):
        raise bad_request("stop must be a non-empty string or an array of them", "stop")
    if len(stops) > limits.max_stop or any(len(s) > limits.max_stop_chars for s in stops):
        raise bad_request(
            f"stop takes at most {limits.max_stop} strings of at most {limits.max_stop_chars} characters",
            "stop",
        )
    return stops
