"""What a user can ask of a project: add, remove, lock, sync, status, list, export.

Every mutating operation follows one order: validate input, take the project's file lock, edit the
manifest in memory, resolve into a new lock in memory, then write lock and manifest atomically, then
sync the env. When resolution fails nothing has been written; when the env sync fails the manifest and
lock are put back as they were, so a failed `add` changes nothing.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from . import environment
from .atomic import is_busy, project_lock, write_bytes_atomic
from .environment import EnvInfo, SyncResult
from .errors import LockfileError, ManifestError, NotADependency, StaleLockError
from .lockfile import Lock, compile_lock, manifest_hash, marker_environment, recorded_manifest_hash
from .manifest import Edit, Manifest, normalize_group, parse_requirement
from .progress import Progress, ProgressEvent, no_progress
from .project import Project, ProjectRef, find_project
from .pythons import Interpreter


@dataclass
class Change:
    name: str
    old: str | None
    new: str | None

    @property
    def kind(self) -> str:
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        try:
            return "upgraded" if Version(self.new) > Version(self.old) else "downgraded"
        except InvalidVersion:
            return "upgraded"

    def to_dict(self) -> dict:
        return {"name": self.name, "old": self.old, "new": self.new, "kind": self.kind}


@dataclass
class ChangeReport:
    project: Project
    edits: list[Edit] = field(default_factory=list)
    manifest_changed: bool = False
    lock_changed: bool = False
    relocked: bool = False
    changes: list[Change] = field(default_factory=list)
    sync: SyncResult | None = None

    def to_dict(self) -> dict:
        env = None
        if self.sync is not None:
            env = {
                "path": str(self.sync.env.path),
                "python": self.sync.env.python_version,
                "synced": True,
                "noop": self.sync.noop,
                "installed": self.sync.installed,
                "removed": self.sync.removed,
            }
        return {
            "project": self.project.summary(),
            "edits": [e.__dict__ for e in self.edits],
            "manifest_changed": self.manifest_changed,
            "lock_changed": self.lock_changed,
            "relocked": self.relocked,
            "changes": [c.to_dict() for c in self.changes],
            "env": env,
        }


def _diff(old: dict[str, str], new: dict[str, str]) -> list[Change]:
    names = sorted(set(old) | set(new))
    return [Change(n, old.get(n), new.get(n)) for n in names if old.get(n) != new.get(n)]


class _Session:
    """One operation on one project, under its file lock."""

    def __init__(self, project: Project, progress: Progress) -> None:
        self.project = project
        self.progress = progress
        self.manifest = self._load_manifest()
        self.old_lock_bytes = _read_or_none(project.lock_path)
        self.old_lock = _lenient_lock(self.old_lock_bytes)

    def _load_manifest(self) -> Manifest:
        if self.project.manifest_path.exists():
            return Manifest.load(self.project.manifest_path)
        return Manifest.new(self.project.manifest_path, self.project.root.name)

    @property
    def preferred_python(self) -> str | None:
        value = self.manifest.settings.get("python")
        return str(value) if value else None

    def plan_env(self) -> tuple[EnvInfo, Interpreter]:
        return environment.plan(self.project, self.manifest.requires_python, self.preferred_python)

    def resolve(
        self, interp: Interpreter, upgrade: bool = False, upgrade_packages: Iterable[str] = ()
    ) -> bytes:
        self.progress(ProgressEvent("resolve", "Resolving dependencies"))
        new = compile_lock(
            self.project.root,
            self.manifest,
            interp,
            self.old_lock_bytes if self.old_lock is not None else None,  # broken: no preferences
            self.project.state_dir,
            upgrade=upgrade,
            upgrade_packages=upgrade_packages,
        )
        self.progress(ProgressEvent("resolve", "Resolved"))
        return new

    def write(self, new_lock: Lock, report: ChangeReport, python_version: str) -> None:
        """Lock first, then manifest: if killed between the two, the lock's manifest hash no longer
        matches and the next command re-locks. Changes are reported for this env's Python."""
        where = marker_environment(python_version)
        old = self.old_lock.versions(where) if self.old_lock is not None else {}
        report.changes = _diff(old, new_lock.versions(where))
        if new_lock.raw != self.old_lock_bytes:
            write_bytes_atomic(self.project.lock_path, new_lock.raw)
            report.lock_changed = True
        if self.manifest.changed or not self.project.manifest_path.exists():
            write_bytes_atomic(self.project.manifest_path, self.manifest.dumps())
            report.manifest_changed = True

    def rollback(self) -> None:
        write_bytes_atomic(self.project.manifest_path, self.manifest.raw)
        if self.old_lock_bytes is None:
            self.project.lock_path.unlink(missing_ok=True)
        else:
            write_bytes_atomic(self.project.lock_path, self.old_lock_bytes)

    def sync_env(self, env: EnvInfo, interp: Interpreter, lock: Lock) -> SyncResult:
        result = environment.sync(
            self.project, env, interp, lock.sha256, self.manifest.has_build_system, self.progress
        )
        self.progress(
            ProgressEvent("done", "Environment ready" if not result.noop else "Up to date")
        )
        return result


