"""uv projects: pyproject.toml + uv.lock, the env uv itself uses, every change made through uv.

The env is the one `uv run` in a terminal uses (`.venv` at the project's or workspace's root, or
`UV_PROJECT_ENVIRONMENT`), synced exactly with the default groups by one `uv sync`, which first
re-locks a manifest edited by hand (what `uv lock` would, keeping versions; `uv sync --locked`
refuses instead under on-stale-lock = "error") and otherwise installs the lock as `uv sync
--frozen` does. uv runs in the
project folder with the user's own settings, so the project's `[tool.uv]`/`uv.toml` apply as in a
terminal, and never with `--python` (uv takes the interpreter from `.python-version`; passing
another one makes the terminal and the kernel recreate each other's env). envlock edits
pyproject.toml itself (uv's own `add` reformats arrays and line endings), then lets `uv lock`
lock, which keeps every other version.

A workspace shares one uv.lock and one .venv at its root; each member is a project (a kernel) of
its own, synced like `uv run` does (`--package NAME --inexact`) so that two members' kernels do
not uninstall each other's packages.

Reading methods start no process: they read uv.lock in-process (`uvlock.py`) and the record of
the last sync (`synced.py`).
"""

from __future__ import annotations

import os
import platform
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .. import index_query
from ..atomic import is_busy, write_bytes_atomic
from ..environment import (
    EnvInfo,
    install_progress,
    installed_distributions,
    python_in,
    pyvenv_version,
    site_packages,
)
from ..errors import LockfileError, ManifestError, StaleLockError, ToolError
from ..indexes import default_indexes, strip_credentials
from ..manifest import Manifest, is_same_requirement
from ..progress import Progress, ProgressEvent
from ..project import Project
from ..pyproject import MANIFEST, PyProject, StalePolicy
from ..requirements import TypedRequirement, is_bare, parse_requirement, with_bound, written
from ..results import (
    BuildPlan,
    ChangeReport,
    Dependency,
    DriftDict,
    Edit,
    EditKind,
    EnvReport,
    EnvState,
    LockState,
    Status,
    diff_versions,
    drift_between,
    no_drift,
)
from ..runner import ToolResult, run_uv
from .base import Manager
from .edits import bound_version, listed_dependencies, remove_one
from .pylock import read_or_none
from .synced import SyncRecord, refuse_linked_env
from .uv_workspace import LOCK_NAME, workspace_root, workspace_table
from .uvlock import UvLock, read_uv_lock

ENV_VARIABLE = "UV_PROJECT_ENVIRONMENT"
_STALE = "needs to be updated"
_PYTHON_VERSION = re.compile(r"^\s*(\d+\.\d+(?:\.\d+)?)\s*$", re.MULTILINE)


