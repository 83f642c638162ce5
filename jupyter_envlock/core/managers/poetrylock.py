"""A Poetry project read in-process: its dependencies as Poetry sees them, poetry.lock, and
whether the lock is still fresh, all without starting Poetry (a 0.5 s Python start each time,
and a Poetry command may load plugins a repository names before the user trusted it).

Poetry 2 reads both layouts: classic `[tool.poetry.dependencies]` / `[tool.poetry.group.G.
dependencies]` (caret and tilde constraints) and PEP 621 `[project].dependencies` + PEP 735
`[dependency-groups]`. Freshness is Poetry's own rule: the lock's `content-hash` is the sha256 of
the manifest's relevant content (`poetry check --lock` compares the same).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import tomli  # TOML's reader on every Python (core/lockfile.py)
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..errors import LockfileError
from ..lockfile import marker_environment
from ..pyproject import PyProject
from .uvlock import marker_holds

LOCK_NAME = "poetry.lock"
MAIN = "main"
# Locker._legacy_keys / _relevant_keys / _relevant_project_keys of Poetry 2.5.
_LEGACY_KEYS = ("dependencies", "source", "extras", "dev-dependencies")
_RELEVANT_KEYS = (*_LEGACY_KEYS, "group")
_PROJECT_KEYS = ("requires-python", "dependencies", "optional-dependencies")
_GENERATED_BY = re.compile(rb"Poetry ([^ \r\n]+)")


def content_hash(data: Mapping[str, Any], with_dependency_groups: bool = True) -> str:
    """Poetry's `Locker._get_content_hash`, as of Poetry 2.5."""
    project = data.get("project") or {}
    groups = (data.get("dependency-groups") or {}) if with_dependency_groups else {}
    poetry = (data.get("tool") or {}).get("poetry") or {}
    relevant_project = {k: project[k] for k in _PROJECT_KEYS if project.get(k) is not None}
    relevant_poetry: dict[str, Any] = {}
    for key in _RELEVANT_KEYS:
        value = poetry.get(key)
        if value is None and (key not in _LEGACY_KEYS or relevant_project or groups):
            continue
        relevant_poetry[key] = value
    content: dict[str, Any] = {}
    if relevant_project:
        content["project"] = relevant_project
    if groups:
        content["dependency-groups"] = groups
    if content:
        content["tool"] = {"poetry": relevant_poetry}
    else:
        content = relevant_poetry  # Poetry keeps classic projects' content at top level
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def lock_is_fresh(pyproject: PyProject, raw: bytes) -> bool:
    """`poetry check --lock`'s answer: the lock was made from this manifest."""
    try:
        data = tomli.loads(raw.decode("utf-8"))
    except (tomli.TOMLDecodeError, UnicodeDecodeError):
        return False
    recorded = (data.get("metadata") or {}).get("content-hash")
    if recorded == content_hash(pyproject.data):
        return True
    match = _GENERATED_BY.search(raw.split(b"\n", 1)[0])
    try:
        old = match is not None and Version(match.group(1).decode()) < Version("2.3.0")
    except InvalidVersion:
        old = False
    # Before Poetry 2.3.0 the hash left [dependency-groups] out (Poetry accepts such locks).
    return old and recorded == content_hash(pyproject.data, with_dependency_groups=False)


# --------------------------------------------------------------------------- the manifest


@dataclass(frozen=True)
class PoetryDependency:
    """One direct dependency as written, in either layout."""

    name: str  # normalized
    requirement: str  # as shown: PEP 508 text, or `name constraint` for the classic layout
    group: str | None  # None: main
    optional: bool = False
    extra: str | None = None  # in this extra of [project.optional-dependencies]


def poetry_dependencies(pyproject: PyProject) -> list[PoetryDependency]:
    """Main dependencies, then each group's, as Poetry reads them (both layouts)."""
    out: list[PoetryDependency] = []
    for text in pyproject.dependencies:
        out.append(_pep508(text, None))
    poetry = (pyproject.data.get("tool") or {}).get("poetry") or {}
    classic = poetry.get("dependencies")
    if isinstance(classic, dict):
        for name, spec in classic.items():
            if canonicalize_name(str(name)) != "python":
                out.append(_classic(str(name), spec, None))
    for group, items in pyproject.groups.items():
        out += [_pep508(text, group) for text in items]
    for extra, items in pyproject.extras.items():
        out += [replace(_pep508(text, None), optional=True, extra=extra) for text in items]
    legacy = poetry.get("dev-dependencies")
    if isinstance(legacy, dict):
        out += [_classic(str(n), s, "dev") for n, s in legacy.items()]
    groups = poetry.get("group")
    if isinstance(groups, dict):
        for group, table in groups.items():
            deps = table.get("dependencies") if isinstance(table, dict) else None
            if isinstance(deps, dict):
                out += [_classic(str(n), s, str(group)) for n, s in deps.items()]
    return out


def optional_groups(pyproject: PyProject) -> set[str]:
    """Groups marked `optional = true`: `poetry sync` leaves them out unless asked."""
    groups = ((pyproject.data.get("tool") or {}).get("poetry") or {}).get("group")
    if not isinstance(groups, dict):
        return set()
    return {str(g) for g, t in groups.items() if isinstance(t, dict) and t.get("optional") is True}


