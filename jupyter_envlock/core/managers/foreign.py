"""PDM and Hatch projects: their dependencies are their tool's; envlock only builds the kernel.

When the tool wrote a pylock.toml (`pdm export -f pylock`, a Hatch env with `locked = true`),
the kernel's env is built from it exactly, in envlock's cache, as for envlock's own projects (and
ipykernel comes from the kernel layer, since such a lock does not list it). The lock is never
re-locked or rewritten, the manifest never edited: add/remove/lock say which tool to use. Without
such a lock, the kernel start says how to make one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from packaging.requirements import Requirement

from .. import environment
from ..errors import LockfileError, UserError
from ..lockfile import Lock
from ..other_tools import OtherTool, project_advice
from ..progress import Progress, ProgressEvent
from ..pyproject import StalePolicy
from ..results import BuildPlan, ChangeReport, LockState, Status
from .pylock import PylockManager, read_or_none, source_builds_allowed


class NotManagedHere(UserError):
    """A change envlock leaves to the project's own tool (PDM, Hatch)."""


class ForeignLockManager(PylockManager):
    """Builds from the pylock.toml another tool wrote; changes nothing of the project."""

    @property
    def tool(self) -> OtherTool:
        return project_advice(self.name, self.lock_path.is_file())  # type: ignore[arg-type]

    def notes(self) -> list[str]:
        return [self.tool.summary]

    def lock_state(self) -> LockState:
        """Only its tool can tell whether its lock is current: present is as good as it gets."""
        return "in-sync" if self.lock_path.is_file() else "missing"

    def status(self) -> Status:
        status = super().status()
        status.lock = self.lock_state()
        status.notes = self.notes()
        return status

    def fast_sync(self) -> ChangeReport | None:
        """Synced from this very lock (only its tool can tell whether it is current)."""
        raw = read_or_none(self.lock_path)
        pyproject = self.project.pyproject
        if raw is None or pyproject is None:
            return None
        return self._noop_if_synced(raw, pyproject)

    def sync(self, stale: StalePolicy | None, progress: Progress) -> ChangeReport:
        if not self.lock_path.is_file():
            raise NotManagedHere(f"{self.project.root} is a {self.tool.summary}")
        pyproject = self._pyproject()
        lock = Lock.load(self.lock_path)  # validated: a lock no installer accepts is refused
        try:
            _ = lock.pylock.packages
        except LockfileError as e:
            raise LockfileError(f"{e.message} ({self.tool.label}'s lock)") from e
        env, interp = environment.plan(
            self.project, pyproject.requires_python, pyproject.settings.python
        )
        progress(
            ProgressEvent("install", f"Building from the pylock.toml of this {self.tool.label}")
        )
        report = self.report()
        request = environment.SyncRequest(
            lock_sha256=lock.sha256,
            editable=False,  # the project itself is its tool's to build
            allow_source_builds=source_builds_allowed(pyproject),
            locked_names=[p.name for p in lock.packages()],
            allow_removals=self.allow_removals,
        )
        report.sync = environment.sync(self.project, env, interp, request, progress)
        return report

    def build_plan(self) -> BuildPlan:
        return replace(super().build_plan(), editable=False)  # the project itself: not built

    def _refuse(self) -> ChangeReport:
        raise NotManagedHere(
            f"{self.project.root} is a {self.tool.label}: its dependencies are changed with its "
            f"own tool. {self.tool.advice}"
        )

    def add(
        self,
        requirements: Sequence[Requirement],
        group: str | None,
        sync: bool,
        progress: Progress,
        constraints: Sequence[str] = (),
        extra: str | None = None,
    ) -> ChangeReport:
        return self._refuse()

    def remove(
        self,
        names: Sequence[str],
        group: str | None,
        sync: bool,
        progress: Progress,
        extra: str | None = None,
    ) -> ChangeReport:
        return self._refuse()

    def lock(
        self,
        upgrade: bool,
        upgrade_packages: Sequence[str],
        progress: Progress,
        exclude_newer: str | None = None,
    ) -> ChangeReport:
        return self._refuse()

    def upgrade(self, names: Sequence[str], all: bool, progress: Progress) -> ChangeReport:
        return self._refuse()


class PdmManager(ForeignLockManager):
    name = "pdm"


class HatchManager(ForeignLockManager):
    name = "hatch"
