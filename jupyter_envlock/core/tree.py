"""Every locked package and why it is there, from the lock and the env's installed metadata.

The lock says what is installed for this machine; who requires whom comes from each installed
distribution's `Requires-Dist` (what its installer resolved against), evaluated with the env's
Python and the extras asked for. Nothing is run, so the panel can ask for it freely. Generic over
managers: it needs only the locked versions, the direct dependencies and the env folder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import InvalidMarker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from .environment import installed_requires
from .lockfile import KERNEL_REQUIREMENTS, marker_environment
from .results import Dependency, TreeDict, TreePackageDict


@dataclass(frozen=True)
class TreePackage:
    name: str
    version: str
    direct: bool
    groups: list[str | None]  # where it is a direct dependency (None: [project].dependencies)
    required_by: list[str]  # locked packages that depend on it, sorted
    kernel: bool  # locked because the kernel needs it (ipykernel, pip), not the manifest

    def to_dict(self) -> TreePackageDict:
        return {
            "name": self.name,
            "version": self.version,
            "direct": self.direct,
            "groups": list(self.groups),
            "required_by": list(self.required_by),
            "kernel": self.kernel,
        }


@dataclass(frozen=True)
class Tree:
    packages: list[TreePackage]
    required_by_known: bool

    def to_dict(self) -> TreeDict:
        return {
            "packages": [p.to_dict() for p in self.packages],
            "required_by_known": self.required_by_known,
        }


def build_tree(
    locked: Mapping[str, str],
    direct: Sequence[Dependency],
    env_dir: Path | None,
    python_version: str,
) -> Tree:
    """One entry per locked package, sorted by name; `required_by` stays empty while there is
    no env to read the metadata from."""
    groups: dict[str, list[str | None]] = {}
    wanted_extras: dict[str, set[str]] = {}
    for dep in direct:
        groups.setdefault(dep.name, []).append(dep.group)
        try:
            extras = Requirement(dep.requirement).extras
        except InvalidRequirement:
            extras = set()
        wanted_extras.setdefault(dep.name, set()).update(canonicalize_name(e) for e in extras)
    edges = _edges(locked, env_dir, python_version, wanted_extras) if env_dir else {}
    required_by: dict[str, set[str]] = {}
    for parent, children in edges.items():
        for child in children:
            required_by.setdefault(child, set()).add(parent)
    kernel = {canonicalize_name(r) for r in KERNEL_REQUIREMENTS}
    packages = [
        TreePackage(
            name,
            version,
            direct=name in groups,
            groups=groups.get(name, []),
            required_by=sorted(required_by.get(name, ())),
            kernel=name in kernel and name not in groups,
        )
        for name, version in sorted(locked.items())
    ]
    return Tree(packages, required_by_known=env_dir is not None)


def _edges(
    locked: Mapping[str, str],
    env_dir: Path,
    python_version: str,
    wanted_extras: dict[str, set[str]],
) -> dict[str, set[str]]:
    """parent -> the locked packages it requires here. Extras travel: `a[x]` makes a's
    `extra == "x"` requirements count, and those may ask for extras of their own."""
    requires = installed_requires(env_dir)
    environment = marker_environment(python_version)
    extras = {name: set(wanted_extras.get(name, ())) for name in locked}
    edges: dict[str, set[str]] = {name: set() for name in locked}
    changed = True
    while changed:  # until no new extra is asked for (each round only adds)
        changed = False
        for parent in locked:
            for req in requires.get(parent, ()):
                child = canonicalize_name(req.name)
                if child not in locked or child == parent:
                    continue
                if not any(_applies(req, environment, e) for e in ("", *extras[parent])):
                    continue
                edges[parent].add(child)
                new = {canonicalize_name(e) for e in req.extras} - extras[child]
                if new:
                    extras[child] |= new
                    changed = True
    return edges


def _applies(req: Requirement, environment: dict[str, str], extra: str) -> bool:
    if req.marker is None:
        return True
    try:
        return req.marker.evaluate({**environment, "extra": extra})
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
        return False
