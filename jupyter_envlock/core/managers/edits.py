"""What the managers that read and edit PEP 621/735 manifests themselves (pylock, uv) share."""

from __future__ import annotations

from packaging.utils import canonicalize_name

from ..errors import NotADependency
from ..manifest import Manifest
from ..pyproject import PyProject
from ..requirements import parse_requirement
from ..results import Dependency, Edit


def remove_one(manifest: Manifest, name: str, group: str | None) -> Edit:
    """Without --group, a name found in exactly one place is removed from there."""
    if group is not None:
        return manifest.remove(name, group)
    canonical = canonicalize_name(name)
    places = [
        g
        for g, reqs in manifest.pyproject.requirements().items()
        if any(canonicalize_name(parse_requirement(r).name) == canonical for r in reqs)
    ]
    if len(places) > 1:
        shown = ", ".join("dependencies" if g is None else f"group '{g}'" for g in places)
        raise NotADependency(f"'{name}' is listed in {shown}; say which with --group.")
    return manifest.remove(name, places[0] if places else None)


def listed_dependencies(pyproject: PyProject, versions: dict[str, str]) -> list[Dependency]:
    """The manifest's direct dependencies (main list, then groups) with their locked versions."""
    out = []
    for group, reqs in pyproject.requirements().items():
        for text in reqs:
            req = parse_requirement(text)
            name = canonicalize_name(req.name)
            out.append(Dependency(name, str(req), group, versions.get(name)))
    return out
