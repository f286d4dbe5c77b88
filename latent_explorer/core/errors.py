"""Our own exception types: each names the file at fault and what would fix it."""

from __future__ import annotations

from pathlib import Path


class LatentExplorerError(Exception):
    """Base of every error the app reports to the user (UI dialog or CLI message, exit code 2)."""

    def __init__(self, message: str, *, path: str | Path | None = None, hint: str | None = None):
        self.message = message
        self.path = str(path) if path is not None else None
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.path}: {self.message}" if self.path else self.message
        if self.hint:
            text += f"\n  fix: {self.hint}"
        return text


class DatasetError(LatentExplorerError):
    """A dataset could not be read, or its parts disagree (shapes, counts, magic numbers)."""


class ModelError(LatentExplorerError):
    """A model could not be loaded, or failed the encode/decode check on real samples."""


class UnsafeFileError(ModelError):
    """The file would run code when loaded (a full pickle) and the user has not allowed that."""


class LimitError(LatentExplorerError):
    """A file declares more than the size limits allow (`core.limits`), or a limit setting cannot be read."""


class OutputError(LatentExplorerError):
    """An output location that cannot be written, or that would overwrite one of the inputs."""


class CancelledError(LatentExplorerError):
    """A long job was cancelled by the user."""


class CodeNotAllowedError(UnsafeFileError):
    """Loading the model would run code (Python source, TorchScript, a ``.pt2`` program, a pickle) without consent.

    A subclass of `UnsafeFileError`, so every caller that already asks before loading a pickle (the window's
    consent dialog, ``--allow-code`` on the command line) asks for these too. ``code_files`` are the files
    that would run; ``content_hash`` is what a remembered consent is keyed by.
    """

    def __init__(self, message: str, *, path: str | Path | None = None, hint: str | None = None,
                 code_files: tuple[str, ...] = (), content_hash: str = ""):
        self.code_files = tuple(code_files)
        self.content_hash = content_hash
        super().__init__(message, path=path, hint=hint)
