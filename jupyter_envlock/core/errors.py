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


class UntrustedProject(UserError):
    """An automatic path (a kernel start from the server, a panel action) reached a project the
    user has not trusted: nothing was built, changed or run. The message says what building
    would do and how to trust it."""

    http_status = 403


class ForeignEnvironment(UserError):
    """The env folder is not one envlock may build or change for this project (a folder that is
    no virtualenv, another project's env, an interpreter that is no venv's, or removals from an
    env envlock did not create that the user has not agreed to). Nothing was changed."""

    http_status = 409


class SourceBuildRefused(UserError):
    """The lock would build a package from source (its build code runs) and the manifest did
    not allow it (`[tool.envlock] allow-source-builds`). Nothing was installed."""

    http_status = 409


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


class FileSystemError(ToolError):
    """The operating system refused a read or write (disk full, read-only folder, permissions,
    a path too long): said in those words, with the path."""


def os_error_message(error: OSError, doing: str = "", path: object = None) -> str:
    """An OSError as one sentence whose first words say what went wrong (about `path`, when
    given: the file meant, not a temporary file beside it)."""
    import errno

    shown = path if path is not None else error.filename
    where = f" ({shown})" if shown else ""
    what = f" while {doing}" if doing else ""
    if error.errno == errno.ENOSPC:
        return f"The disk is full: no space left on the device{what}{where}."
    if error.errno == errno.EROFS:
        return f"The folder is on a read-only file system{what}{where}."
    if error.errno in (errno.EACCES, errno.EPERM):
        return f"Permission denied{what}{where}."
    if error.errno == errno.ENAMETOOLONG:
        return f"A path is too long for this file system{what}{where}."
    return f"{error.strerror or error}{what}{where}."
