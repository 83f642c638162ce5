"""What a user can ask of a project: add, remove, lock, sync, status, list, tree, export.

The one facade every front end calls (CLI, magics, REST, kernel start). It finds the project,
validates the input, asks the project's manager (`core.managers`) and serializes every change on
the project's file lock. What each manager does is in its own module.
"""

from __future__ import annotations

import platform
from collections.abc import Sequence
from pathlib import Path

from .atomic import project_lock
from .environment import pyvenv_version
from .errors import EnvlockError, ManifestError
from .managers import Manager, manager_for
from .progress import Progress, no_progress
from .project import ProjectRef, find_project
from .pyproject import StalePolicy
from .requirements import normalize_group, parse_requirement
from .results import ChangeReport, Dependency, Status
from .tree import Tree, build_tree


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


def tree(path: ProjectRef) -> Tree:
    """Every package locked for this machine and which locked packages require it: read from
    the lock and the env's metadata, no process run."""
    owner = manager(path)
    env_dir, python = _env_of(owner)
    return build_tree(owner.locked_versions(), owner.dependencies(), env_dir, python)


def _env_of(owner: Manager) -> tuple[Path | None, str]:
    """The project's env folder (None while there is none) and the Python its markers use."""
    try:
        env_dir = owner.env_python().parent.parent
    except EnvlockError:
        return None, platform.python_version()
    return env_dir, pyvenv_version(env_dir) or platform.python_version()


def environment_python(path: ProjectRef) -> Path:
    return manager(path).env_python()


def export_requirements(path: ProjectRef) -> str:
    """A hash-pinned requirements.txt from the lock, for tools that do not read pylock.toml."""
    return manager(path).export_requirements()
