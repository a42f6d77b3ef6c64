"""Errors about the machine the command runs on: folders and files, listening ports, a store file that is missing."""

from __future__ import annotations

from .errors import PbaError, StoreError


class UnsafeExportPathError(PbaError):
    """An export would write outside its folder (``..``, an absolute path, a hidden name)."""

    code = "unsafe_export_path"

    def __init__(self, relative: str) -> None:
        super().__init__(f"refusing to write '{relative}': an export writes only plain relative paths in its folder")
        self.relative = relative


class FolderError(PbaError):
    """A folder cannot be created (``path``); ``reason`` says why, e.g. a file stands where a folder must be."""

    code = "folder_unusable"

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"cannot create the folder {path}: {reason}")
        self.path = path
        self.reason = reason


class StoreFolderError(StoreError):
    """The folder of an SQLite store (``path``) cannot be created; ``reason`` says why."""

    code = "store_folder_unusable"

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"cannot create the store's folder {path}: {reason}")
        self.path = path
        self.reason = reason


class StoreMissingError(StoreError):
    """A store that must exist already (the source of a copy) is not there; ``where`` is its file or host."""

    code = "store_missing"

    def __init__(self, where: str) -> None:
        super().__init__(f"no store at {where}")
        self.where = where


class ListenError(PbaError):
    """The server cannot listen on ``host``:``port``; ``reason`` is the system's word for why."""

    code = "cannot_listen"

    def __init__(self, message: str, *, host: str, port: int, reason: str) -> None:
        super().__init__(message)
        self.host = host
        self.port = port
        self.reason = reason


class PortInUseError(ListenError):
    """Another process already listens on ``port`` of ``host``."""

    code = "port_in_use"

    def __init__(self, host: str, port: int) -> None:
        super().__init__(f"port {port} on {host} is in use", host=host, port=port, reason="address already in use")
