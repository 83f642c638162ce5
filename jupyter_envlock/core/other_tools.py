"""Folders of other tools, recognised and named, with what envlock can do with each.

envlock manages its own pylock.toml projects, uv projects and Poetry projects. Other folders a
user opens are told apart instead of being taken for envlock projects:

- a requirements.txt folder (no pyproject.toml) is "not a project yet": `init` makes it one;
- Pipenv (Pipfile) and conda (environment.yml) folders: envlock can do nothing with their locks
  (Pipenv's pylock.toml export lists no environments, so no installer accepts it);
- PDM and Hatch projects (a pyproject.toml, with pdm.lock / hatch.toml...): envlock builds their
  kernel from a pylock.toml that tool wrote (`pdm export -f pylock`, Hatch's locked envs), and
  leaves their dependencies to them.

Cheap: a few stat calls and the parsed manifest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .pyproject import MANIFEST, PyProject

OtherKind = Literal["requirements", "pipenv", "conda", "pdm", "hatch"]
_ENVLOCK_LOCK = re.compile(rb"^\[tool\.envlock\]\s*$", re.MULTILINE)


@dataclass(frozen=True)
class OtherTool:
    kind: OtherKind
    label: str  # as shown: "requirements.txt", "Pipenv", ...
    advice: str  # what envlock can do here, in one or two sentences

    @property
    def summary(self) -> str:
        return f"{self.label}: {self.advice}"


REQUIREMENTS = OtherTool(
    "requirements",
    "requirements.txt",
    "not a project yet. `jupyter envlock init` (or Make it a project in the panel) writes a "
    "pyproject.toml keeping each requirement as written, and locks it.",
)
PIPENV = OtherTool(
    "pipenv",
    "Pipenv project",
    "envlock cannot build from Pipfile.lock (and Pipenv's pylock.toml names no environments, "
    "so no installer accepts it). `pipenv requirements > requirements.txt`, then `jupyter "
    "envlock init`, gives it a pyproject.toml of its own.",
)
CONDA = OtherTool(
    "conda",
    "conda environment",
    "envlock does not manage conda environments; nb_conda_kernels gives them kernels.",
)


def folder_tool(folder: Path) -> OtherTool | None:
    """What a folder without a pyproject.toml is, if envlock knows it."""
    if (folder / MANIFEST).exists():
        return None
    if (folder / "Pipfile").is_file() or (folder / "Pipfile.lock").is_file():
        return PIPENV
    if (folder / "requirements.txt").is_file():
        return REQUIREMENTS
    if (folder / "environment.yml").is_file() or (folder / "environment.yaml").is_file():
        return CONDA
    return None


def has_foreign_pylock(root: Path) -> bool:
    """A pylock.toml that envlock did not write (no [tool.envlock] table in it)."""
    try:
        raw = (root / "pylock.toml").read_bytes()
    except OSError:
        return False
    return _ENVLOCK_LOCK.search(raw) is None


def project_tool(root: Path, pyproject: PyProject | None) -> Literal["pdm", "hatch"] | None:
    """ "pdm" or "hatch" when that tool manages the project's env (not only its build)."""
    tool = pyproject.data.get("tool", {}) if pyproject is not None else {}
    pdm = tool.get("pdm")
    if (
        (root / "pdm.lock").is_file()
        or (root / ".pdm-python").is_file()
        or (isinstance(pdm, dict) and any(k not in ("build", "version") for k in pdm))
    ):
        return "pdm"
    hatch = tool.get("hatch")
    if (root / "hatch.toml").is_file() or (isinstance(hatch, dict) and "envs" in hatch):
        return "hatch"
    return None


def project_advice(kind: OtherKind, has_lock: bool) -> OtherTool:
    """What envlock does for a PDM or Hatch project, with or without a pylock.toml it wrote."""
    if kind == "pdm":
        label, export, change = (
            "PDM project",
            "`pdm export -f pylock -o pylock.toml`",
            "`pdm add NAME`",
        )
    else:
        label, export, change = (
            "Hatch project",
            "`locked = true` in a Hatch environment (Hatch then writes pylock.toml)",
            "Hatch",
        )
    if has_lock:
        advice = (
            f"its kernel is built from the pylock.toml {label.split()[0]} wrote; change its "
            f"dependencies with {change} (envlock leaves them to it), or set [tool.envlock] "
            'manager = "pylock" to let envlock manage the project.'
        )
    else:
        advice = (
            f"envlock builds its kernel from a pylock.toml: run {export}. Or set [tool.envlock] "
            'manager = "pylock" to let envlock lock and manage the project itself.'
        )
    return OtherTool(kind, label, advice)
