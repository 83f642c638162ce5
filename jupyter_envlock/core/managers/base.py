"""The interface every project manager implements.

Reading methods run no process and take no lock: the panel polls them. Changing methods are called
by `core.operations` with the project's file lock held, after the input has been validated; each
either completes or leaves manifest, lock and env as they were.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from ..errors import ManifestError
from ..progress import Progress
from ..project import Project
from ..pyproject import ManagerName, StalePolicy
from ..results import BuildPlan, ChangeReport, Dependency, LockState, Status

if TYPE_CHECKING:
    from packaging.requirements import Requirement


class Manager(ABC):
    """How one kind of project is locked and synced."""

    name: ClassVar[ManagerName]
    lock_file: ClassVar[str]
    # The user said yes to an exact sync removing packages from an existing env that envlock did
    # not create (`--allow-removals`); set by core.operations for one command. Envs envlock made
    # for the project are exact-synced without asking.
    allow_removals: bool = False

    def __init__(self, project: Project) -> None:
        self.project = project

    @property
    def lock_path(self) -> Path:
        return self.project.root / self.lock_file

    def report(self, **fields: object) -> ChangeReport:
        return ChangeReport(self.project, self.name, **fields)  # type: ignore[arg-type]

    # -- reading: no process, no lock ---------------------------------------------------------

    @abstractmethod
    def lock_state(self) -> LockState:
        """Whether the lock is there and still matches the manifest."""

    @abstractmethod
    def status(self) -> Status:
        """Manifest vs lock vs env."""

    @abstractmethod
    def dependencies(self) -> list[Dependency]:
        """Direct dependencies with the versions locked for this machine."""

    @abstractmethod
    def locked_versions(self) -> dict[str, str]:
        """name -> version of every package locked for this machine (empty without a lock)."""

    @abstractmethod
    def env_python(self) -> Path:
        """The Python of the project's env (which must exist)."""

    @abstractmethod
    def fast_sync(self) -> ChangeReport | None:
        """The milliseconds path of `sync`: a report when nothing needs doing, else None."""

    def state_inputs(self) -> list[Path] | None:
        """The files and folders whose stat (mtime, size, inode) decides `status()` apart from
        `busy`: while none of them changes, the state a moment ago still holds (the project
        list of a large root keeps states by it). None: no such list (the state is computed
        every time)."""
        return None

    @abstractmethod
    def build_plan(self) -> BuildPlan:
        """What building the env would install and run (read from the files, nothing run)."""

    @abstractmethod
    def export_requirements(self) -> str:
        """A hash-pinned requirements.txt of the lock (a user's command: it may run the tool)."""

    def export_pylock(self) -> str:
        """The lock as a PEP 751 pylock.toml, for tools that read one."""
        raise ManifestError(
            f"{self.lock_path} cannot be exported as a pylock.toml; use --format requirements."
        )

    def notes(self) -> list[str]:
        """What the user must know before this project works here (e.g. a missing tool)."""
        return []

    @abstractmethod
    def newest_versions(
        self,
        requirements: Sequence[str],
        exclude_newer: bool = True,
        only_binary: bool = False,
    ) -> dict[str, str]:
        """name -> the newest version the project's indexes have for each requirement on its
        own, for this machine's Python (`exclude_newer`: within the project's exclude-newer
        date; `only_binary`: wheels only). Asks the indexes now, never a cache; raises the
        runner's errors when they cannot be asked."""

    # -- changing: called with the project's file lock held -----------------------------------

    @abstractmethod
    def add(
        self,
        requirements: Sequence[Requirement],
        group: str | None,
        sync: bool,
        progress: Progress,
        constraints: Sequence[str] = (),
        extra: str | None = None,
    ) -> ChangeReport:
        """Add (or replace) requirements, re-lock, sync: to the main list, a group, or
        (`extra`) an extra of the project. Each is written as typed (`requirements.written`);
        one with no version is recorded with its locked version as bound, as the project's
        add-bounds says (`requirements.with_bound`). `constraints` limit what the resolution
        may pick without being recorded anywhere."""

    @abstractmethod
    def remove(
        self,
        names: Sequence[str],
        group: str | None,
        sync: bool,
        progress: Progress,
        extra: str | None = None,
    ) -> ChangeReport: ...

    @abstractmethod
    def lock(
        self,
        upgrade: bool,
        upgrade_packages: Sequence[str],
        progress: Progress,
        exclude_newer: str | None = None,
    ) -> ChangeReport:
        """Re-lock. Every resolution honours the project's exclude-newer date (the manifest's
        setting, or one a `lock --exclude-newer DATE` recorded in the lock); `exclude_newer`
        sets that date, "none" drops it."""

    @abstractmethod
    def upgrade(self, names: Sequence[str], all: bool, progress: Progress) -> ChangeReport:
        """Re-lock moving only `names` (every package with `all`) to the newest versions the
        manifest allows, then sync; on failure manifest, lock and env stay as they were."""

    @abstractmethod
    def sync(self, stale: StalePolicy | None, progress: Progress) -> ChangeReport:
        """Make the env exactly the lock; re-lock first when the manifest moved on, unless
        `stale` (or the project's on-stale-lock) is "error"."""
