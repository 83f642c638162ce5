"""uv.lock, read in-process: what it locks for this machine, and whether it still matches the
manifest, without starting uv (the panel polls these, and a kernel start must cost milliseconds).

A uv.lock is universal: every package with every version any platform needs, and the dependency
edges between them with their markers. What one machine installs is found as uv does it: walk
from the project's own entry through its dependencies (plus the groups and extras asked for),
keeping the edges whose markers hold here. uv records the manifest it locked in each project's
`[package.metadata]`; comparing it with the manifest tells a hand edit (uv itself decides for
certain, `uv lock --check`, when envlock next syncs).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli  # TOML's reader on every Python (core/lockfile.py)
from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from ..errors import LockfileError
from ..lockfile import marker_environment
from ..pyproject import PyProject

SUPPORTED_VERSION = 1
# The project itself and workspace members: built from the folder, not fetched.
LOCAL_SOURCES = ("editable", "virtual")
BUILT_SOURCES = ("git", "path", "directory", "url", "editable")
_EXTRA = re.compile(r"""\bextra\s*==\s*['"]([^'"]+)['"]""")


@dataclass(frozen=True)
class LockedEntry:
    """One `[[package]]` of a uv.lock."""

    data: Mapping[str, Any] = field(repr=False)

    @property
    def name(self) -> str:
        return canonicalize_name(str(self.data.get("name", "")))

    @property
    def version(self) -> str | None:
        version = self.data.get("version")
        return version if isinstance(version, str) else None

    @property
    def source(self) -> Mapping[str, Any]:
        source = self.data.get("source")
        return source if isinstance(source, dict) else {}

    @property
    def is_local(self) -> bool:
        """The project or a workspace member (an editable or virtual source)."""
        return any(key in self.source for key in LOCAL_SOURCES)

    @property
    def registry(self) -> str | None:
        registry = self.source.get("registry")
        return registry if isinstance(registry, str) else None

    @property
    def built_from_source(self) -> bool:
        """Installing it runs build code: an sdist without wheels, or a git/path/url source."""
        if any(key in self.source for key in BUILT_SOURCES):
            return True
        return bool(self.data.get("sdist")) and not self.data.get("wheels")

    def edges(self, table: str | None = None, key: str | None = None) -> list[Mapping[str, Any]]:
        """`dependencies`, or one list of `[package.optional-dependencies]` (table
        "optional-dependencies") or `[package.dev-dependencies]` ("dev-dependencies")."""
        if table is None:
            items = self.data.get("dependencies")
        else:
            section = self.data.get(table)
            items = section.get(key) if isinstance(section, dict) else None
        return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []

    def table_keys(self, table: str) -> list[str]:
        section = self.data.get(table)
        return sorted(str(k) for k in section) if isinstance(section, dict) else []


class UvLock:
    """A parsed uv.lock."""

    def __init__(self, data: Mapping[str, Any], where: str) -> None:
        self.data = data
        self.where = where
        self.entries = [LockedEntry(p) for p in data.get("package") or [] if isinstance(p, dict)]
        self._by_name: dict[str, list[LockedEntry]] = {}
        for entry in self.entries:
            self._by_name.setdefault(entry.name, []).append(entry)

    @classmethod
    def parse(cls, raw: bytes, where: str = "uv.lock") -> UvLock:
        try:
            data = tomli.loads(raw.decode("utf-8"))
        except (tomli.TOMLDecodeError, UnicodeDecodeError) as e:
            raise LockfileError(f"{where} is not valid TOML: {e}") from e
        version = data.get("version")
        if version != SUPPORTED_VERSION:
            raise LockfileError(
                f"{where} has lock version {version!r}; this jupyter-envlock reads version "
                f"{SUPPORTED_VERSION} (upgrade jupyter-envlock, or lock with the uv it ships)."
            )
        return cls(data, where)

    @property
    def requires_python(self) -> str | None:
        value = self.data.get("requires-python")
        return value if isinstance(value, str) else None

    def entry(self, name: str) -> LockedEntry | None:
        """The project's (or a member's) own entry, by name."""
        local = [e for e in self._by_name.get(canonicalize_name(name), []) if e.is_local]
        return local[0] if local else None

    def versions_of(self, name: str) -> list[str]:
        """The versions locked for `name` on any platform (forks lock several)."""
        entries = self._by_name.get(canonicalize_name(name), [])
        return sorted({e.version for e in entries if e.version and not e.is_local})

    def all_versions(self) -> dict[str, str]:
        """name -> its locked version(s) on any platform (forks list several), the local
        packages left out: what a change report compares."""
        out: dict[str, str] = {}
        for name, entries in self._by_name.items():
            versions = sorted({e.version for e in entries if e.version and not e.is_local})
            if versions:
                out[name] = ", ".join(versions)
        return out

    # -- what one machine installs -----------------------------------------------------------

    def select(
        self,
        roots: Iterable[str],
        python_version: str,
        groups: Iterable[str] = (),
        extras: Iterable[str] = (),
    ) -> list[LockedEntry]:
        """The entries installed on this machine for the projects `roots`, with their `groups`
        (PEP 735 / uv dev-dependencies) and `extras`, as `uv sync` installs them."""
        environment: dict[str, object] = {**marker_environment(python_version), "extra": ""}
        chosen: dict[int, LockedEntry] = {}
        seen: set[tuple[int, frozenset[str]]] = set()
        queue: list[tuple[LockedEntry, frozenset[str], bool]] = []
        for name in roots:
            root = self.entry(name)
            if root is not None:
                queue.append((root, frozenset(extras), True))
        group_names = list(groups)
        while queue:
            entry, wanted, is_root = queue.pop()
            key = (id(entry), wanted)
            if key in seen:
                continue
            seen.add(key)
            chosen[id(entry)] = entry
            edges = list(entry.edges())
            for extra in wanted:
                edges += entry.edges("optional-dependencies", extra)
            if is_root:
                for group in group_names:
                    edges += entry.edges("dev-dependencies", group)
            for edge in edges:
                marker = edge.get("marker")
                if isinstance(marker, str) and not marker_holds(marker, environment):
                    continue
                target = self._resolve(edge, environment)
                if target is None:
                    continue
                more = edge.get("extra")
                extra_names = (
                    frozenset(str(x) for x in more) if isinstance(more, list) else frozenset()
                )
                queue.append((target, extra_names, False))
        return list(chosen.values())

    def _resolve(
        self, edge: Mapping[str, Any], environment: Mapping[str, object]
    ) -> LockedEntry | None:
        """The entry an edge points at: by name, then (when the name has several entries, as in
        a fork) by version and source, then by the entry's resolution markers."""
        candidates = self._by_name.get(canonicalize_name(str(edge.get("name", ""))), [])
        if len(candidates) > 1 and isinstance(edge.get("version"), str):
            candidates = [c for c in candidates if c.version == edge["version"]]
        if len(candidates) > 1 and isinstance(edge.get("source"), dict):
            candidates = [c for c in candidates if c.source == edge["source"]]
        if len(candidates) > 1:
            fitting = [c for c in candidates if _fork_holds(c, environment)]
            candidates = fitting or candidates
        return candidates[0] if candidates else None

    # -- does it still match the manifest? ---------------------------------------------------

    def records(self, pyproject: PyProject) -> bool:
        """Whether the lock's record of this project's manifest (`[package.metadata]`) names
        the same requirements as the manifest does now: names, versions allowed and extras, per
        main list, extra and group. (uv compares more, e.g. sources; so does its own check.)"""
        if pyproject.name is None:
            return False
        entry = self.entry(pyproject.name)
        if entry is None:
            return False
        metadata = entry.data.get("metadata")
        metadata = metadata if isinstance(metadata, dict) else {}
        recorded = _recorded(metadata.get("requires-dist"))
        if recorded != _wanted_dist(pyproject):
            return False
        dev = metadata.get("requires-dev")
        recorded_groups = {
            str(g): _recorded(items) for g, items in (dev.items() if isinstance(dev, dict) else [])
        }
        wanted_groups = {g: _normalized(items) for g, items in pyproject.groups.items() if items}
        return {g: r for g, r in recorded_groups.items() if r} == wanted_groups


