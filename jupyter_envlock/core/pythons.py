"""Choosing an interpreter that satisfies requires-python, among those this machine has.

Looked at, cheapest first: the running Python, pyenv's versions (their shims often fail, so the
versions folder is read directly), uv-managed Pythons, then `python3.X` on PATH. Versions come from
folder names where that is reliable; only PATH interpreters are asked, and only when needed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from .errors import PythonNotFound

_VERSION_IN_NAME = re.compile(r"(?:^|cpython-)(\d+\.\d+\.\d+)(?:$|-)")


@dataclass(frozen=True)
class Interpreter:
    path: Path
    version: Version

    @property
    def minor(self) -> str:
        return f"{self.version.major}.{self.version.minor}"


def current() -> Interpreter:
    v = sys.version_info
    base = Path(getattr(sys, "_base_executable", "") or sys.executable)
    return Interpreter(
        base if base.exists() else Path(sys.executable), Version(f"{v[0]}.{v[1]}.{v[2]}")
    )


def _folder_versions(folder: Path, exe: str) -> Iterator[Interpreter]:
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return
    for entry in entries:
        match = _VERSION_IN_NAME.search(entry.name)
        python = entry / exe
        if match and python.exists():
            try:
                yield Interpreter(python, Version(match.group(1)))
            except InvalidVersion:
                continue


def _pyenv() -> Iterator[Interpreter]:
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    yield from _folder_versions(root / "versions", "bin/python3")


def _uv_managed() -> Iterator[Interpreter]:
    data = os.environ.get("UV_PYTHON_INSTALL_DIR") or os.environ.get("XDG_DATA_HOME")
    base = Path(data) if data else Path.home() / ".local" / "share"
    folder = base if os.environ.get("UV_PYTHON_INSTALL_DIR") else base / "uv" / "python"
    exe = "python.exe" if os.name == "nt" else "bin/python3"
    yield from _folder_versions(folder, exe)


def _on_path() -> Iterator[Interpreter]:
    seen: set[Path] = set()
    for minor in range(20, 7, -1):
        found = shutil.which(f"python3.{minor}")
        if not found or "shims" in Path(found).parts:
            continue
        path = Path(found).resolve()
        if path in seen:
            continue
        seen.add(path)
        version = _ask_version(path)
        if version:
            yield Interpreter(path, version)


def _ask_version(path: Path) -> Version | None:
    try:
        out = subprocess.run(
            [str(path), "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        return Version(out)
    except (OSError, subprocess.SubprocessError, InvalidVersion):
        return None


def is_known_interpreter(path: Path) -> bool:
    """Whether `path` (a resolved interpreter) is one of this machine's Pythons: the running
    one, pyenv's, uv's, or a `python3.X` on PATH. Decided from paths alone: nothing is run, so a
    file a repository ships cannot pass by answering the question."""
    target = os.path.realpath(path)
    candidates = [sys.executable, getattr(sys, "_base_executable", "") or sys.executable]
    candidates += [str(i.path) for i in (*_pyenv(), *_uv_managed())]
    for name in ("python3", *(f"python3.{minor}" for minor in range(20, 7, -1))):
        found = shutil.which(name)
        if found and "shims" not in Path(found).parts:
            candidates.append(found)
    return any(os.path.realpath(c) == target for c in candidates if c)


def find_interpreters() -> list[Interpreter]:
    found: dict[Path, Interpreter] = {}
    for interp in (current(), *_pyenv(), *_uv_managed(), *_on_path()):
        found.setdefault(interp.path, interp)
    return list(found.values())


def choose(requires_python: str | None, preferred: str | None = None) -> Interpreter:
    """The running Python when it fits, else the newest that fits; `preferred` ("3.12") wins."""
    spec = SpecifierSet(requires_python or "")
    me = current()
    if preferred is None and spec.contains(me.version, prereleases=True):
        return me
    candidates = [i for i in find_interpreters() if spec.contains(i.version, prereleases=True)]
    if preferred:
        exact = [i for i in candidates if i.minor == preferred or str(i.version) == preferred]
        if exact:
            return max(exact, key=lambda i: i.version)
    if candidates:
        return max(candidates, key=lambda i: i.version)
    seen = ", ".join(f"{i.version} ({i.path})" for i in find_interpreters()) or "none"
    raise PythonNotFound(
        f"requires-python '{requires_python}' is not satisfied by any Python on this machine. "
        f"Found: {seen}. Install a matching Python (for example `uv python install`, or pyenv) "
        "or relax requires-python."
    )


def lock_floor(requires_python: str | None, fallback: Interpreter) -> str:
    """The lowest Python the lock must cover: the floor of requires-python (`>=3.10` -> 3.10)."""
    floors = []
    for spec in SpecifierSet(requires_python or ""):
        if spec.operator in (">=", "~=", "==", "==="):
            try:
                v = Version(spec.version.rstrip(".*"))
            except InvalidVersion:
                continue
            floors.append(v)
        elif spec.operator == ">":
            try:
                v = Version(spec.version)
            except InvalidVersion:
                continue
            floors.append(Version(f"{v.major}.{v.minor + 1}"))
    if not floors:
        return fallback.minor
    low = max(floors)
    return f"{low.major}.{low.minor}"
