"""Edits of pyproject.toml that keep every byte the user wrote, except the one requirement changed.

PEP 621 `[project].dependencies` and PEP 735 `[dependency-groups]`, through tomlkit. Files are read and
written as bytes so CRLF survives; the document is only ever edited item by item (assigning a Python
list would drop comments).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import tomlkit
import tomlkit.exceptions
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from tomlkit.items import Array

from .errors import ManifestError, NotADependency, RequirementError
from .project import KERNEL_NAME

MAX_REQUIREMENT_LENGTH = 1000
_GROUP_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
_PROJECT_NAME = _GROUP_NAME  # PEP 508 names and PEP 735 group names share one grammar


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
            f"'{_short(text)}' looks like a command-line option, not a requirement. "
            "Configure indexes in [[tool.uv.index]] instead."
        )
    try:
        req = Requirement(text)
    except InvalidRequirement as e:
        raise RequirementError(f"'{_short(text)}' is not a valid requirement: {e}") from e
    if req.url and req.url.lower().startswith("file:"):
        raise RequirementError(
            f"'{_short(text)}' points at a local file; a shared lock cannot carry machine paths."
        )
    return req


def normalize_group(group: str | None) -> str | None:
    if group is None:
        return None
    if not _GROUP_NAME.match(group):
        raise ManifestError(f"'{_short(group)}' is not a valid dependency group name (PEP 735).")
    return group


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


@dataclass(frozen=True)
class Edit:
    """What one add/remove did to one requirement, for the report."""

    name: str
    kind: str  # "added", "replaced", "unchanged", "removed"
    old: str | None
    new: str | None


class Manifest:
    """A parsed pyproject.toml that remembers its original bytes."""

    def __init__(self, path: Path, raw: bytes, doc: tomlkit.TOMLDocument) -> None:
        self.path = path
        self.raw = raw
        self.doc = doc

    # -- reading -------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path) -> Manifest:
        try:
            raw = path.read_bytes()
        except FileNotFoundError as e:
            raise ManifestError(f"{path} does not exist.") from e
        return cls.from_bytes(path, raw)

    @classmethod
    def from_bytes(cls, path: Path, raw: bytes) -> Manifest:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ManifestError(f"{path} is not UTF-8 text: {e}") from e
        try:
            doc = tomlkit.parse(text)
        except tomlkit.exceptions.TOMLKitError as e:
            raise ManifestError(f"{path} is not valid TOML: {e}") from e
        manifest = cls(path, raw, doc)
        manifest._check_shape()
        return manifest

    @classmethod
    def new(cls, path: Path, name: str) -> Manifest:
        """The minimal manifest written on the first `add` in a folder that has none."""
        safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-._") or "notebooks"
        text = f'[project]\nname = "{safe}"\nversion = "0.1.0"\nrequires-python = ">=3.10"\n'
        text += "dependencies = []\n"
        return cls.from_bytes(path, text.encode())

    def _check_shape(self) -> None:
        project = self.doc.get("project")
        if project is not None and not isinstance(project, dict):
            raise ManifestError(f"{self.path}: [project] must be a table.")
        if project:
            deps = project.get("dependencies")
            if deps is not None and not isinstance(deps, list):
                raise ManifestError(f"{self.path}: [project].dependencies must be an array.")
            for item in deps or []:
                if not isinstance(item, str):
                    raise ManifestError(
                        f"{self.path}: [project].dependencies holds {item!r}, not a string."
                    )
            rp = project.get("requires-python")
            if rp is not None:
                if not isinstance(rp, str):
                    raise ManifestError(f"{self.path}: requires-python must be a string.")
                try:
                    SpecifierSet(rp)
                except InvalidSpecifier as e:
                    raise ManifestError(f"{self.path}: requires-python {rp!r} is invalid.") from e
            name = project.get("name")
            if name is not None and (not isinstance(name, str) or not _PROJECT_NAME.match(name)):
                raise ManifestError(
                    f"{self.path}: [project].name {_short(str(name))!r} is not a valid project "
                    "name (letters, digits, '.', '_', '-'; PEP 508)."
                )
        groups = self.doc.get("dependency-groups")
        if groups is not None:
            if not isinstance(groups, dict):
                raise ManifestError(f"{self.path}: [dependency-groups] must be a table.")
            for gname, items in groups.items():
                if not isinstance(items, list):
                    raise ManifestError(
                        f"{self.path}: dependency group '{gname}' must be an array."
                    )
        tool = self.doc.get("tool")
        if tool is not None and not isinstance(tool, dict):
            raise ManifestError(f"{self.path}: [tool] must be a table.")
        self._check_settings()
        self._check_indexes()

    def _check_settings(self) -> None:
        """[tool.envlock] comes from a cloned repository: check every key before using any."""
        tool = self.doc.get("tool")
        envlock = tool.get("envlock") if isinstance(tool, dict) else None
        if envlock is None:
            return
        if not isinstance(envlock, dict):
            raise ManifestError(f"{self.path}: [tool.envlock] must be a table.")
        for key in ("kernel-name", "env", "python", "on-stale-lock"):
            value = envlock.get(key)
            if value is not None and not isinstance(value, str):
                raise ManifestError(f"{self.path}: [tool.envlock] {key} must be a string.")
        kernel = envlock.get("kernel-name")
        if kernel is not None and not KERNEL_NAME.match(kernel):
            raise ManifestError(
                f"{self.path}: [tool.envlock] kernel-name {_short(kernel)!r} must match "
                "^[a-z0-9._-]+$ (JupyterLab compares kernel names exactly)."
            )
        stale = envlock.get("on-stale-lock")
        if stale is not None and stale not in ("relock", "error"):
            raise ManifestError(
                f'{self.path}: [tool.envlock] on-stale-lock must be "relock" or "error".'
            )

    def _check_indexes(self) -> None:
        tool = self.doc.get("tool")
        uv = tool.get("uv") if isinstance(tool, dict) else None
        indexes = uv.get("index") if isinstance(uv, dict) else None
        if indexes is None:
            return
        if not isinstance(indexes, list) or not all(
            isinstance(i, dict) and isinstance(i.get("url"), str) for i in indexes
        ):
            raise ManifestError(
                f"{self.path}: [[tool.uv.index]] must be an array of tables, each with a url."
            )

    @property
    def project_table(self) -> dict:
        project = self.doc.get("project")
        return project if isinstance(project, dict) else {}

    @property
    def name(self) -> str | None:
        name = self.project_table.get("name")
        return str(name) if name else None

    @property
    def requires_python(self) -> str | None:
        rp = self.project_table.get("requires-python")
        return str(rp) if rp else None

    @property
    def has_build_system(self) -> bool:
        return isinstance(self.doc.get("build-system"), dict)

    @property
    def settings(self) -> dict:
        """[tool.envlock], as plain Python values."""
        tool = self.doc.get("tool")
        envlock = tool.get("envlock") if isinstance(tool, dict) else None
        return envlock.unwrap() if hasattr(envlock, "unwrap") else (envlock or {})

    @property
    def uv_indexes(self) -> list[dict]:
        tool = self.doc.get("tool")
        uv = tool.get("uv") if isinstance(tool, dict) else None
        indexes = uv.get("index") if isinstance(uv, dict) else None
        if not indexes:
            return []
        return [dict(i.unwrap() if hasattr(i, "unwrap") else i) for i in indexes]

    def requirements(self) -> dict[str | None, list[str]]:
        """Direct requirements per group (None = [project].dependencies), as written."""
        out: dict[str | None, list[str]] = {None: [str(r) for r in self._deps_or_empty()]}
        groups = self.doc.get("dependency-groups") or {}
        for gname, items in groups.items():
            out[str(gname)] = [str(i) for i in items if isinstance(i, str)]
        return out

    def _deps_or_empty(self) -> list:
        deps = self.project_table.get("dependencies")
        return list(deps) if deps is not None else []

    # -- editing ---------------------------------------------------------------------------

    def _array(self, group: str | None, create: bool) -> Array | None:
        if group is None:
            project = self.doc.get("project")
            if project is None:
                if not create:
                    return None
                self.doc["project"] = tomlkit.table()
                project = self.doc["project"]
            dynamic = project.get("dynamic") or []
            if "dependencies" in [str(d) for d in dynamic]:
                raise ManifestError(
                    f"{self.path}: [project].dependencies is declared dynamic, so it is computed by "
                    "the build backend and cannot be edited. Use a dependency group (--group) or "
                    "make the dependencies static."
                )
            if "dependencies" not in project:
                if not create:
                    return None
                project["dependencies"] = tomlkit.array()
            return project["dependencies"]
        groups = self.doc.get("dependency-groups")
        if groups is None:
            if not create:
                return None
            self.doc["dependency-groups"] = tomlkit.table()
            groups = self.doc["dependency-groups"]
        if group not in groups:
            if not create:
                return None
            groups[group] = tomlkit.array()
        return groups[group]

    def add(self, req: Requirement, group: str | None = None) -> Edit:
        """Add `req`, or replace the requirement of the same name in place (position, comment)."""
        array = self._array(group, create=True)
        assert array is not None
        name = canonicalize_name(req.name)
        text = str(req)
        for i, existing in enumerate(array):
            if isinstance(existing, str) and _name_of(existing) == name:
                if _same_requirement(str(existing), text):
                    return Edit(name, "unchanged", str(existing), str(existing))
                array[i] = text
                return Edit(name, "replaced", str(existing), text)
        array.append(text)
        return Edit(name, "added", None, text)

    def remove(self, name: str, group: str | None = None) -> Edit:
        canonical = canonicalize_name(name)
        array = self._array(group, create=False)
        where = "[project].dependencies" if group is None else f"dependency group '{group}'"
        if array is not None:
            for i, existing in enumerate(array):
                if isinstance(existing, str) and _name_of(existing) == canonical:
                    _delete_keeping_style(array, i)
                    return Edit(canonical, "removed", str(existing), None)
        raise NotADependency(f"'{name}' is not a direct dependency in {where} of {self.path}.")

    def dumps(self) -> bytes:
        return tomlkit.dumps(self.doc).encode("utf-8")

    @property
    def changed(self) -> bool:
        return self.dumps() != self.raw


def _name_of(requirement_text: str) -> str | None:
    try:
        return canonicalize_name(Requirement(requirement_text).name)
    except InvalidRequirement:
        return None


def _same_requirement(a: str, b: str) -> bool:
    try:
        return str(Requirement(a)) == str(Requirement(b))
    except InvalidRequirement:
        return False


def _delete_keeping_style(array: Array, index: int) -> None:
    """Delete item `index`; when it was the last item and had no trailing comma, the new last item
    loses its comma too, so adding then removing gives back the original bytes."""
    groups = [g for g in getattr(array, "_value", []) if getattr(g, "value", None) is not None]
    was_last_without_comma = (
        index == len(array) - 1 and bool(groups) and getattr(groups[-1], "comma", "") is None
    )
    del array[index]
    if was_last_without_comma and len(array):
        groups = [g for g in array._value if getattr(g, "value", None) is not None]
        groups[-1].comma = None
