"""The one error type a user can cause.

`UserError` subclasses `ValueError` so Python callers can catch it as the issue contracts promise; the CLI turns
it into one line on stderr and exit status 2.
"""


class UserError(ValueError):
    """Bad input from the user: the message says what is wrong and how to fix it, in one line."""


class MissingFileError(UserError, FileNotFoundError):
    """A file the user named (or a bundle needs) is not there."""


def require(condition: bool, message: str) -> None:
    """Raise `UserError(message)` unless `condition` holds."""
    if not condition:
        raise UserError(message)


FULL_INSTALL = "pip install 'textgen-export[full]'"


def require_tensorflow() -> None:
    """Answer in one line, before any import, when a command needs TensorFlow and this install has none
    (a `[runtime]` install: numpy + onnxruntime only)."""
    import importlib.util

    if importlib.util.find_spec("tensorflow") is None:
        raise UserError(f"needs TensorFlow: {FULL_INSTALL}")
