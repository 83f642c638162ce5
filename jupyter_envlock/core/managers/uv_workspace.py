"""Whether a project is a member of a uv workspace: a few file reads above it.

Kept apart from the uv manager because every project's manager detection asks it (a pylock
project's `status` included), and the manager itself imports uv's runner, tomlkit and
packaging's parsers.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ManifestError
from ..project import Project
from ..pyproject import MANIFEST, PyProject

LOCK_NAME = "uv.lock"


def workspace_root(project_root: Path) -> Path | None:
    """The uv workspace `project_root` is a member of (the nearest folder above it whose
    `[tool.uv.workspace] members` globs name it and whose `exclude` does not), else None."""
    for folder in project_root.parents:
        manifest = folder / MANIFEST
        if not manifest.is_file():
            continue
        try:
            pyproject = PyProject.read(manifest)
        except (OSError, ManifestError):
            continue
        workspace = workspace_table(pyproject)
        if workspace is None:
            continue
        if _globbed(folder, workspace.get("members"), project_root) and not _globbed(
            folder, workspace.get("exclude"), project_root
        ):
            return folder
    return None


def workspace_table(pyproject: PyProject) -> dict[str, object] | None:
    uv = pyproject.data.get("tool", {}).get("uv")
    workspace = uv.get("workspace") if isinstance(uv, dict) else None
    return workspace if isinstance(workspace, dict) else None


def _globbed(root: Path, patterns: object, target: Path) -> bool:
    if not isinstance(patterns, list):
        return False
    for pattern in patterns:
        if not isinstance(pattern, str) or Path(pattern).is_absolute() or ".." in pattern:
            continue
        try:
            if any(match.resolve() == target for match in root.glob(pattern)):
                return True
        except (OSError, ValueError):
            continue
    return False


def is_uv_workspace_member(project: Project) -> bool:
    """A member of a uv workspace (its lock is the workspace root's uv.lock)."""
    root = workspace_root(project.root)
    return root is not None and (root / LOCK_NAME).is_file()