def _lenient_lock(raw: bytes | None) -> Lock | None:
    """The previous lock, for reporting what changed; a broken one is simply replaced."""
    if raw is None:
        return None
    try:
        return Lock.parse(raw, validate=False)
    except LockfileError:
        return None


def _read_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _edit_lock_sync(
    session: _Session,
    report: ChangeReport,
    sync: bool,
    upgrade: bool = False,
    upgrade_packages: Iterable[str] = (),
) -> ChangeReport:
    env, interp = session.plan_env()
    new_lock = session.resolve(interp, upgrade, upgrade_packages)
    original_manifest_existed = session.project.manifest_path.exists()
    session.write(new_lock, report, str(interp.version))
    if sync:
        try:
            report.sync = session.sync_env(env, interp, new_lock)
        except BaseException:
            if report.manifest_changed or report.lock_changed:
                session.rollback()
                if not original_manifest_existed:
                    session.project.manifest_path.unlink(missing_ok=True)
            raise
    return report


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
    project = find_project(path, create=True)
    with project_lock(project.file_lock_path):
        session = _Session(project, progress)
        report = ChangeReport(project)
        report.edits = [session.manifest.add(r, group) for r in requirements]
        return _edit_lock_sync(session, report, sync)


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
    project = find_project(path)
    with project_lock(project.file_lock_path):
        session = _Session(project, progress)
        report = ChangeReport(project)
        for name in names:
            report.edits.append(_remove_one(session.manifest, name, group))
        return _edit_lock_sync(session, report, sync)


def _remove_one(manifest: Manifest, name: str, group: str | None) -> Edit:
    """Without --group, a name found in exactly one place is removed from there."""
    if group is not None:
        return manifest.remove(name, group)
    canonical = canonicalize_name(name)
    places = [
        g
        for g, reqs in manifest.requirements().items()
        if any(canonicalize_name(parse_requirement(r).name) == canonical for r in reqs)
    ]
    if len(places) > 1:
        shown = ", ".join("dependencies" if g is None else f"group '{g}'" for g in places)
        raise NotADependency(f"'{name}' is listed in {shown}; say which with --group.")
    return manifest.remove(name, places[0] if places else None)


def lock(
    path: ProjectRef,
    upgrade: bool = False,
    upgrade_packages: Sequence[str] = (),
    progress: Progress = no_progress,
) -> ChangeReport:
    project = find_project(path)
    with project_lock(project.file_lock_path):
        session = _Session(project, progress)
        report = ChangeReport(project, relocked=True)
        return _edit_lock_sync(
            session, report, sync=False, upgrade=upgrade, upgrade_packages=upgrade_packages
        )


def lock_is_current(project: Project) -> bool:
    lock_bytes = _read_or_none(project.lock_path)
    if lock_bytes is None:
        return False
    manifest = Manifest.load(project.manifest_path)
    return recorded_manifest_hash(lock_bytes) == manifest_hash(manifest)


def sync(
    path: ProjectRef, progress: Progress = no_progress, stale: str | None = None
) -> ChangeReport:
    """Bring the env in line with the lock; re-lock first when the manifest moved on.

    `stale="error"` (or `[tool.envlock] on-stale-lock = "error"`) refuses a stale lock instead,
    as `uv sync --locked` does.
    """
    project = find_project(path)
    fast = _noop_sync(project)
    if fast is not None:
        return fast
    with project_lock(project.file_lock_path):
        session = _Session(project, progress)
        report = ChangeReport(project)
        policy = stale or session.manifest.settings.get("on-stale-lock", "relock")
        current = session.old_lock_bytes is not None and (
            recorded_manifest_hash(session.old_lock_bytes) == manifest_hash(session.manifest)
        )
        if not current:
            if policy == "error":
                what = "is missing" if session.old_lock_bytes is None else "is out of date"
                why = "--locked was given" if stale == "error" else 'on-stale-lock = "error"'
                raise StaleLockError(
                    f"{project.lock_path} {what} for {project.manifest_path}, and re-locking on "
                    f"sync is refused ({why}). Run `jupyter envlock lock` and commit the result."
                )
            report.relocked = True
            return _edit_lock_sync(session, report, sync=True)
        current_lock = Lock.parse(session.old_lock_bytes or b"", str(project.lock_path))
        env, interp = session.plan_env()
        report.sync = session.sync_env(env, interp, current_lock)
        return report


def _noop_sync(project: Project) -> ChangeReport | None:
    """The milliseconds path: lock current, env marker matches. Reads three small things."""
    lock_bytes = _read_or_none(project.lock_path)
    if lock_bytes is None or not project.manifest_path.exists():
        return None
    try:
        manifest = Manifest.load(project.manifest_path)
    except ManifestError:
        return None
    if recorded_manifest_hash(lock_bytes) != manifest_hash(manifest):
        return None
    env = environment.locate(project, manifest.requires_python)
    from hashlib import sha256

    if env is None or not environment.is_synced(env, sha256(lock_bytes).hexdigest(), project):
        return None
    return ChangeReport(project, sync=SyncResult(env, noop=True))


