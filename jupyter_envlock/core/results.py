"""What the operations return, and the exact JSON shapes of it.

`to_dict()` is what `--json` prints, what the REST API answers and what the magics render; the
TypedDicts below are those shapes, kept in step with `labextension/src/api.ts`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypedDict

from .project import Project
from .pyproject import ManagerName
from .trust import TrustSource

LockState = Literal["in-sync", "stale", "missing"]
EnvState = Literal["in-sync", "out-of-date", "missing"]
ProjectState = Literal[
    "in-sync", "lock-out-of-date", "env-out-of-date", "no-lock", "no-env", "busy"
]
ChangeKind = Literal["added", "removed", "upgraded", "downgraded"]
EditKind = Literal["added", "replaced", "unchanged", "removed"]


class ProjectDict(TypedDict):
    name: str
    path: str
    kernel_name: str
    manager: ManagerName


class EditDict(TypedDict):
    name: str
    kind: EditKind
    old: str | None
    new: str | None


class ChangeDict(TypedDict):
    name: str
    old: str | None
    new: str | None
    kind: ChangeKind


class EnvDict(TypedDict):
    path: str
    python: str | None
    synced: bool
    noop: bool
    installed: list[str]
    removed: list[str]


class ChangeReportDict(TypedDict):
    project: ProjectDict
    edits: list[EditDict]
    manifest_changed: bool
    lock_changed: bool
    relocked: bool
    changes: list[ChangeDict]
    env: EnvDict | None
    notes: list[str]  # what the command chose on the user's behalf, in a sentence each


class DriftMissingDict(TypedDict):
    name: str
    locked: str


class DriftExtraDict(TypedDict):
    name: str
    installed: str


class DriftChangedDict(TypedDict):
    name: str
    locked: str
    installed: str


class DriftDict(TypedDict):
    missing: list[DriftMissingDict]
    extra: list[DriftExtraDict]
    changed: list[DriftChangedDict]


class WarningDict(TypedDict):
    kind: Literal["widgets"]
    package: str
    installed: str
    supported: str | None  # what the server renders; None: the server has no front end for it
    message: str


class BuildPlanDict(TypedDict):
    packages: int | None
    indexes: list[str]
    source_builds: list[str]
    editable: bool


class TrustDict(TypedDict):
    trusted: bool
    source: TrustSource | None
    plan: BuildPlanDict


class StatusDict(TypedDict):
    project: ProjectDict
    python: str | None
    env_path: str | None
    lock: LockState
    env: EnvState
    state: ProjectState
    busy: bool
    drift: DriftDict
    warnings: list[WarningDict]
    notes: list[str]
    trust: TrustDict | None


class TreePackageDict(TypedDict):
    name: str
    version: str
    direct: bool
    groups: list[str | None]
    required_by: list[str]
    kernel: bool


class TreeDict(TypedDict):
    packages: list[TreePackageDict]
    required_by_known: bool  # false while there is no env to read who requires whom


class OutdatedEntryDict(TypedDict):
    name: str
    group: str | None
    requirement: str
    locked: str
    allowed: str | None  # the newest the manifest's specifiers allow
    latest: str | None  # the newest overall (for this machine's Python)


class OutdatedDict(TypedDict):
    checked: bool
    message: str | None
    outdated: list[OutdatedEntryDict]


class MissingImportDict(TypedDict):
    module: str
    distribution: str
    action: Literal["add", "sync"]
    command: str
    project: str
    kernel_name: str


class _ExtraOf(TypedDict, total=False):
    extra: str  # present for [project.optional-dependencies] entries only


class DependencyDict(_ExtraOf):
    name: str
    requirement: str
    group: str | None
    locked: str | None


@dataclass(frozen=True)
class Edit:
    """What one add/remove did to one requirement, for the report."""

    name: str
    kind: EditKind
    old: str | None
    new: str | None

    def to_dict(self) -> EditDict:
        return {"name": self.name, "kind": self.kind, "old": self.old, "new": self.new}


def no_drift() -> DriftDict:
    return {"missing": [], "extra": [], "changed": []}


def drift_between(
    locked: dict[str, str], installed: dict[str, str], count_extra: bool = True
) -> DriftDict:
    """What the env has that the lock does not say, and the other way round (names normalized);
    without `count_extra`, extra packages are not drift (a shared env, say)."""
    return {
        "missing": [
            {"name": n, "locked": v} for n, v in sorted(locked.items()) if n not in installed
        ],
        "extra": [
            {"name": n, "installed": v}
            for n, v in sorted(installed.items())
            if count_extra and n not in locked
        ],
        "changed": [
            {"name": n, "locked": v, "installed": installed[n]}
            for n, v in sorted(locked.items())
            if n in installed and installed[n] != v
        ],
    }


def project_dict(project: Project, manager: ManagerName) -> ProjectDict:
    return {
        "name": project.name,
        "path": str(project.root),
        "kernel_name": project.kernel_name,
        "manager": manager,
    }


@dataclass(frozen=True)
class Change:
    """One package whose locked version differs between two locks (for this machine)."""

    name: str
    old: str | None
    new: str | None

    @property
    def kind(self) -> ChangeKind:
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        from packaging.version import InvalidVersion, Version

        try:
            return "upgraded" if Version(self.new) > Version(self.old) else "downgraded"
        except InvalidVersion:
            return "upgraded"

    def to_dict(self) -> ChangeDict:
        return {"name": self.name, "old": self.old, "new": self.new, "kind": self.kind}


def diff_versions(old: dict[str, str], new: dict[str, str]) -> list[Change]:
    names = sorted(set(old) | set(new))
    return [Change(n, old.get(n), new.get(n)) for n in names if old.get(n) != new.get(n)]


@dataclass
class EnvReport:
    """What a sync did to the env (`noop`: it was already exact)."""

    path: Path
    python_version: str | None
    noop: bool
    installed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def python(self) -> Path:
        from .environment import python_in

        return python_in(self.path)

    def to_dict(self) -> EnvDict:
        return {
            "path": str(self.path),
            "python": self.python_version,
            "synced": True,
            "noop": self.noop,
            "installed": list(self.installed),
            "removed": list(self.removed),
        }


@dataclass
class ChangeReport:
    project: Project
    manager: ManagerName
    edits: list[Edit] = field(default_factory=list)
    manifest_changed: bool = False
    lock_changed: bool = False
    relocked: bool = False
    changes: list[Change] = field(default_factory=list)
    sync: EnvReport | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> ChangeReportDict:
        return {
            "project": project_dict(self.project, self.manager),
            "edits": [e.to_dict() for e in self.edits],
            "manifest_changed": self.manifest_changed,
            "lock_changed": self.lock_changed,
            "relocked": self.relocked,
            "changes": [c.to_dict() for c in self.changes],
            "env": self.sync.to_dict() if self.sync is not None else None,
            "notes": list(self.notes),
        }


@dataclass
class Status:
    project: Project
    manager: ManagerName
    python: str | None
    env_path: str | None
    lock: LockState
    env: EnvState
    drift: DriftDict = field(default_factory=no_drift)
    busy: bool = False
    warnings: list[WarningDict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the user must know first
    trust: TrustState | None = None  # filled in by core.operations (managers know nothing of it)

    @property
    def state(self) -> ProjectState:
        if self.busy:
            return "busy"
        if self.lock == "missing":
            return "no-lock"
        if self.lock == "stale":
            return "lock-out-of-date"
        if self.env == "missing":
            return "no-env"
        if self.env == "out-of-date":
            return "env-out-of-date"
        return "in-sync"

    def to_dict(self) -> StatusDict:
        return {
            "project": project_dict(self.project, self.manager),
            "python": self.python,
            "env_path": self.env_path,
            "lock": self.lock,
            "env": self.env,
            "state": self.state,
            "busy": self.busy,
            "drift": self.drift,
            "warnings": list(self.warnings),
            "notes": list(self.notes),
            "trust": self.trust.to_dict() if self.trust is not None else None,
        }


@dataclass(frozen=True)
class BuildPlan:
    """What building the env would do, told before a project is trusted: how many packages
    (for this machine; None while there is no lock), from which indexes, which are built from
    source (their build code runs), and whether the project itself is installed editable (its
    build backend runs)."""

    packages: int | None
    indexes: list[str]
    source_builds: list[str]
    editable: bool

    def to_dict(self) -> BuildPlanDict:
        return {
            "packages": self.packages,
            "indexes": list(self.indexes),
            "source_builds": list(self.source_builds),
            "editable": self.editable,
        }

    def describe(self) -> str:
        """One sentence for people deciding whether to trust a project."""
        where = ", ".join(self.indexes) or "the configured package index"
        if self.packages is None:
            parts = [f"resolve its requirements (no lock yet) and install them from {where}"]
        else:
            plural = "" if self.packages == 1 else "s"
            parts = [f"install {self.packages} package{plural} from {where}"]
        if self.source_builds:
            names = ", ".join(self.source_builds)
            parts.append(f"build from source (running their build code): {names}")
        if self.editable:
            parts.append("install the project itself editable (running its build backend)")
        return "Building its environment would " + "; ".join(parts) + "."


@dataclass(frozen=True)
class TrustState:
    """Whether envlock may build and run this project on its own, why, and what that would do."""

    source: TrustSource | None  # None: not trusted
    plan: BuildPlan

    @property
    def trusted(self) -> bool:
        return self.source is not None

    def to_dict(self) -> TrustDict:
        return {"trusted": self.trusted, "source": self.source, "plan": self.plan.to_dict()}


@dataclass(frozen=True)
class Dependency:
    name: str
    requirement: str
    group: str | None
    locked: str | None
    extra: str | None = None  # an optional dependency of this extra (uv, Poetry projects)

    def to_dict(self) -> DependencyDict:
        out: DependencyDict = {
            "name": self.name,
            "requirement": self.requirement,
            "group": self.group,
            "locked": self.locked,
        }
        if self.extra is not None:
            out["extra"] = self.extra
        return out


@dataclass(frozen=True)
class Outdated:
    """Direct dependencies with a newer version on the project's indexes. `checked` is false
    (and `message` says why) when the indexes could not be asked: nothing is known then."""

    checked: bool
    message: str | None
    outdated: list[OutdatedEntryDict] = field(default_factory=list)

    def to_dict(self) -> OutdatedDict:
        return {
            "checked": self.checked,
            "message": self.message,
            "outdated": [dict(e) for e in self.outdated],  # type: ignore[misc]
        }
