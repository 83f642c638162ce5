"""Edits of pyproject.toml that keep every byte the user wrote, except the one requirement changed.

PEP 621 `[project].dependencies` and PEP 735 `[dependency-groups]`, through tomlkit. Files are read and
written as bytes so CRLF survives; the document is only ever edited item by item (assigning a Python
list would drop comments).
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Any, cast

import tomlkit
import tomlkit.exceptions
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from tomlkit.items import Array

from .errors import ManifestError, NotADependency
from .pyproject import PyProject, decode_manifest
from .requirements import written
from .results import Edit


class Manifest:
    """A pyproject.toml open for editing: its original bytes, the tomlkit document, and the
    validated read-only view (`pyproject`) of what it says now."""

    def __init__(
        self, path: Path, raw: bytes, doc: tomlkit.TOMLDocument, read: PyProject | None = None
    ) -> None:
        self.path = path
        self.raw = raw
        self.doc = doc
        self._bom = raw.startswith(codecs.BOM_UTF8)
        self._read = read  # `pyproject` until the next edit (read from `raw` to begin with)

    @classmethod
    def load(cls, path: Path) -> Manifest:
        try:
            raw = path.read_bytes()
        except FileNotFoundError as e:
            raise ManifestError(f"{path} does not exist.") from e
        return cls.from_bytes(path, raw)

    @classmethod
    def from_bytes(cls, path: Path, raw: bytes) -> Manifest:
        read = PyProject.parse(path, raw)  # the same checks as every reader, before any edit
        try:
            doc = tomlkit.parse(decode_manifest(path, raw))
        except tomlkit.exceptions.TOMLKitError as e:
            raise ManifestError(f"{path} is not valid TOML: {e}") from e
        return cls(path, raw, doc, read)

    @classmethod
    def new(cls, path: Path, name: str) -> Manifest:
        """The minimal manifest written on the first `add` in a folder that has none."""
        safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-._") or "notebooks"
        text = f'[project]\nname = "{safe}"\nversion = "0.1.0"\nrequires-python = ">=3.10"\n'
        text += "dependencies = []\n"
        return cls.from_bytes(path, text.encode())

    @classmethod
    def for_new_project(cls, path: Path) -> Manifest:
        """The manifest a folder without one gets: made from its requirements.txt (each
        requirement as written) when it has one, else the minimal one."""
        from . import requirements_txt

        folder = path.parent
        if not (folder / requirements_txt.FILE_NAME).is_file():
            return cls.new(path, folder.name)
        text = requirements_txt.manifest_text(folder.name, requirements_txt.read(folder))
        return cls.from_bytes(path, text.encode())

    @property
    def pyproject(self) -> PyProject:
        """The manifest as it reads now, edits included (read again only after an edit: a
        change asks a dozen times)."""
        if self._read is None:
            self._read = PyProject.parse(self.path, self.dumps())
        return self._read

    # -- editing ---------------------------------------------------------------------------

    def _project(self, create: bool) -> Any:
        """The [project] table (made when `create`), or None."""
        project = self.doc.get("project")
        if project is None and create:
            self.doc["project"] = tomlkit.table()
            project = self.doc["project"]
        return project

    def _array(self, group: str | None, create: bool) -> Array | None:
        if group is None:
            project = self._project(create)
            if project is None:
                return None
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
            return cast(Array, project["dependencies"])
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
        return cast(Array, groups[group])

    def _extra_array(self, extra: str, create: bool) -> Array | None:
        """`[project.optional-dependencies]` EXTRA (an extra: installed only when asked for)."""
        project = self._project(create)
        if project is None:
            return None
        extras = project.get("optional-dependencies")
        if extras is None:
            if not create:
                return None
            project["optional-dependencies"] = tomlkit.table()
            extras = project["optional-dependencies"]
        if extra not in extras:
            if not create:
                return None
            extras[extra] = tomlkit.array()
        return cast(Array, extras[extra])

    def add(self, req: Requirement, group: str | None = None, extra: str | None = None) -> Edit:
        """Add `req`, or replace the requirement of the same name in place (position, comment);
        to a group, or (`extra`) to an extra of [project.optional-dependencies]."""
        self._read = None
        array = self._extra_array(extra, True) if extra else self._array(group, create=True)
        assert array is not None
        name = canonicalize_name(req.name)
        text = written(req)
        for i, existing in enumerate(array):
            if isinstance(existing, str) and _name_of(existing) == name:
                if is_same_requirement(str(existing), text):
                    return Edit(name, "unchanged", str(existing), str(existing))
                array[i] = text
                return Edit(name, "replaced", str(existing), text)
        array.append(text)
        return Edit(name, "added", None, text)

    def remove(self, name: str, group: str | None = None, extra: str | None = None) -> Edit:
        self._read = None
        canonical = canonicalize_name(name)
        if extra:
            array = self._extra_array(extra, create=False)
            where = f"extra '{extra}' of [project.optional-dependencies]"
        else:
            array = self._array(group, create=False)
            where = "[project].dependencies" if group is None else f"dependency group '{group}'"
        if array is not None:
            for i, existing in enumerate(array):
                if isinstance(existing, str) and _name_of(existing) == canonical:
                    _delete_keeping_style(array, i)
                    return Edit(canonical, "removed", str(existing), None)
        raise NotADependency(f"'{name}' is not a direct dependency in {where} of {self.path}.")

    def dumps(self) -> bytes:
        data = tomlkit.dumps(self.doc).encode("utf-8")
        return codecs.BOM_UTF8 + data if self._bom else data

    @property
    def changed(self) -> bool:
        return self.dumps() != self.raw


def _name_of(requirement_text: str) -> str | None:
    try:
        return canonicalize_name(Requirement(requirement_text).name)
    except InvalidRequirement:
        return None


def is_same_requirement(a: str, b: str) -> bool:
    """The same requirement however written (`a>=1,<2` is `a<2,>=1`)."""
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
