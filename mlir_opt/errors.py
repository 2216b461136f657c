"""User-facing errors.

Every mistake a user can make (a missing file, a corrupt model, an op no importer supports, outputs
that do not match the reference) is raised as :class:`MlirOptError` with a one-line message that
names the problem. The CLI prints that line and exits non-zero, without a traceback.
"""

from __future__ import annotations

__all__ = ["MlirOptError", "ImportError_", "CompileError", "NumericsError"]


class MlirOptError(Exception):
    """A problem with the user's input or a check that failed; its message is one line."""

    exit_code = 2

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()) if "\n" in str(message) else str(message))


class ImportError_(MlirOptError):
    """The model could not be imported to linalg/tensor IR."""


class CompileError(MlirOptError):
    """IREE failed to compile a module."""


class NumericsError(MlirOptError):
    """Outputs differ from the reference beyond the tolerance."""

    exit_code = 3