class UvManager(Manager):
    name = "uv"
    lock_file = LOCK_NAME

    def __init__(self, project: Project) -> None:
        super().__init__(project)
        self.workspace = workspace_root(project.root)
        self.record = SyncRecord(project.state_dir)

    # -- where things are ----------------------------------------------------------------------

    @property
    def lock_root(self) -> Path:
        """Where uv.lock and .venv live: the workspace root, else the project."""
        return self.workspace or self.project.root

    @property
    def lock_path(self) -> Path:
        return self.lock_root / LOCK_NAME

    @property
    def env_dir(self) -> Path:
        """`.venv` at the lock root, or UV_PROJECT_ENVIRONMENT (a relative one is taken from
        the lock root, as uv does)."""
        configured = os.environ.get(ENV_VARIABLE)
        if configured:
            path = Path(configured).expanduser()
            return path if path.is_absolute() else self.lock_root / path
        return self.lock_root / ".venv"

    @property
    def in_workspace(self) -> bool:
        """Part of a workspace with members (a member, or the root of one)."""
        if self.workspace is not None:
            return True
        pyproject = self.project.pyproject
        return pyproject is not None and workspace_table(pyproject) is not None

    def _pyproject(self) -> PyProject:
        pyproject = self.project.pyproject
        if pyproject is None:
            raise ManifestError(f"{self.project.manifest_path} does not exist.")
        return pyproject

    def _files(self) -> list[Path]:
        """The files a sync depends on (any hand edit of them means: ask uv again)."""
        files = [self.project.manifest_path, self.lock_path, self.lock_root / ".python-version"]
        if self.workspace is not None:
            files.append(self.workspace / MANIFEST)
        files.append(self.lock_root / "uv.toml")
        return files

    def _fingerprint(self) -> dict[str, Any]:
        settings = {ENV_VARIABLE: os.environ.get(ENV_VARIABLE), "args": self._sync_args()}
        return self.record.fingerprint(self._files(), self.env_dir, settings)

    def _python_version(self) -> str:
        """The env's Python (markers in the universal lock depend on it), else the one uv would
        pick from .python-version, else this one."""
        version = pyvenv_version(self.env_dir)
        if version:
            return version
        try:
            text = (self.lock_root / ".python-version").read_text(encoding="utf-8")
        except OSError:
            text = ""
        match = _PYTHON_VERSION.search(text)
        return match.group(1) if match else platform.python_version()

    def _default_groups(self, pyproject: PyProject) -> list[str]:
        uv = pyproject.data.get("tool", {}).get("uv")
        chosen = uv.get("default-groups") if isinstance(uv, dict) else None
        if chosen == "all":
            return list(pyproject.groups)
        if isinstance(chosen, list):
            return [str(g) for g in chosen]
        return ["dev"]

    def _roots(self, lock: UvLock) -> list[str]:
        pyproject = self._pyproject()
        if pyproject.name:
            return [pyproject.name]
        members = lock.data.get("manifest", {}).get("members")
        return [str(m) for m in members] if isinstance(members, list) else []

    def _read_lock(self) -> UvLock | None:
        return read_uv_lock(self.lock_path)

    # -- reading -------------------------------------------------------------------------------

    def lock_state(self) -> LockState:
        pyproject = self._pyproject()
        try:
            lock = self._read_lock()
        except LockfileError:
            return "stale"
        if lock is None:
            return "missing"
        if self.record.files_match(self._fingerprint()):
            return "in-sync"  # uv checked these very files at the last sync
        return "in-sync" if lock.records(pyproject) else "stale"

    def status(self) -> Status:
        lock_state = self.lock_state()
        env = self.env_dir
        python = pyvenv_version(env)
        drift = no_drift()
        env_state: EnvState
        if not (env / "pyvenv.cfg").is_file():
            env_state = "missing"
        else:
            lock = _lenient(self.lock_path)
            if lock is not None:
                drift = self._drift(lock)
            env_state = "out-of-date" if lock is None or any(drift.values()) else "in-sync"
        return Status(
            self.project,
            self.name,
            python,
            str(env),
            lock_state,
            env_state,
            drift,
            busy=is_busy(self.project.file_lock_path),
        )

    def _drift(self, lock: UvLock) -> DriftDict:
        pyproject = self._pyproject()
        selected = lock.select(
            self._roots(lock), self._python_version(), self._default_groups(pyproject)
        )
        locked = {e.name: e.version for e in selected if e.version and not e.is_local}
        installed = installed_distributions(self.env_dir)
        for entry in lock.entries:
            if entry.is_local:
                installed.pop(entry.name, None)  # the project and workspace members
        # A workspace's .venv holds every member's packages: not drift for one of them.
        return drift_between(locked, installed, count_extra=not self.in_workspace)

    def dependencies(self) -> list[Dependency]:
        pyproject = self._pyproject()
        lock = _lenient(self.lock_path)
        versions: dict[str, str] = {}
        if lock is not None:
            extras = _optional_names(pyproject)
            every = lock.select(
                self._roots(lock), self._python_version(), list(pyproject.groups), extras
            )
            versions = {e.name: e.version for e in every if e.version and not e.is_local}
        return listed_dependencies(pyproject, versions, extras=True)

    def env_python(self) -> Path:
        env = EnvInfo(self.env_dir, pyvenv_version(self.env_dir))
        if not env.exists:
            raise ManifestError(
                f"{self.project.root} has no environment yet ({self.env_dir}); run "
                "`jupyter envlock sync` (or `uv sync`)."
            )
        return env.python

    def state_inputs(self) -> list[Path] | None:
        """The files a sync depends on, envlock's record of the last sync, and the env: its
        pyvenv.cfg and packages. None without a lock (the plan then comes from uv's settings)."""
        if not self.lock_path.is_file():
            return None
        env = self.env_dir
        return [*self._files(), self.record.path, env / "pyvenv.cfg", *site_packages(env)]

    def fast_sync(self) -> ChangeReport | None:
        if not self.record.matches(self._fingerprint(), self.env_dir):
            return None
        return self.report(sync=EnvReport(self.env_dir, pyvenv_version(self.env_dir), noop=True))

    def build_plan(self) -> BuildPlan:
        pyproject = self._pyproject()
        lock = _lenient(self.lock_path)
        if lock is None:
            indexes = [strip_credentials(str(i["url"])) for i in pyproject.uv_indexes]
            return BuildPlan(None, indexes + default_indexes(), [], pyproject.has_build_system)
        selected = lock.select(
            self._roots(lock), self._python_version(), self._default_groups(pyproject)
        )
        own = lock.entry(pyproject.name) if pyproject.name else None
        others = [e for e in selected if own is None or e.data is not own.data]
        indexes = sorted({strip_credentials(e.registry) for e in others if e.registry})
        # path and editable sources (workspace members too) run their build backends
        built = sorted(e.name for e in others if e.built_from_source or e.is_local)
        editable = own is not None and "editable" in own.source
        return BuildPlan(len(others), indexes, built, editable)

    def export_requirements(self) -> str:
        """`uv export`: uv's own universal, hash-pinned requirements.txt of uv.lock."""
        args = ["export", "--frozen", "--format", "requirements-txt", "--no-header", "--quiet"]
        if self.workspace is not None and self.project.pyproject and self.project.pyproject.name:
            args += ["--package", canonicalize_name(self.project.pyproject.name)]
        result = self._uv(args)
        head = "# Exported by jupyter-envlock from uv.lock (uv export); install with\n"
        head += "#   pip install --require-hashes -r requirements.txt\n"
        return head + result.stdout

    def export_pylock(self) -> str:
        """`uv export --format pylock.toml`: a PEP 751 lock of uv.lock, for tools that read one."""
        args = ["export", "--frozen", "--format", "pylock.toml", "--no-header", "--quiet"]
        return self._uv(args).stdout

    # -- changing ------------------------------------------------------------------------------

    def _uv(self, args: Sequence[str], on_line: Callable[[str], None] | None = None) -> ToolResult:
        """uv as the user's terminal runs it: in the project folder, the user's settings and
        the project's own configuration, no index settings of envlock's."""
        return run_uv(args, cwd=self.project.root, on_line=on_line, envlock_indexes=False)

    def _sync_args(self, locked: bool = False) -> list[str]:
        """`uv sync` as a kernel needs it: the lock made current first (or, `locked`, refused
        when it is not), then the env exact; a workspace member's as `uv run` does it."""
        args = ["sync", "--locked"] if locked else ["sync"]
        if self.in_workspace:
            args.append("--inexact")
            name = self.project.pyproject.name if self.project.pyproject else None
            if self.workspace is not None and name:
                args += ["--package", canonicalize_name(name)]
        return args

    def add(
        self,
        requirements: Sequence[Requirement],
        group: str | None,
        sync: bool,
        progress: Progress,
        constraints: Sequence[str] = (),
        extra: str | None = None,
    ) -> ChangeReport:
        """As `uv add`: each requirement written as typed; a bare one is locked (within any
        `constraints`, which are then not recorded) and recorded with its locked version as
        bound (add-bounds, `>=` by default, as uv does)."""
        manifest = Manifest.load(self.project.manifest_path)
        limits = {canonicalize_name(Requirement(c).name): Requirement(c) for c in constraints}
        report = self.report()
        report.edits = []
        bare: list[Edit] = []
        for req in requirements:
            limit = limits.get(canonicalize_name(req.name))
            edit = manifest.add(
                _within(req, limit) if limit and is_bare(req) else req, group, extra
            )
            report.edits.append(edit)
            if is_bare(req) and edit.kind in ("added", "replaced"):
                bare.append(Edit(edit.name, edit.kind, edit.old, written(req)))
        return self._edit_lock_sync(manifest, report, sync, progress, bound=(bare, group, extra))

    def remove(
        self,
        names: Sequence[str],
        group: str | None,
        sync: bool,
        progress: Progress,
        extra: str | None = None,
    ) -> ChangeReport:
        manifest = Manifest.load(self.project.manifest_path)
        report = self.report()
        report.edits = [remove_one(manifest, name, group, extra, extras=True) for name in names]
        return self._edit_lock_sync(manifest, report, sync, progress)

    def lock(
        self,
        upgrade: bool,
        upgrade_packages: Sequence[str],
        progress: Progress,
        exclude_newer: str | None = None,
    ) -> ChangeReport:
        report = self.report(relocked=True)
        args = ["lock", *_upgrade_args(upgrade, upgrade_packages)]
        if exclude_newer == "none":
            raise ManifestError(
                "A uv project keeps its exclude-newer date in [tool.uv] exclude-newer (and in "
                "uv.lock): remove it there, then lock again."
            )
        if exclude_newer is not None:
            args.append(f"--exclude-newer={exclude_newer}")
        old = read_or_none(self.lock_path)
        self._lock(args, progress)
        self._note_lock_changes(report, old)
        return report

    def upgrade(self, names: Sequence[str], all: bool, progress: Progress) -> ChangeReport:
        """`uv sync --upgrade-package NAME` (or `--upgrade`): re-locks moving only those within
        what the manifest allows, and syncs, in one uv run; the lock is put back on failure."""
        report = self.report(relocked=True)
        old = read_or_none(self.lock_path)
        try:
            report.sync = self._sync_env(progress, more=_upgrade_args(all, names))
        except BaseException:
            _restore(self.lock_path, old)
            raise
        self._note_lock_changes(report, old)
        return report

    def locked_versions(self) -> dict[str, str]:
        """Every package locked for this machine: all groups and extras (a kernel start
        installs the default groups only)."""
        lock = _lenient(self.lock_path)
        if lock is None:
            return {}
        pyproject = self._pyproject()
        every = lock.select(
            self._roots(lock), self._python_version(), list(pyproject.groups),
            _optional_names(pyproject),
        )  # fmt: skip
        return {e.name: e.version for e in every if e.version and not e.is_local}

    def newest_versions(
        self,
        requirements: Sequence[str],
        exclude_newer: bool = True,
        only_binary: bool = False,
    ) -> dict[str, str]:
        """Asked through uv from the project's `[[tool.uv.index]]` (as uv reads them); within
        the project's `[tool.uv] exclude-newer` date when it has one."""
        python = python_in(self.env_dir)
        if not python.exists():
            python = Path(sys.executable)
        pyproject = self._pyproject()
        uv = pyproject.data.get("tool", {}).get("uv")
        as_of = uv.get("exclude-newer") if isinstance(uv, dict) and exclude_newer else None
        return index_query.newest_versions(
            pyproject.uv_indexes,
            requirements,
            python,
            self._python_version(),
            self.project.state_dir,
            exclude_newer=as_of if isinstance(as_of, str) else None,
            only_binary=only_binary,
        )

    def sync(self, stale: StalePolicy | None, progress: Progress) -> ChangeReport:
        """`uv sync`: re-locks a hand-edited manifest first (`uv lock`'s work, keeping
        versions) and makes the env exact, in one uv run; with on-stale-lock = "error" (or
        `stale="error"`), `uv sync --locked` refuses a stale lock instead."""
        pyproject = self._pyproject()
        refuse = (stale or pyproject.settings.on_stale_lock) == "error"
        why = "--locked was given" if stale == "error" else 'on-stale-lock = "error"'
        report = self.report()
        old = read_or_none(self.lock_path)
        if refuse and old is None:
            raise StaleLockError(
                f"{self.lock_path} is missing, and locking on sync is refused ({why}). "
                "Run `uv lock` (or `jupyter envlock lock`) and commit the result."
            )
        try:
            report.sync = self._sync_env(progress, locked=refuse)
        except ToolError as e:
            if not refuse or _STALE not in e.details:
                raise
            raise StaleLockError(
                f"{self.lock_path} is out of date for {self.project.manifest_path}, and "
                f"re-locking on sync is refused ({why}). Run `uv lock` (or `jupyter envlock "
                "lock`) and commit the result.",
                e.details,
            ) from None
        self._note_lock_changes(report, old)
        report.relocked = report.lock_changed
        return report

    def _lock(self, args: Sequence[str], progress: Progress) -> None:
        progress(ProgressEvent("resolve", f"Locking with uv ({LOCK_NAME})"))

        def on_line(line: str) -> None:
            if line.startswith(("Resolved", "Added", "Updated", "Removed")):
                progress(ProgressEvent("resolve", line.strip()))

        self._uv(args, on_line)

    def _note_lock_changes(self, report: ChangeReport, old: bytes | None) -> None:
        new = read_or_none(self.lock_path)
        report.lock_changed = new != old
        before = _lenient_bytes(old)
        after = _lenient_bytes(new)
        report.changes = diff_versions(
            before.all_versions() if before else {}, after.all_versions() if after else {}
        )

    def _sync_env(
        self, progress: Progress, locked: bool = False, more: Sequence[str] = ()
    ) -> EnvReport:
        """`uv sync` (locking first when the manifest moved on; `locked`: refusing to) into
        the project's env; the record of it is written only when no file changed meanwhile
        but the lock uv itself wrote."""
        refuse_linked_env(
            self.env_dir,
            self.lock_root,
            "Remove the link (uv makes a new .venv), or name the env in UV_PROJECT_ENVIRONMENT.",
        )
        before = self._fingerprint()
        self.record.clear()
        progress(ProgressEvent("install", f"Syncing {self.env_dir} with uv ({LOCK_NAME})"))
        result = EnvReport(self.env_dir, None, noop=False)
        on_line = install_progress(progress, result)
        self._uv([*self._sync_args(locked), *more], on_line)
        result.python_version = pyvenv_version(self.env_dir)
        result.noop = not result.installed and not result.removed
        after = self._fingerprint()
        lock = str(self.lock_path)
        if {k: v for k, v in before["files"].items() if k != lock} == {
            k: v for k, v in after["files"].items() if k != lock
        }:
            self.record.write(after, self.env_dir)
        progress(ProgressEvent("done", "Up to date" if result.noop else "Environment ready"))
        return result

    def _edit_lock_sync(
        self,
        manifest: Manifest,
        report: ChangeReport,
        sync: bool,
        progress: Progress,
        bound: tuple[list[Edit], str | None, str | None] = ([], None, None),
    ) -> ChangeReport:
        """Write the edited manifest, lock with uv (recording bare requirements with their
        bound, then locking again, as `uv add` does), sync; any failure puts manifest and lock
        back byte for byte (uv writes no lock when it cannot resolve)."""
        old_lock = read_or_none(self.lock_path)
        if manifest.changed:
            write_bytes_atomic(self.project.manifest_path, manifest.dumps())
        try:
            bare, group, extra = bound
            relock = True
            if bare:  # lock to learn their versions, record the bounds, lock that manifest
                self._lock(["lock"], progress)
                relock = self._record_bounds(manifest, report, bare, group, extra)
                if relock:
                    write_bytes_atomic(self.project.manifest_path, manifest.dumps())
            if sync:
                report.sync = self._sync_env(progress)  # uv sync: locks, then syncs
            elif relock:
                self._lock(["lock"], progress)
            self._note_lock_changes(report, old_lock)
        except BaseException:
            _restore(self.project.manifest_path, manifest.raw)
            _restore(self.lock_path, old_lock)
            raise
        report.manifest_changed = manifest.dumps() != manifest.raw
        return report

    def _record_bounds(
        self,
        manifest: Manifest,
        report: ChangeReport,
        bare: list[Edit],
        group: str | None,
        extra: str | None,
    ) -> bool:
        """What was added bare gets its locked version as bound (add-bounds), in place."""
        bounds = manifest.pyproject.settings.add_bounds
        lock = _lenient(self.lock_path)
        changed = False
        for edit in bare:
            assert edit.new is not None
            versions = lock.versions_of(edit.name) if lock else []
            version = bound_version(versions, bounds)
            text = with_bound(TypedRequirement(edit.new), version, bounds) if version else None
            if text is None:
                continue
            manifest.add(TypedRequirement(text), group, extra)
            for i, shown in enumerate(report.edits):
                if shown.name == edit.name:
                    same = shown.old is not None and is_same_requirement(shown.old, text)
                    kind: EditKind = "unchanged" if same else shown.kind
                    report.edits[i] = Edit(shown.name, kind, shown.old, text)
            changed = True
        return changed


