"""What a user can ask of a project: add, remove, lock, sync, status, list, export.

The one facade every front end calls (CLI, magics, REST, kernel start). It finds the project,
validates the input, asks the project's manager (`core.managers`) and serializes every change on
the project's file lock. What each manager does is in its own module.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .atomic import project_lock
from .errors import ManifestError
from .managers import Manager, manager_for
from .progress import Progress, no_progress
from .project import ProjectRef, find_project
from .pyproject import StalePolicy
from .requirements import normalize_group, parse_requirement
from .results import ChangeReport, Dependency, Status


def manager(path: ProjectRef) -> Manager:
    """The manager of the project at or above `path`."""
    return manager_for(find_project(path))


def add(
    path: ProjectRef,
    specs: Sequence[str],
    group: str | None = None,
    sync: bool = True,
    progress: Progress = no_progress,
) -> ChangeReport:
    requirements = [parse_requirement(s) for s in specs]
    if not requirements:
        raise ManifestError("Name at least one requirement to add.")
    group = normalize_group(group)
    owner = manager_for(find_project(path, create=True))
    with project_lock(owner.project.file_lock_path):
        return owner.add(requirements, group, sync, progress)


def remove(
    path: ProjectRef,
    names: Sequence[str],
    group: str | None = None,
    sync: bool = True,
    progress: Progress = no_progress,
) -> ChangeReport:
    if not names:
        raise ManifestError("Name at least one dependency to remove.")
    group = normalize_group(group)
    owner = manager(path)
    with project_lock(owner.project.file_lock_path):
        return owner.remove(names, group, sync, progress)


def lock(
    path: ProjectRef,
    upgrade: bool = False,
    upgrade_packages: Sequence[str] = (),
    progress: Progress = no_progress,
) -> ChangeReport:
    owner = manager(path)
    with project_lock(owner.project.file_lock_path):
        return owner.lock(upgrade, upgrade_packages, progress)


def sync(
    path: ProjectRef, progress: Progress = no_progress, stale: StalePolicy | None = None
) -> ChangeReport:
    """Bring the env in line with the lock; re-lock first when the manifest moved on.

    `stale="error"` (or `[tool.envlock] on-stale-lock = "error"`) refuses a stale lock instead,
    as `uv sync --locked` does. In sync, this costs a few small file reads and no process.
    """
    owner = manager(path)
    fast = owner.fast_sync()
    if fast is not None:
        return fast
    with project_lock(owner.project.file_lock_path):
        return owner.sync(stale, progress)


def status(path: ProjectRef) -> Status:
    return manager(path).status()


def list_dependencies(path: ProjectRef) -> list[Dependency]:
    return manager(path).dependencies()


def environment_python(path: ProjectRef) -> Path:
    return manager(path).env_python()


def export_requirements(path: ProjectRef) -> str:
    """A hash-pinned requirements.txt from the lock, for tools that do not read pylock.toml."""
    return manager(path).export_requirements()
