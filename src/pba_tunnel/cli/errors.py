"""How the command line words an error: the core's facts, then the remedy a shell user can type.

The core's errors carry a stable ``code`` and their facts as attributes; the options and commands named
here (``-a``, ``--provider``, ``pba-tunnel list``) exist only on the command line, so only the CLI says them.
"""

from __future__ import annotations

from ..errors import (
    AdminRequiredError,
    InstructionMissingError,
    LabelNotFoundError,
    MissingArgumentsError,
    NotFoundError,
    PbaError,
    ProviderNotConfiguredError,
    VersionNotFoundError,
    VersionNotShownError,
)
from ..local_errors import FolderError, ListenError, PortInUseError, StoreFolderError, StoreMissingError


def describe(error: PbaError) -> str:
    """The one line the CLI prints for ``error``: its facts, then the shell remedy when there is one."""
    message = error.message
    if isinstance(error, MissingArgumentsError) and error.missing:
        return f"{message}: pass them, e.g. -a {error.missing[0]}=..."
    if isinstance(error, VersionNotShownError):
        return f"{message}: --label {error.label} shows only the version it points at; drop --label to pick another"
    if isinstance(error, VersionNotFoundError):
        return message if error.newest is not None else f"{message}: `pba-tunnel history {error.name}` lists them"
    if isinstance(error, LabelNotFoundError):
        return f"{message}: `pba-tunnel history {error.name}` shows its labels"
    if isinstance(error, AdminRequiredError):
        return f"{message}: run the command on the server's machine, or use a token with the admin scope"
    if isinstance(error, NotFoundError) and error.name is not None:
        if error.deleted:
            return f"{message}: `pba-tunnel restore {error.name}` brings it back"
        return f"{message}: `pba-tunnel list` shows the names"
    if isinstance(error, ProviderNotConfiguredError):
        return f"{message}, or pass --provider ollama"
    if isinstance(error, InstructionMissingError):
        return f"{message} (pba-tunnel import templates/enhance)"
    return _describe_place(error) or message


def _describe_place(error: PbaError) -> str | None:
    """Errors about a place on this machine: a folder, a store file, a port."""
    message = error.message
    if isinstance(error, StoreFolderError):
        return (
            f"{message}; set PBA_TUNNEL_HOME (or --home) to a folder you can write, or point "
            "PBA_TUNNEL_DATABASE_URL (--database-url) at another store"
        )
    if isinstance(error, FolderError):
        return f"{message}; choose another folder"
    if isinstance(error, StoreMissingError):
        return f"{message}: check the URL (the source of a copy must be an existing store)"
    if isinstance(error, PortInUseError):
        return f"{message} (another pba-tunnel?): pass --port"
    if isinstance(error, ListenError):
        return f"{message}: pass another --host or --port"
    return None