def _upgrade_args(everything: bool, names: Sequence[str]) -> list[str]:
    args = ["--upgrade"] if everything else []
    return args + [
        f"--upgrade-package={canonicalize_name(parse_requirement(n).name)}" for n in names
    ]


def _within(req: Requirement, limit: Requirement) -> Requirement:
    """A bare requirement limited to a constraint's versions, for its first lock only."""
    head, semicolon, marker = written(req).partition(";")
    text = head.rstrip() + str(limit.specifier) + (f"; {marker.strip()}" if semicolon else "")
    return TypedRequirement(text)


def _restore(path: Path, raw: bytes | None) -> None:
    if read_or_none(path) == raw:
        return
    if raw is None:
        path.unlink(missing_ok=True)
    else:
        write_bytes_atomic(path, raw)


def _lenient(path: Path) -> UvLock | None:
    """A lock to show versions from; a broken one shows none."""
    try:
        return read_uv_lock(path)
    except LockfileError:
        return None


def _lenient_bytes(raw: bytes | None) -> UvLock | None:
    if raw is None:
        return None
    try:
        return UvLock.parse(raw)
    except LockfileError:
        return None


def _optional_names(pyproject: PyProject) -> list[str]:
    project = pyproject.data.get("project")
    optional = project.get("optional-dependencies") if isinstance(project, dict) else None
    return [canonicalize_name(str(k)) for k in optional] if isinstance(optional, dict) else []
