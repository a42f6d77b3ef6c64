"""How the web page words an error: the core's facts, then what a person can do on the page."""

from __future__ import annotations

from ..errors import (
    AdminRequiredError,
    ArgumentError,
    ConflictError,
    InstructionMissingError,
    InvalidTemplateError,
    LabelNotFoundError,
    MissingArgumentsError,
    NotFoundError,
    PbaError,
    ProviderNotConfiguredError,
    StoreError,
    VersionNotFoundError,
    VersionNotShownError,
)


def describe(error: PbaError) -> str:
    """One or two sentences for a person using the page."""
    message = error.message
    if isinstance(error, MissingArgumentsError):
        return f"{message}: fill in {', '.join(error.missing)} and preview again."
    if isinstance(error, VersionNotShownError):
        return (
            f"{message}: your token sees only the “{error.label}” version of each template. "
            "Sign in with a token without a label to see the others."
        )
    if isinstance(error, VersionNotFoundError):
        return f"{message}: its history lists them." if error.newest is None else f"{message}."
    if isinstance(error, LabelNotFoundError):
        return f"{message}."
    if isinstance(error, NotFoundError):
        if error.deleted:
            return f"{message}: open it from the library with “show deleted” to restore it."
        return f"{message}: search the library for the right name."
    if isinstance(error, ProviderNotConfiguredError):
        return f"{message}: set it in the environment of the server and restart it, or pick another provider."
    if isinstance(error, InstructionMissingError):
        return f"{message}."
    if isinstance(error, AdminRequiredError):
        return f"{message}: sign in with an admin token to move it."
    if isinstance(error, StoreError):
        return f"{message}. Reload the page in a few seconds."
    return message


def status_of(error: PbaError) -> int:
    """The HTTP status of a page that shows ``error``."""
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, ConflictError):
        return 409
    if isinstance(error, InvalidTemplateError | ArgumentError):
        return 422
    if isinstance(error, StoreError):
        return 503
    return 400
