"""What the managers that read and edit PEP 621/735 manifests themselves (pylock, uv) share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..errors import NotADependency
from ..pyproject import AddBounds, PyProject
from ..requirements import parse_requirement
from ..results import Dependency, Edit

if TYPE_CHECKING:  # listing dependencies (`list`) edits nothing: no tomlkit
    from ..manifest import Manifest


def remove_one(
    manifest: Manifest,
    name: str,
    group: str | None,
    extra: str | None = None,
    extras: bool = False,
) -> Edit:
    """Without --group (or --optional), a name found in exactly one place is removed from there
    (the extras are searched too when the project's tool has them, `extras`)."""
    if group is not None or extra is not None:
        return manifest.remove(name, group, extra)
    canonical = canonicalize_name(name)
    pyproject = manifest.pyproject
    places: list[tuple[str | None, str | None]] = [
        (g, None) for g, reqs in pyproject.requirements().items() if _lists(reqs, canonical)
    ]
    if extras:
        places += [(None, e) for e, reqs in pyproject.extras.items() if _lists(reqs, canonical)]
    if len(places) > 1:
        shown = ", ".join(
            f"extra '{e}'" if e else ("dependencies" if g is None else f"group '{g}'")
            for g, e in places
        )
        hint = "--group (or --optional)" if extras else "--group"
        raise NotADependency(f"'{name}' is listed in {shown}; say which with {hint}.")
    group, extra = places[0] if places else (None, None)
    return manifest.remove(name, group, extra)


def _lists(requirements: Sequence[str], canonical: str) -> bool:
    return any(canonicalize_name(parse_requirement(r).name) == canonical for r in requirements)


def listed_dependencies(
    pyproject: PyProject, versions: dict[str, str], extras: bool = False
) -> list[Dependency]:
    """The manifest's direct dependencies (main list, groups, then extras when the project's
    tool locks them) with their locked versions."""
    listed: list[tuple[str | None, str | None, list[str]]] = [
        (g, None, reqs) for g, reqs in pyproject.requirements().items()
    ]
    if extras:
        listed += [(None, e, list(reqs)) for e, reqs in pyproject.extras.items()]
    out = []
    for group, extra, reqs in listed:
        for text in reqs:
            req = parse_requirement(text)
            name = canonicalize_name(req.name)
            out.append(Dependency(name, str(req), group, versions.get(name), extra))
    return out


def bound_version(versions: Sequence[str], bounds: AddBounds) -> str | None:
    """The version a bare requirement's bound is made from: the lowest locked on any platform
    (each then satisfies it); for "==", only when the lock has one version."""
    ordered = sorted(versions, key=_version_key)
    if not ordered or (bounds == "==" and len(ordered) > 1):
        return None
    return ordered[0]


def _version_key(text: str) -> tuple[int, Version | str]:
    try:
        return (0, Version(text))
    except InvalidVersion:
        return (1, text)