def environment_python(path: ProjectRef) -> Path:
    project = find_project(path)
    manifest = Manifest.load(project.manifest_path)
    env = environment.locate(project, manifest.requires_python)
    if env is None or not env.exists:
        raise ManifestError(f"{project.root} has no environment yet; run `jupyter envlock sync`.")
    return env.python


@dataclass
class Status:
    project: Project
    python: str | None
    env_path: str | None
    lock: str
    env: str
    drift: dict
    busy: bool = False

    @property
    def state(self) -> str:
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

    def to_dict(self) -> dict:
        return {
            "project": self.project.summary(),
            "python": self.python,
            "env_path": self.env_path,
            "lock": self.lock,
            "env": self.env,
            "state": self.state,
            "busy": self.busy,
            "drift": self.drift,
        }


def status(path: ProjectRef) -> Status:
    project = find_project(path)
    manifest = Manifest.load(project.manifest_path)
    lock_bytes = _read_or_none(project.lock_path)
    lock_obj = Lock.parse(lock_bytes, str(project.lock_path)) if lock_bytes is not None else None
    if lock_obj is None:
        lock_state = "missing"
    elif lock_obj.manifest_hash != manifest_hash(manifest):
        lock_state = "stale"
    else:
        lock_state = "in-sync"
    env = environment.locate(project, manifest.requires_python)
    drift: dict = {"missing": [], "extra": [], "changed": []}
    if env is None or not env.exists:
        env_state = "missing"
    else:
        if lock_obj is not None and env.python_version:
            drift = _drift(lock_obj, env, project, manifest.has_build_system)
        synced = lock_obj is not None and environment.is_synced(env, lock_obj.sha256, project)
        env_state = "in-sync" if synced and not any(drift.values()) else "out-of-date"
    return Status(
        project,
        env.python_version if env else None,
        str(env.path) if env else None,
        lock_state,
        env_state,
        drift,
        busy=is_busy(project.file_lock_path),
    )


def _drift(lock_obj: Lock, env: EnvInfo, project: Project, editable: bool) -> dict:
    locked = lock_obj.versions(marker_environment(env.python_version or ""))
    installed = environment.installed_distributions(env.path)
    if editable:
        installed.pop(project.name, None)
    return {
        "missing": [
            {"name": n, "locked": v} for n, v in sorted(locked.items()) if n not in installed
        ],
        "extra": [
            {"name": n, "installed": v} for n, v in sorted(installed.items()) if n not in locked
        ],
        "changed": [
            {"name": n, "locked": v, "installed": installed[n]}
            for n, v in sorted(locked.items())
            if n in installed and installed[n] != v
        ],
    }


@dataclass
class Dependency:
    name: str
    requirement: str
    group: str | None
    locked: str | None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def list_dependencies(path: ProjectRef) -> list[Dependency]:
    project = find_project(path)
    manifest = Manifest.load(project.manifest_path)
    lock_bytes = _read_or_none(project.lock_path)
    lock_obj = _lenient_lock(lock_bytes)
    versions = lock_obj.versions(_marker_env_for(project, manifest)) if lock_obj else {}
    out = []
    for group, reqs in manifest.requirements().items():
        for text in reqs:
            req = parse_requirement(text)
            name = canonicalize_name(req.name)
            out.append(Dependency(name, str(req), group, versions.get(name)))
    return out


def _marker_env_for(project: Project, manifest: Manifest) -> dict[str, str]:
    """Markers as the project's env sees them (else this interpreter): a universal lock can pin
    other versions for other Pythons, and the user wants the ones their kernel imports."""
    env = environment.locate(project, manifest.requires_python)
    if env is not None and env.python_version:
        return marker_environment(env.python_version)
    return marker_environment(platform.python_version())


def export_requirements(path: ProjectRef) -> str:
    """A hash-pinned requirements.txt from the lock, for tools that do not read pylock.toml."""
    project = find_project(path)
    lock_obj = Lock.load(project.lock_path)
    lines = [
        "# Exported by jupyter-envlock from pylock.toml; install with",
        "#   pip install --require-hashes -r requirements.txt",
    ]
    for pkg in lock_obj.pylock.packages:
        files = list(pkg.wheels or [])
        if pkg.sdist is not None:
            files.append(pkg.sdist)
        line = f"{canonicalize_name(pkg.name)}=={pkg.version}"
        if pkg.marker:
            line += f" ; {pkg.marker}"
        hashes = sorted({f.hashes["sha256"] for f in files if f.hashes and "sha256" in f.hashes})
        lines.append(" \\\n    ".join([line, *(f"--hash=sha256:{h}" for h in hashes)]))
    return "\n".join(lines) + "\n"