def _pep508(text: str, group: str | None) -> PoetryDependency:
    try:
        req = Requirement(text)
    except InvalidRequirement:
        return PoetryDependency(
            canonicalize_name(text.split()[0] if text.split() else text), text, group
        )
    return PoetryDependency(canonicalize_name(req.name), str(req), group)


def _classic(name: str, spec: object, group: str | None) -> PoetryDependency:
    """`tinya = "^1.0"`, `{version = "^1.0", extras = [...], optional = true}`, git/path/url
    tables, or a list of such (one per marker)."""
    specs = spec if isinstance(spec, list) else [spec]
    shown: list[str] = []
    optional = False
    extras: set[str] = set()
    for item in specs:
        if isinstance(item, str):
            shown.append(item)
        elif isinstance(item, dict):
            optional = optional or item.get("optional") is True
            extras.update(str(e) for e in item.get("extras") or [] if isinstance(e, str))
            for key in ("version", "git", "path", "url"):
                if isinstance(item.get(key), str):
                    shown.append(item[key] if key == "version" else f"{key} {item[key]}")
                    break
    label = name + (f"[{','.join(sorted(extras))}]" if extras else "")
    text = f"{label} {' || '.join(shown)}".strip() if shown else label
    return PoetryDependency(canonicalize_name(name), text, group, optional)


# --------------------------------------------------------------------------- poetry.lock


@dataclass(frozen=True)
class PoetryLocked:
    """One `[[package]]` of poetry.lock."""

    data: Mapping[str, Any] = field(repr=False)

    @property
    def name(self) -> str:
        return canonicalize_name(str(self.data.get("name", "")))

    @property
    def version(self) -> str | None:
        version = self.data.get("version")
        return version if isinstance(version, str) else None

    @property
    def groups(self) -> set[str]:
        groups = self.data.get("groups")
        return {str(g) for g in groups} if isinstance(groups, list) else {MAIN}

    @property
    def source(self) -> Mapping[str, Any]:
        source = self.data.get("source")
        return source if isinstance(source, dict) else {}

    @property
    def files(self) -> list[Mapping[str, Any]]:
        files = self.data.get("files")
        return [f for f in files if isinstance(f, dict)] if isinstance(files, list) else []

    @property
    def index(self) -> str | None:
        """The package source it comes from (None: PyPI)."""
        url = self.source.get("url")
        if self.source.get("type") == "legacy" and isinstance(url, str):
            return url
        return None

    @property
    def built_from_source(self) -> bool:
        if self.source.get("type") in ("git", "directory", "file", "url"):
            return True
        names = [str(f.get("file", "")) for f in self.files]
        return bool(names) and not any(n.endswith(".whl") for n in names)

    def applies(self, environment: Mapping[str, object], groups: Iterable[str]) -> bool:
        """In one of `groups`, and its marker (per group since lock-version 2.1) holds here."""
        wanted = self.groups & set(groups)
        if not wanted:
            return False
        markers = self.data.get("markers")
        if markers is None:
            return True
        if isinstance(markers, str):
            return marker_holds(markers, environment)
        if isinstance(markers, dict):
            return any(
                marker_holds(str(markers[g]), environment) if g in markers else True for g in wanted
            )
        return True


class PoetryLock:
    def __init__(self, raw: bytes, data: Mapping[str, Any], where: str) -> None:
        self.raw = raw
        self.data = data
        self.where = where
        self.packages = [PoetryLocked(p) for p in data.get("package") or [] if isinstance(p, dict)]

    @classmethod
    def parse(cls, raw: bytes, where: str = LOCK_NAME) -> PoetryLock:
        try:
            data = tomli.loads(raw.decode("utf-8"))
        except (tomli.TOMLDecodeError, UnicodeDecodeError) as e:
            raise LockfileError(f"{where} is not valid TOML: {e}") from e
        if not isinstance(data.get("metadata"), dict):
            raise LockfileError(f"{where} has no [metadata] table: not a Poetry lock file.")
        return cls(raw, data, where)

    def select(self, python_version: str, groups: Iterable[str]) -> list[PoetryLocked]:
        """What `poetry sync` installs here for `groups` (no extras)."""
        environment: dict[str, object] = {**marker_environment(python_version), "extra": ""}
        chosen = list(groups)
        return [
            p
            for p in self.packages
            if p.applies(environment, chosen) and not p.data.get("optional")
        ]

    def versions(self) -> dict[str, str]:
        """name -> version(s) on every platform: what a change report compares."""
        out: dict[str, set[str]] = {}
        for p in self.packages:
            if p.version:
                out.setdefault(p.name, set()).add(p.version)
        return {n: ", ".join(sorted(v)) for n, v in out.items()}

    def locked_for(self, python_version: str) -> dict[str, str]:
        """name -> version for this machine, every group included (for `list`)."""
        environment: dict[str, object] = {**marker_environment(python_version), "extra": ""}
        every = {g for p in self.packages for g in p.groups}
        out: dict[str, str] = {}
        for p in self.packages:
            if p.version and p.applies(environment, every):
                out.setdefault(p.name, p.version)
        return out


def read_poetry_lock(path: Path) -> PoetryLock | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    return PoetryLock.parse(raw, str(path))
