"""Requirements and group names a user (or a cloned repository) gives envlock, checked once.

A requirement ends up on uv's command line and in a lock shared with other machines: it must not
be taken for an option, and must not name a path that only this machine has.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

from .errors import ManifestError, RequirementError
from .pyproject import NAME, AddBounds, short

MAX_REQUIREMENT_LENGTH = 1000


class TypedRequirement(Requirement):
    """A requirement that remembers how it was written: the manifest gets the user's text
    (`alpha>=1.0,<2` stays so; packaging would print `alpha<2,>=1.0`)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def written(req: Requirement) -> str:
    """The text to write for `req`: as typed when it was typed, else packaging's."""
    return req.text if isinstance(req, TypedRequirement) else str(req)


def is_bare(req: Requirement) -> bool:
    """No version asked for (extras and markers may be there): its bound is chosen on locking."""
    return not req.specifier and not req.url


def with_bound(req: Requirement, locked_version: str, bounds: AddBounds) -> str | None:
    """The bare `req` as written, with `locked_version` as its bound: `seaborn>=0.13.2`,
    `seaborn~=0.13.2`, `seaborn==0.13.2` (None: leave it bare)."""
    if bounds == "none":
        return None
    try:
        version = Version(locked_version)
    except InvalidVersion:
        return None
    if bounds == ">=":
        bound = f">={version.public}"
    elif bounds == "~=":
        release = version.release if len(version.release) > 1 else (*version.release, 0)
        bound = "~=" + ".".join(str(part) for part in release)
    else:
        bound = f"=={version}"
    head, semicolon, marker = written(req).partition(";")
    return head.rstrip() + bound + (f"; {marker.strip()}" if semicolon else "")


def parse_requirement(text: str) -> Requirement:
    """A PEP 508 requirement, refused when it could be mistaken for an option or a local path."""
    if not isinstance(text, str) or not text.strip():
        raise RequirementError("An empty requirement is not valid.")
    text = text.strip()
    if len(text) > MAX_REQUIREMENT_LENGTH:
        raise RequirementError(
            f"Requirement is {len(text)} characters long; the limit is {MAX_REQUIREMENT_LENGTH}."
        )
    if text.startswith("-"):
        raise RequirementError(
            f"'{short(text)}' looks like a command-line option, not a requirement. "
            "Configure indexes in [[tool.uv.index]] instead."
        )
    try:
        req = TypedRequirement(text)
    except InvalidRequirement as e:
        raise RequirementError(f"'{short(text)}' is not a valid requirement: {e}") from e
    if req.url and _is_local(req.url):
        raise RequirementError(
            f"'{short(text)}' points at a local file; a shared lock cannot carry machine paths."
        )
    return req


def _is_local(url: str) -> bool:
    """`file:`, `git+file:` (any `VCS+file:`), and bare paths: nothing another machine has."""
    scheme = urlsplit(url).scheme.lower()
    return scheme == "file" or scheme.endswith("+file") or len(scheme) <= 1  # "" or "C:"


def normalize_group(group: str | None) -> str | None:
    if group is None:
        return None
    if not NAME.match(group):
        raise ManifestError(f"'{short(group)}' is not a valid dependency group name (PEP 735).")
    return group
