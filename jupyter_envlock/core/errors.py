"""One error hierarchy, so every front end (CLI, magics, REST) maps errors the same way."""

from __future__ import annotations

from typing import TypedDict


class ErrorDict(TypedDict):
    """`{"error": ...}` in --json output and REST answers."""

    type: str
    message: str
    details: str


class EnvlockError(Exception):
    """Base class: `message` is for users, `details` (optional) is tool output worth showing."""

    exit_code = 1
    http_status = 500

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> ErrorDict:
        return {"type": type(self).__name__, "message": self.message, "details": self.details}


class UserError(EnvlockError):
    """The input is wrong; nothing was changed. Exit code 2, HTTP 400."""

    exit_code = 2
    http_status = 400


class ProjectNotFound(UserError):
    http_status = 404


class OutsideRoot(UserError):
    """A path, or a manifest/lock symlink, that leads outside the folder envlock may touch."""

    http_status = 403


class ManifestError(UserError):
    """pyproject.toml cannot be read or edited as asked."""


class RequirementError(UserError):
    """A requirement string is not valid PEP 508, or is not allowed."""


class NotADependency(UserError):
    """`remove` of a name that is not a direct dependency."""


class LockfileError(UserError):
    """pylock.toml is broken, tampered with or of an unsupported version."""


class StaleLockError(UserError):
    """The manifest changed since the lock and the project asks to refuse rather than re-lock."""


class ResolutionError(UserError):
    """uv could not resolve the requirements; `details` carries uv's explanation."""


class PythonNotFound(UserError):
    """No interpreter on this machine satisfies requires-python."""


class ToolError(EnvlockError):
    """A tool envlock runs (uv, Poetry) failed, not because of the user's input (network, disk)."""


class BuildFailed(ToolError):
    """uv could not build a package from source (no wheel for this Python, no compiler...).
    `message` leads with the build's one-line reason; `details` keep uv's whole output."""

    def __init__(
        self, message: str, details: str, package: str, version: str | None, reason: str
    ) -> None:
        super().__init__(message, details)
        self.package = package
        self.version = version
        self.reason = reason


class ToolMissing(ToolError):
    """A tool the project needs (Poetry) is not installed here, or too old; the message names
    the command that installs it."""
