"""Which manager a project has, from its files (cheap: a few stat calls and the parsed manifest).

`[tool.envlock] manager` wins. Otherwise: a uv.lock means uv; a poetry.lock, or Poetry dependency
tables, mean Poetry; a member of a uv workspace (whose uv.lock is at the workspace root) means uv;
a `[tool.uv]` table with no other lock means uv when it holds what only uv's project workflow
reads (sources, a workspace, default groups...), not when it holds only settings any uv command
reads (`[[tool.uv.index]]`, which envlock's own flow reads too, `[tool.uv.pip]`, `link-mode`...):
a repository cannot turn envlock's own flow, which never reads them, into uv's, which does; a PDM or Hatch project (pdm.lock,
hatch.toml...) is that tool's, unless its pylock.toml is envlock's own; everything else, and every
project envlock creates, is envlock's own pylock.toml flow.
"""

from __future__ import annotations

from collections.abc import Collection

from ..other_tools import has_foreign_pylock, project_tool
from ..project import LOCKFILE, Project
from ..pyproject import ManagerName
from .uv_workspace import is_uv_workspace_member


def detect_manager(project: Project, available: Collection[str]) -> ManagerName:
    pyproject = project.pyproject
    chosen = pyproject.settings.manager if pyproject is not None else None
    if chosen is not None and chosen in available:
        return chosen
    root = project.root
    tools = pyproject.tools if pyproject is not None else frozenset()
    candidates: list[ManagerName] = []
    if (root / "uv.lock").is_file():
        candidates.append("uv")
    if (root / "poetry.lock").is_file() or _has_poetry_dependencies(project):
        candidates.append("poetry")
    if "uv" not in candidates and is_uv_workspace_member(project):
        candidates.append("uv")
    no_lock = not (root / LOCKFILE).is_file() and not (root / "poetry.lock").is_file()
    if "uv" in tools and no_lock and _has_uv_settings(project):
        candidates.append("uv")
    other = project_tool(root, pyproject)
    if other is not None and (not (root / LOCKFILE).is_file() or has_foreign_pylock(root)):
        candidates.append(other)
    for name in candidates:
        if name in available:
            return name
    return "pylock"


def _has_poetry_dependencies(project: Project) -> bool:
    pyproject = project.pyproject
    if pyproject is None or "poetry" not in pyproject.tools:
        return False
    poetry = pyproject.data.get("tool", {}).get("poetry", {})
    return isinstance(poetry, dict) and ("dependencies" in poetry or "group" in poetry)


# `[tool.uv]` keys that only uv's project interface (uv lock, uv sync, uv run) reads.
UV_PROJECT_KEYS = frozenset(
    {
        "build-constraint-dependencies",
        "conflicts",
        "constraint-dependencies",
        "default-groups",
        "dependency-groups",
        "dev-dependencies",
        "environments",
        "managed",
        "override-dependencies",
        "package",
        "required-environments",
        "sources",
        "workspace",
    }
)


def _has_uv_settings(project: Project) -> bool:
    """`[tool.uv]` holds something only uv's project workflow reads (see the module's doc)."""
    pyproject = project.pyproject
    uv = pyproject.data.get("tool", {}).get("uv", {}) if pyproject is not None else {}
    return isinstance(uv, dict) and any(key in UV_PROJECT_KEYS for key in uv)