Key = tuple[str, str, tuple[str, ...], str]


def _key(name: str, specifier: str, extras: Iterable[str], extra_of: str) -> Key:
    try:
        spec = str(SpecifierSet(specifier))
    except InvalidSpecifier:
        spec = specifier
    return (canonicalize_name(name), spec, tuple(sorted(extras)), extra_of)


def _recorded(items: object) -> list[Key]:
    out = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        marker = item.get("marker")
        extra_of = _extra_in(marker) if isinstance(marker, str) else ""
        extras = item.get("extras")
        out.append(
            _key(
                str(item.get("name", "")),
                str(item.get("specifier", "")),
                [str(x) for x in extras] if isinstance(extras, list) else [],
                extra_of,
            )
        )
    return sorted(out)


def _normalized(requirements: Sequence[str], extra_of: str = "") -> list[Key]:
    out = []
    for text in requirements:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            out.append(_key(text, "", (), extra_of))
            continue
        out.append(_key(req.name, str(req.specifier), req.extras, extra_of))
    return sorted(out)


def _wanted_dist(pyproject: PyProject) -> list[Key]:
    wanted = _normalized(pyproject.dependencies)
    project = pyproject.data.get("project")
    optional = project.get("optional-dependencies") if isinstance(project, dict) else None
    for extra, items in optional.items() if isinstance(optional, dict) else []:
        if isinstance(items, list):
            wanted += _normalized([i for i in items if isinstance(i, str)], str(extra))
    return sorted(wanted)


def _extra_in(marker: str) -> str:
    """The extra a requires-dist marker belongs to (`extra == 'plot'`), else ""."""
    match = _EXTRA.search(marker)
    return canonicalize_name(match.group(1)) if match else ""


def marker_holds(marker: str, environment: Mapping[str, object]) -> bool:
    """A lock edge's marker; one that cannot be evaluated here (a conflict marker of uv's) is
    taken to hold, so that nothing locked goes unseen."""
    try:
        return Marker(marker).evaluate(environment, context="lock_file")  # type: ignore[arg-type]
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
        return True


def _fork_holds(entry: LockedEntry, environment: Mapping[str, object]) -> bool:
    markers = entry.data.get("resolution-markers")
    if not isinstance(markers, list) or not markers:
        return True
    return any(marker_holds(str(m), environment) for m in markers)


def read_uv_lock(path: Path) -> UvLock | None:
    """The lock at `path`, or None when there is none."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    return UvLock.parse(raw, str(path))
