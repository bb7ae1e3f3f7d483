"""Errors that carry a file position, so every message names the file, line and field."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Issue:
    """One problem found in an input file, printed as ``FILE:LINE:COL: FIELD: MESSAGE``."""

    file: str
    line: int
    col: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class PavedError(Exception):
    """A user-facing error: the CLI prints it without a traceback and exits 1."""


class InputError(PavedError):
    """One or more problems in a user's input file (catalog or stack config)."""

    def __init__(self, issues: list[Issue]):
        self.issues = sorted(issues, key=lambda i: (i.file, i.line, i.col, i.field, i.message))
        super().__init__("\n".join(str(i) for i in self.issues))


class UsageError(PavedError):
    """A command-line usage error (exit code 2)."""
