"""The one reader of pyproject.toml for everything that only reads.

Kernel names, discovery, status, the no-op sync and the panel's polling all read the manifest; they
go through `PyProject`: parsed with the standard library's fast TOML reader and validated once, in
one place. Edits go through `manifest.Manifest` (tomlkit), which validates with this same reader.

The manifest comes from a cloned repository: every value used anywhere is checked here first.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast, get_args

import tomli  # TOML's reader on every Python (core/lockfile.py)

from .errors import ManifestError

StalePolicy = Literal["relock", "error"]
# Who owns a project's lock and env. The first three can be chosen in [tool.envlock]; PDM and
# Hatch projects are recognised and built from a pylock.toml they wrote (core/other_tools.py).
ManagerName = Literal["pylock", "uv", "poetry", "pdm", "hatch"]
CHOSEN_MANAGERS: tuple[ManagerName, ...] = ("pylock", "uv", "poetry")
# How a bare `add NAME` is recorded once locked, as uv and Poetry do: `NAME>=<locked>` by default.
AddBounds = Literal[">=", "~=", "==", "none"]

MANIFEST = "pyproject.toml"
# Kernel names: JupyterLab compares them exactly, jupyter_client uses them as folder names.
# A leading letter or digit keeps "." and ".." (and hidden folders) out.
KERNEL_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
# PEP 508 project names and PEP 735 group names share one grammar.
NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
MAX_SHOWN = 80
# Real manifests are a few kB; every read path (status, list, discovery, the panel's polling)
# parses the whole file, so a huge one is refused before it is read.
MAX_MANIFEST_BYTES = 1024 * 1024
MAX_KERNEL_NAME = 100
_SETTING_KEYS = (
    "kernel-name",
    "env",
    "python",
    "on-stale-lock",
    "manager",
    "add-bounds",
    "exclude-newer",
)
# uv's --exclude-newer: a date (the whole day counts) or an RFC 3339 time.
_EXCLUDE_NEWER = re.compile(
    r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$"
)


def short(text: str, limit: int = MAX_SHOWN) -> str:
    """A value from a manifest, cut for an error message."""
    return text if len(text) <= limit else text[:limit] + "..."


def decode_manifest(path: Path, raw: bytes) -> str:
    """UTF-8 text, a byte-order mark allowed (Windows editors write one); else a clear error."""
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ManifestError(f"{path} is not UTF-8 text: {e}") from e


@dataclass(frozen=True)
class Settings:
    """`[tool.envlock]`, checked."""

    kernel_name: str | None = None
    env: str | None = None
    python: str | None = None
    on_stale_lock: StalePolicy = "relock"
    manager: ManagerName | None = None
    add_bounds: AddBounds = ">="
    exclude_newer: str | None = None
    # Packages the lock may build from source (an sdist, a folder, a git checkout): their build
    # code runs at install. Normalized names; every other package installs from wheels only.
    allow_source_builds: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PyProject:
    """What envlock reads from a pyproject.toml, validated."""

    path: Path
    name: str | None  # [project].name, else a classic Poetry project's [tool.poetry].name
    requires_python: str | None
    dependencies: tuple[str, ...]  # [project].dependencies, as written
    groups: Mapping[str, tuple[str, ...]]  # [dependency-groups], as written
    extras: Mapping[str, tuple[str, ...]]  # [project.optional-dependencies], as written
    has_build_system: bool
    settings: Settings
    uv_indexes: tuple[Mapping[str, Any], ...]
    tools: frozenset[str]  # names of the [tool.*] tables present
    data: Mapping[str, Any] = field(repr=False, compare=False)
    # sha256 of the bytes read: what a sync records, so that a later no-op sees an unchanged
    # manifest without parsing its requirements ("" for a manifest built from data alone)
    sha256: str = field(default="", repr=False, compare=False)

    @classmethod
    def read(cls, path: Path) -> PyProject:
        """Read and validate; a missing file raises FileNotFoundError (callers decide)."""
        _refuse_huge(path, path.stat().st_size)
        return cls.parse(path, path.read_bytes())

    @classmethod
    def parse(cls, path: Path, raw: bytes) -> PyProject:
        _refuse_huge(path, len(raw))
        text = decode_manifest(path, raw)
        try:
            data = tomli.loads(text)
        except tomli.TOMLDecodeError as e:
            raise ManifestError(f"{path} is not valid TOML: {e}") from e
        except RecursionError:
            raise ManifestError(f"{path} is not valid TOML: it is nested too deeply.") from None
        return cls.from_data(path, data, hashlib.sha256(raw).hexdigest())

    @classmethod
    def from_data(cls, path: Path, data: Mapping[str, Any], sha256: str = "") -> PyProject:
        project = _table(data, "project", path, "[project]")
        tool = _table(data, "tool", path, "[tool]")
        groups = _table(data, "dependency-groups", path, "[dependency-groups]")
        return cls(
            path=path,
            name=_project_name(project, tool, path),
            requires_python=_requires_python(project, path),
            dependencies=_strings(project.get("dependencies", []), path, "[project].dependencies"),
            groups={
                str(g): _strings(items, path, f"dependency group '{short(str(g))}'")
                for g, items in groups.items()
            },
            extras={
                str(e): _strings(items, path, f"[project.optional-dependencies] {short(str(e))}")
                for e, items in _table(
                    project, "optional-dependencies", path, "[project.optional-dependencies]"
                ).items()
            },
            has_build_system=isinstance(data.get("build-system"), dict),
            settings=_settings(tool, path),
            uv_indexes=_uv_indexes(tool, path),
            tools=frozenset(str(k) for k in tool),
            data=data,
            sha256=sha256,
        )

    def requirements(self) -> dict[str | None, list[str]]:
        """Direct requirements per group (None = [project].dependencies), as written."""
        out: dict[str | None, list[str]] = {None: list(self.dependencies)}
        for group, items in self.groups.items():
            out[group] = list(items)
        return out

    @property
    def dynamic_dependencies(self) -> bool:
        project = self.data.get("project")
        dynamic = project.get("dynamic") if isinstance(project, dict) else None
        return isinstance(dynamic, list) and "dependencies" in dynamic


def _refuse_huge(path: Path, size: int) -> None:
    if size > MAX_MANIFEST_BYTES:
        raise ManifestError(
            f"{path} is {size / 1024 / 1024:.1f} MB; envlock reads manifests of up to "
            f"{MAX_MANIFEST_BYTES // 1024 // 1024} MB (a pyproject.toml is usually a few kB)."
        )


def _table(data: Mapping[str, Any], key: str, path: Path, label: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ManifestError(f"{path}: {label} must be a table.")
    return value


def _strings(value: object, path: Path, label: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ManifestError(f"{path}: {label} must be an array.")
    for item in value:
        if not isinstance(item, str):
            if label.startswith("dependency group") and isinstance(item, dict):
                continue  # PEP 735 {include-group = "..."}: kept, not a requirement
            raise ManifestError(f"{path}: {label} holds {short(repr(item))}, not a string.")
    return tuple(item for item in value if isinstance(item, str))


def _project_name(project: Mapping[str, Any], tool: Mapping[str, Any], path: Path) -> str | None:
    label, name = "[project].name", project.get("name")
    if name is None:
        poetry = tool.get("poetry")
        if isinstance(poetry, dict) and poetry.get("name") is not None:
            label, name = "[tool.poetry].name", poetry.get("name")
    if name is None:
        return None
    if not isinstance(name, str) or not NAME.match(name):
        raise ManifestError(
            f"{path}: {label} {short(str(name))!r} is not a valid project name "
            "(letters, digits, '.', '_', '-'; PEP 508)."
        )
    return name


def _requires_python(project: Mapping[str, Any], path: Path) -> str | None:
    value = project.get("requires-python")
    if value is None:
        return None
    if not isinstance(value, str):
        raise ManifestError(f"{path}: requires-python must be a string.")
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        SpecifierSet(value)
    except InvalidSpecifier as e:
        raise ManifestError(f"{path}: requires-python {short(value)!r} is invalid.") from e
    return value or None


def _settings(tool: Mapping[str, Any], path: Path) -> Settings:
    envlock = tool.get("envlock", {})
    if not isinstance(envlock, dict):
        raise ManifestError(f"{path}: [tool.envlock] must be a table.")
    for key in _SETTING_KEYS:
        value = envlock.get(key)
        if value is not None and not isinstance(value, str):
            raise ManifestError(f"{path}: [tool.envlock] {key} must be a string.")
    kernel = envlock.get("kernel-name") or None
    if kernel is not None and (len(kernel) > MAX_KERNEL_NAME or not KERNEL_NAME.match(kernel)):
        raise ManifestError(
            f"{path}: [tool.envlock] kernel-name {short(kernel)!r} must match "
            f"{KERNEL_NAME.pattern}, at most {MAX_KERNEL_NAME} characters (JupyterLab compares "
            "kernel names exactly; they are folder names too)."
        )
    stale = envlock.get("on-stale-lock") or "relock"
    if stale not in get_args(StalePolicy):
        raise ManifestError(f'{path}: [tool.envlock] on-stale-lock must be "relock" or "error".')
    manager = envlock.get("manager") or None
    if manager is not None and manager not in CHOSEN_MANAGERS:
        choices = ", ".join(f'"{m}"' for m in CHOSEN_MANAGERS)
        raise ManifestError(f"{path}: [tool.envlock] manager must be one of {choices}.")
    bounds = envlock.get("add-bounds") or ">="
    if bounds not in get_args(AddBounds):
        choices = ", ".join(f'"{b}"' for b in get_args(AddBounds))
        raise ManifestError(f"{path}: [tool.envlock] add-bounds must be one of {choices}.")
    exclude_newer = envlock.get("exclude-newer") or None
    if exclude_newer is not None:
        exclude_newer = check_exclude_newer(exclude_newer, f"{path}: [tool.envlock] exclude-newer")
    return Settings(
        kernel_name=kernel,
        env=envlock.get("env") or None,
        python=envlock.get("python") or None,
        on_stale_lock=cast(StalePolicy, stale),
        manager=cast("ManagerName | None", manager),
        add_bounds=cast(AddBounds, bounds),
        exclude_newer=exclude_newer,
        allow_source_builds=_package_names(envlock.get("allow-source-builds", []), path),
    )


def check_exclude_newer(value: str, where: str) -> str:
    """A date (`2026-06-01`, that whole day included, as uv reads it) or an RFC 3339 time."""
    from datetime import date, datetime

    ok = bool(_EXCLUDE_NEWER.match(value))
    if ok:
        try:
            if "T" in value:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
            else:
                date.fromisoformat(value)
        except ValueError:
            ok = False
    if not ok:
        raise ManifestError(
            f"{where} {short(value)!r} is not a date: use YYYY-MM-DD (e.g. 2026-06-01) or an "
            "RFC 3339 time such as 2026-06-01T12:00:00Z."
        )
    return value


def _package_names(value: object, path: Path) -> frozenset[str]:
    label = "[tool.envlock] allow-source-builds"
    if not isinstance(value, list) or not all(isinstance(v, str) and NAME.match(v) for v in value):
        raise ManifestError(f"{path}: {label} must be an array of package names.")
    if not value:  # every manifest is read for it: most name none
        return frozenset()
    from packaging.utils import canonicalize_name

    return frozenset(canonicalize_name(v) for v in value)


def _uv_indexes(tool: Mapping[str, Any], path: Path) -> tuple[Mapping[str, Any], ...]:
    uv = tool.get("uv")
    indexes = uv.get("index") if isinstance(uv, dict) else None
    if indexes is None:
        return ()
    if not isinstance(indexes, list) or not all(
        isinstance(i, dict) and isinstance(i.get("url"), str) for i in indexes
    ):
        raise ManifestError(
            f"{path}: [[tool.uv.index]] must be an array of tables, each with a url."
        )
    return tuple(indexes)
