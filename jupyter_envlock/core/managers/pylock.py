"""envlock's own flow: pyproject.toml + a universal PEP 751 pylock.toml + a venv envlock manages.

Every change follows one order: edit the manifest in memory, resolve into a new lock in memory,
write lock then manifest atomically, then sync the env. A failed resolution writes nothing; a
failed sync puts manifest and lock back as they were.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from .. import environment
from ..atomic import is_busy, write_bytes_atomic
from ..environment import EnvInfo
from ..errors import (
    FileSystemError,
    LockfileError,
    ManifestError,
    StaleLockError,
    os_error_message,
)
from ..indexes import default_indexes, index_of, strip_credentials
from ..lockfile import (
    KERNEL_REQUIREMENTS,
    ExcludeNewer,
    Lock,
    compile_lock,
    manifest_hash,
    marker_environment,
    recorded_manifest_hash,
)
from ..progress import Progress, ProgressEvent
from ..project import LOCKFILE, cache_dir
from ..pyproject import AddBounds, ManagerName, PyProject, StalePolicy, check_exclude_newer
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
from .base import Manager

if TYPE_CHECKING:
    from packaging.pylock import PackageSdist, PackageWheel
    from packaging.requirements import Requirement

    from ..manifest import Manifest
    from ..pythons import Interpreter

# The reading methods a no-op runs (fast_sync, status, env_python) import nothing beyond this
# module's own imports; what parses requirements, edits the manifest (tomlkit), finds
# interpreters or asks the indexes is imported where it is used.


def read_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def lock_state(pyproject: PyProject, lock: Lock | None, python_version: str) -> LockState:
    """The one answer to "is the lock current?" (sync, status and kernel start ask it).

    Current means: made from this manifest (the recorded hash matches) and, for this machine,
    every direct requirement is locked at a version it allows: a lock that lies about its hash is
    stale too."""
    if lock is None:
        return "missing"
    if lock.manifest_hash != manifest_hash(pyproject):
        return "stale"
    return "in-sync" if lock.satisfies(_requirements(pyproject), python_version) else "stale"


def _requirements(pyproject: PyProject) -> list[Requirement]:
    from ..requirements import parse_requirement

    texts = [r for items in pyproject.requirements().values() for r in items]
    return [parse_requirement(t) for t in (*texts, *KERNEL_REQUIREMENTS)]


def exclude_newer_date(
    pyproject: PyProject, lock: Lock | None, override: str | None = None
) -> ExcludeNewer | None:
    """The date to resolve as of: `lock --exclude-newer DATE` ("none" drops it), else the
    manifest's setting, else one that such a command recorded in the lock."""
    setting = pyproject.settings.exclude_newer
    if override is not None:
        if setting is not None and override != setting:
            raise ManifestError(
                f'{pyproject.path} sets [tool.envlock] exclude-newer = "{setting}"; '
                "change it there rather than with --exclude-newer."
            )
        if override == "none":
            return None
        if setting is None:
            return ExcludeNewer(check_exclude_newer(override, "--exclude-newer"), by_command=True)
    if setting is not None:
        return ExcludeNewer(setting, by_command=False)
    recorded = lock.exclude_newer if lock is not None else None
    return recorded if recorded is not None and recorded.by_command else None


def _valid_lock_or_none(raw: bytes | None, where: Path) -> Lock | None:
    """A lock good enough to keep versions from (uv's preferences) and to diff against; a broken
    or non-PEP 751 one is simply replaced."""
    if raw is None:
        return None
    try:
        return Lock.parse(raw, str(where))
    except LockfileError:
        return None


class PylockManager(Manager):
    name: ClassVar[ManagerName] = "pylock"
    lock_file = LOCKFILE

    # -- reading ------------------------------------------------------------------------------

    def _pyproject(self) -> PyProject:
        pyproject = self.project.pyproject
        if pyproject is None:
            raise ManifestError(f"{self.project.manifest_path} does not exist.")
        return pyproject

    def _env(self, pyproject: PyProject) -> EnvInfo | None:
        return environment.locate(self.project, pyproject.requires_python)

    def lock_state(self) -> LockState:
        pyproject = self._pyproject()
        raw = read_or_none(self.lock_path)
        lock = Lock.parse(raw, str(self.lock_path)) if raw is not None else None
        return lock_state(pyproject, lock, self._python_version(pyproject))

    def _is_current(self) -> bool:
        """The lock is current for the manifest (a broken one is not: `lock` replaces it)."""
        try:
            return self.lock_state() == "in-sync"
        except LockfileError:
            return False

    def _python_version(self, pyproject: PyProject) -> str:
        """The Python the env has (else this one's): markers in a universal lock depend on it."""
        import platform

        env = self._env(pyproject)
        if env is not None and env.python_version:
            return env.python_version
        return platform.python_version()

    def status(self) -> Status:
        pyproject = self._pyproject()
        verified = self._verified_env()
        if verified is not None:  # as its sync left it: nothing to compare
            return Status(
                self.project,
                self.name,
                verified.python_version,
                str(verified.path),
                "in-sync",
                "in-sync",
                no_drift(),
                busy=is_busy(self.project.file_lock_path),
            )
        import platform

        raw = read_or_none(self.lock_path)
        lock = Lock.parse(raw, str(self.lock_path)) if raw is not None else None
        env = self._env(pyproject)
        python = env.python_version if env and env.python_version else platform.python_version()
        drift = no_drift()
        env_state: EnvState
        if env is None or not env.exists:
            env_state = "missing"
        else:
            if lock is not None and env.python_version:
                drift = _drift(lock, env, self.project.name, pyproject.has_build_system)
            synced = lock is not None and environment.is_synced(env, lock.sha256, self.project)
            env_state = "in-sync" if synced and not any(drift.values()) else "out-of-date"
        return Status(
            self.project,
            self.name,
            env.python_version if env else None,
            str(env.path) if env else None,
            lock_state(pyproject, lock, python),
            env_state,
            drift,
            busy=is_busy(self.project.file_lock_path),
        )

    def locked_versions(self) -> dict[str, str]:
        pyproject = self._pyproject()
        lock = _lenient_lock(read_or_none(self.lock_path))
        python = self._python_version(pyproject)
        return lock.versions(marker_environment(python)) if lock else {}

    def dependencies(self) -> list[Dependency]:
        from .edits import listed_dependencies

        pyproject = self._pyproject()
        return listed_dependencies(pyproject, self.locked_versions())

    def env_python(self) -> Path:
        env = self._env(self._pyproject())
        if env is None or not env.exists:
            raise ManifestError(
                f"{self.project.root} has no environment yet; run `jupyter envlock sync`."
            )
        return env.python

    def _synced_env(
        self, raw: bytes, pyproject: PyProject, manifest_sha256: str | None = None
    ) -> EnvInfo | None:
        """The env, when its marker names exactly this lock (and, given `manifest_sha256`,
        these manifest bytes) and it was left as that sync left it."""
        env = self._env(pyproject)
        lock_sha256 = hashlib.sha256(raw).hexdigest()
        if env is None or not environment.is_synced(
            env, lock_sha256, self.project, manifest_sha256
        ):
            return None
        return env

    def _verified_env(self) -> EnvInfo | None:
        """The env, when its marker says it was synced from exactly this lock, for exactly these
        manifest bytes (the lock checked current for them then), and left as that sync left it:
        the manifest, the lock and the marker read, the env's packages listed, nothing parsed
        beyond the manifest. None means "ask the long way"."""
        raw = read_or_none(self.lock_path)
        pyproject = self.project.pyproject
        if raw is None or pyproject is None or not pyproject.sha256:
            return None
        return self._synced_env(raw, pyproject, pyproject.sha256)

    def _noop_if_synced(self, raw: bytes, pyproject: PyProject) -> ChangeReport | None:
        """The no-op report when the env's marker names exactly this lock."""
        env = self._synced_env(raw, pyproject)
        return None if env is None else self._noop(env)

    def _noop(self, env: EnvInfo) -> ChangeReport:
        return self.report(sync=EnvReport(env.path, env.python_version, noop=True))

    def state_inputs(self) -> list[Path] | None:
        """The manifest, the lock, the places an env is looked for (an in-project .venv,
        envlock's envs folder), and the env found: its pyvenv.cfg, marker and packages."""
        pyproject = self._pyproject()
        inputs = [
            self.project.manifest_path,
            self.lock_path,
            self.project.root / ".venv" / "pyvenv.cfg",
            cache_dir() / "envs",
        ]
        env = self._env(pyproject)
        if env is not None:
            inputs += [env.path / "pyvenv.cfg", env.path / environment.MARKER]
            inputs += environment.site_packages(env.path)
        return inputs

    def fast_sync(self) -> ChangeReport | None:
        """Lock current and the env's marker names this exact lock: three small reads and a
        listdir, no uv. (The marker is only written after a full sync of a lock that was checked
        then; one written before markers recorded the manifest takes the long way once, which
        records it.)"""
        env = self._verified_env()
        return None if env is None else self._noop(env)

    def build_plan(self) -> BuildPlan:
        """What building the env would do. An env synced from this very lock and manifest kept
        the plan of that sync in its marker (with the indexes it was made for): the trust line
        of every `status` then reads no lock and evaluates no marker."""
        pyproject = self._pyproject()
        verified = self._verified_env()
        if verified is not None:
            kept = environment.read_marker(verified.path).get("plan")
            if isinstance(kept, dict) and kept.get("configured") == _configured(pyproject):
                return BuildPlan(**kept["plan"])
        lock = _lenient_lock(read_or_none(self.lock_path))
        return plan_of(pyproject, lock, self._python_version(pyproject))

    def export_requirements(self) -> str:
        from packaging.utils import canonicalize_name

        lock = Lock.load(self.lock_path)
        lines = [
            "# Exported by jupyter-envlock from pylock.toml; install with",
            "#   pip install --require-hashes -r requirements.txt",
        ]
        for pkg in lock.pylock.packages:
            files: list[PackageWheel | PackageSdist] = list(pkg.wheels or [])
            if pkg.sdist is not None:
                files.append(pkg.sdist)
            line = f"{canonicalize_name(pkg.name)}=={pkg.version}"
            if pkg.marker:
                line += f" ; {pkg.marker}"
            hashes = sorted(
                {f.hashes["sha256"] for f in files if f.hashes and "sha256" in f.hashes}
            )
            lines.append(" \\\n    ".join([line, *(f"--hash=sha256:{h}" for h in hashes)]))
        return "\n".join(lines) + "\n"

    def newest_versions(
        self,
        requirements: Sequence[str],
        exclude_newer: bool = True,
        only_binary: bool = False,
    ) -> dict[str, str]:
        from .. import index_query
        from ..pythons import choose

        pyproject = self._pyproject()
        # a base interpreter runs uv's query, never the env's own (it may be a repository's);
        # the env's Python version still decides which versions fit
        interp = choose(pyproject.requires_python, pyproject.settings.python)
        python, version = interp.path, self._python_version(pyproject)
        as_of = None
        if exclude_newer:
            as_of = exclude_newer_date(pyproject, _lenient_lock(read_or_none(self.lock_path)))
        return index_query.newest_versions(
            pyproject.uv_indexes,
            requirements,
            python,
            version,
            self.project.state_dir,
            exclude_newer=as_of.date if as_of else None,
            only_binary=only_binary,
        )

    def export_pylock(self) -> str:
        return Lock.load(self.lock_path).raw.decode("utf-8")

    # -- changing -----------------------------------------------------------------------------

    def add(
        self,
        requirements: Sequence[Requirement],
        group: str | None,
        sync: bool,
        progress: Progress,
        constraints: Sequence[str] = (),
        extra: str | None = None,
    ) -> ChangeReport:
        from packaging.utils import canonicalize_name

        from ..requirements import is_bare

        _no_extras(extra)
        session = _Session(self, progress)
        session.asked = {canonicalize_name(r.name) for r in requirements}
        report = self.report()
        report.edits = [session.manifest.add(r, group) for r in requirements]
        bare = [
            edit
            for edit, req in zip(report.edits, requirements, strict=True)
            if edit.kind in ("added", "replaced") and is_bare(req)
        ]
        return session.edit_lock_sync(report, sync, constraints=constraints, bound=(bare, group))

    def remove(
        self,
        names: Sequence[str],
        group: str | None,
        sync: bool,
        progress: Progress,
        extra: str | None = None,
    ) -> ChangeReport:
        from .edits import remove_one

        _no_extras(extra)
        session = _Session(self, progress)
        report = self.report()
        report.edits = [remove_one(session.manifest, name, group) for name in names]
        return session.edit_lock_sync(report, sync)

    def lock(
        self,
        upgrade: bool,
        upgrade_packages: Sequence[str],
        progress: Progress,
        exclude_newer: str | None = None,
    ) -> ChangeReport:
        if not (upgrade or upgrade_packages or exclude_newer is not None) and self._is_current():
            # as `uv lock` does: a lock made from this manifest that still satisfies it is
            # kept without resolving (resolving would keep every version anyway)
            return self.report(relocked=True)
        session = _Session(self, progress)
        return session.edit_lock_sync(
            self.report(relocked=True),
            False,
            upgrade=upgrade,
            upgrade_packages=upgrade_packages,
            exclude_newer=exclude_newer,
        )

    def upgrade(self, names: Sequence[str], all: bool, progress: Progress) -> ChangeReport:
        from packaging.utils import canonicalize_name

        session = _Session(self, progress)
        session.asked = {canonicalize_name(n) for n in names}
        return session.edit_lock_sync(
            self.report(relocked=True), True, upgrade=all, upgrade_packages=names
        )

    def create(self, sync: bool, progress: Progress) -> ChangeReport:
        """A new project in a folder without a manifest (from its requirements.txt, if any):
        manifest and lock are written together, or neither."""
        from packaging.utils import canonicalize_name

        from ..requirements import parse_requirement

        session = _Session(self, progress)
        report = self.report(relocked=True)
        report.edits = [
            Edit(canonicalize_name(parse_requirement(r).name), "added", None, r)
            for reqs in session.pyproject.requirements().values()
            for r in reqs
        ]
        return session.edit_lock_sync(report, sync)

    def sync(self, stale: StalePolicy | None, progress: Progress) -> ChangeReport:
        session = _Session(self, progress)
        pyproject = session.pyproject
        policy = stale or pyproject.settings.on_stale_lock
        env, interp = session.plan_env()
        raw = session.old_lock_bytes
        state: LockState = "missing" if raw is None else "stale"
        lock = None
        if raw is not None and recorded_manifest_hash(raw) == manifest_hash(pyproject):
            # Made from this manifest: a broken one is refused, not guessed at (`lock` repairs).
            lock = Lock.parse(raw, str(self.lock_path))
            state = lock_state(pyproject, lock, str(interp.version))
        if state != "in-sync":
            if policy == "error":
                what = "is missing" if state == "missing" else "is out of date"
                why = "--locked was given" if stale == "error" else 'on-stale-lock = "error"'
                raise StaleLockError(
                    f"{self.lock_path} {what} for {self.project.manifest_path}, and re-locking on "
                    f"sync is refused ({why}). Run `jupyter envlock lock` and commit the result."
                )
            return session.edit_lock_sync(self.report(relocked=True), True)
        assert lock is not None
        report = self.report()
        report.sync = session.sync_env(env, interp, lock)
        return report


def _no_extras(extra: str | None) -> None:
    if extra is not None:
        raise ManifestError(
            "envlock's own projects lock and install every group, and have no extras to add to: "
            "use --group NAME (extras, [project.optional-dependencies], are for uv and Poetry "
            "projects, and for packages)."
        )


def _configured(pyproject: PyProject) -> list[str]:
    """The indexes a build of this project would ask (credentials stripped)."""
    configured = [strip_credentials(str(i["url"])) for i in pyproject.uv_indexes]
    return configured + default_indexes()


def plan_of(pyproject: PyProject, lock: Lock | None, python_version: str) -> BuildPlan:
    """What building the env from `lock` for `python_version` would install and run."""
    from packaging.utils import canonicalize_name

    configured = _configured(pyproject)
    if lock is None:
        return BuildPlan(None, configured, [], pyproject.has_build_system)
    here = lock.versions(marker_environment(python_version))
    entries = [p for p in lock.data.get("packages") or [] if isinstance(p, dict)]
    mine = [p for p in entries if canonicalize_name(str(p.get("name", ""))) in here]
    origins = {origin for p in mine for origin in _origins(p, configured)}
    indexes = sorted(origins, key=lambda o: ("://" not in o, o))  # URLs first
    built = sorted(_source_only(lock, python_version))
    return BuildPlan(len(here), indexes, built, pyproject.has_build_system)


def _source_only(lock: Lock, python_version: str) -> set[str]:
    """The lock's packages for this machine that only a source build installs (an sdist and no
    wheel, a folder, a git checkout)."""
    from packaging.utils import canonicalize_name

    here = lock.versions(marker_environment(python_version))
    return {
        canonicalize_name(str(p.get("name")))
        for p in lock.data.get("packages") or []
        if isinstance(p, dict)
        and canonicalize_name(str(p.get("name", ""))) in here
        and (p.get("directory") or p.get("vcs") or (p.get("sdist") and not p.get("wheels")))
    }


def _origins(package: dict[str, Any], indexes: Sequence[str]) -> set[str]:
    """Where a lock entry's files come from, for people deciding whether to trust it: the
    configured index that holds each file (`index_of`, the rule envlock names a lock's indexes
    by: PyPI for files.pythonhosted.org), else its host; files inside the repository and
    folders or git checkouts say so. The entry's `index` is only a claim (a hostile lock could
    name pypi.org beside files from anywhere): it is shown only for an entry with no file."""
    files = [f for f in package.get("wheels") or [] if isinstance(f, dict)]
    files += [package[k] for k in ("sdist", "archive") if isinstance(package.get(k), dict)]
    out: set[str] = set()
    for file in files:
        url = file.get("url")
        if not isinstance(url, str):
            if file.get("path"):
                out.add("files in the project folder")
            continue
        index = index_of([url], indexes)
        if index is None:
            parts = urlsplit(strip_credentials(url))
            index = f"{parts.scheme}://{parts.netloc}"
        out.add(index)
    vcs = package.get("vcs")
    if isinstance(vcs, dict) and isinstance(vcs.get("url"), str):
        out.add(strip_credentials(vcs["url"]))
    if package.get("directory"):
        out.add("a folder the lock names")
    if not out and package.get("index"):
        out.add(strip_credentials(str(package["index"])))
    return out


def source_builds_allowed(pyproject: PyProject) -> frozenset[str]:
    """What the manifest itself asks to build from source: the packages it names in
    `[tool.envlock] allow-source-builds`, and those it requires from a URL (a git repository,
    an archive): a lock made elsewhere cannot add to these."""
    from packaging.utils import canonicalize_name

    from ..requirements import parse_requirement

    direct = {
        canonicalize_name(req.name)
        for items in pyproject.requirements().values()
        for req in map(parse_requirement, items)
        if req.url
    }
    return pyproject.settings.allow_source_builds | direct


def _lenient_lock(raw: bytes | None) -> Lock | None:
    """A lock to show versions from, valid or not."""
    if raw is None:
        return None
    try:
        return Lock.parse(raw, validate=False)
    except LockfileError:
        return None


def _bound_version(lock: Lock, name: str, bounds: AddBounds) -> str | None:
    from .edits import bound_version

    return bound_version(
        [p.version for p in lock.packages() if p.name == name and p.version], bounds
    )


def _drift(lock: Lock, env: EnvInfo, project_name: str, editable: bool) -> DriftDict:
    locked = lock.versions(marker_environment(env.python_version or ""))
    installed = environment.installed_distributions(env.path)
    if editable:
        installed.pop(project_name, None)
    return drift_between(locked, installed)


class _Session:
    """One change to one project, under its file lock: the manifest as it was and is being
    edited, and the lock as it was."""

    def __init__(self, manager: PylockManager, progress: Progress) -> None:
        self.project = manager.project
        self.allow_removals = manager.allow_removals
        self.progress = progress
        self.manifest_existed = self.project.manifest_path.exists()
        self.old_lock_bytes = read_or_none(self.project.lock_path)
        self.old_lock = _valid_lock_or_none(self.old_lock_bytes, self.project.lock_path)
        # Packages the user names in this command (add, upgrade): they may build from source in
        # it, as `pip install NAME` would; a lock read later builds only what the manifest allows.
        self.asked: set[str] = set()

    @cached_property
    def manifest(self) -> Manifest:
        """The manifest open for editing (tomlkit), loaded by the first edit."""
        from ..manifest import Manifest

        path = self.project.manifest_path
        return Manifest.load(path) if self.manifest_existed else Manifest.for_new_project(path)

    @property
    def pyproject(self) -> PyProject:
        """The manifest as it reads now, edits included; a session that edits nothing (a sync
        of a current lock) reads it without tomlkit."""
        if "manifest" in self.__dict__ or not self.manifest_existed:
            return self.manifest.pyproject
        return self._as_found

    @cached_property
    def _as_found(self) -> PyProject:
        return PyProject.read(self.project.manifest_path)

    def plan_env(self) -> tuple[EnvInfo, Interpreter]:
        pyproject = self.pyproject
        return environment.plan(self.project, pyproject.requires_python, pyproject.settings.python)

    def resolve(
        self,
        interp: Interpreter,
        upgrade: bool = False,
        upgrade_packages: Iterable[str] = (),
        constraints: Iterable[str] = (),
        exclude_newer: str | None = None,
    ) -> Lock:
        as_of = exclude_newer_date(self.pyproject, self.old_lock, exclude_newer)
        self.progress(
            ProgressEvent(
                "resolve",
                "Resolving dependencies" + (f" as of {as_of.date}" if as_of else ""),
            )
        )
        new = compile_lock(
            self.pyproject,
            interp,
            self.old_lock_bytes if self.old_lock is not None else None,  # broken: no preferences
            self.project.state_dir,
            upgrade=upgrade,
            upgrade_packages=upgrade_packages,
            exclude_newer=as_of,
            constraints=constraints,
        )
        self.progress(ProgressEvent("resolve", "Resolved"))
        return new

    def record_bounds(
        self, report: ChangeReport, lock: Lock, bare: list[Edit], group: str | None
    ) -> Lock:
        """What was added bare is recorded with its locked version as bound (add-bounds), as
        `uv add` and `poetry add` do; the lock is re-stamped with the manifest it now matches."""
        from ..manifest import is_same_requirement
        from ..requirements import TypedRequirement, with_bound

        bounds = self.pyproject.settings.add_bounds
        changed = False
        for edit in bare:
            assert edit.new is not None
            version = _bound_version(lock, edit.name, bounds)
            text = with_bound(TypedRequirement(edit.new), version, bounds) if version else None
            if text is None:
                continue
            self.manifest.add(TypedRequirement(text), group)
            same = edit.old is not None and is_same_requirement(edit.old, text)
            kind: EditKind = "unchanged" if same else edit.kind
            report.edits[report.edits.index(edit)] = Edit(edit.name, kind, edit.old, text)
            changed = True
        if not changed:
            return lock
        digest = manifest_hash(self.pyproject)
        return lock.restamped(digest)

    def write(self, new_lock: Lock, report: ChangeReport, python_version: str) -> None:
        """Lock first, then manifest: if killed between the two, the lock's manifest hash no longer
        matches and the next command re-locks. Changes are reported for this env's Python."""
        where = marker_environment(python_version)
        old = self.old_lock.versions(where) if self.old_lock is not None else {}
        report.changes = diff_versions(old, new_lock.versions(where))
        target = self.project.lock_path
        try:
            if new_lock.raw != self.old_lock_bytes:
                write_bytes_atomic(target, new_lock.raw)
                report.lock_changed = True
            if self.manifest.changed or not self.manifest_existed:
                target = self.project.manifest_path
                write_bytes_atomic(target, self.manifest.dumps())
                report.manifest_changed = True
        except OSError as e:
            try:
                self.rollback(report)
            except OSError:
                pass  # the lock's manifest hash then says it is stale: the next command re-locks
            why = (
                f"{LOCKFILE} is out of date for pyproject.toml and has to be re-locked, but the "
                "new lock cannot be written"
                if report.relocked and not report.edits
                else "pyproject.toml and its lock cannot be written"
            )
            raise FileSystemError(
                f"{os_error_message(e, path=target)} {why}; nothing was changed."
            ) from e

    def rollback(self, report: ChangeReport) -> None:
        """Put back what `write` changed, and only that (other files keep their mtimes)."""
        if report.manifest_changed:
            if self.manifest_existed:
                write_bytes_atomic(self.project.manifest_path, self.manifest.raw)
            else:
                self.project.manifest_path.unlink(missing_ok=True)
        if report.lock_changed:
            if self.old_lock_bytes is None:
                self.project.lock_path.unlink(missing_ok=True)
            else:
                write_bytes_atomic(self.project.lock_path, self.old_lock_bytes)

    def sync_env(self, env: EnvInfo, interp: Interpreter, lock: Lock) -> EnvReport:
        pyproject = self.pyproject
        plan = plan_of(pyproject, lock, env.python_version or str(interp.version))
        request = environment.SyncRequest(
            lock_sha256=lock.sha256,
            editable=pyproject.has_build_system,
            allow_source_builds=source_builds_allowed(pyproject) | self.asked,
            locked_names=[p.name for p in lock.packages()],
            allow_removals=self.allow_removals,
            manifest_sha256=pyproject.sha256,  # this session wrote it, or found the lock current
            kept={"plan": {"configured": _configured(pyproject), "plan": plan.to_dict()}},
        )
        result = environment.sync(self.project, env, interp, request, self.progress)
        self.progress(
            ProgressEvent("done", "Environment ready" if not result.noop else "Up to date")
        )
        return result

    def edit_lock_sync(
        self,
        report: ChangeReport,
        sync: bool,
        upgrade: bool = False,
        upgrade_packages: Iterable[str] = (),
        constraints: Iterable[str] = (),
        exclude_newer: str | None = None,
        bound: tuple[list[Edit], str | None] = ([], None),
    ) -> ChangeReport:
        env, interp = self.plan_env()
        new_lock = self.resolve(interp, upgrade, upgrade_packages, constraints, exclude_newer)
        if bound[0]:
            new_lock = self.record_bounds(report, new_lock, *bound)
        self.write(new_lock, report, str(interp.version))
        if sync:
            try:
                report.sync = self.sync_env(env, interp, new_lock)
            except BaseException:
                self.rollback(report)
                raise
            report.notes += self.built_here_only(new_lock, str(interp.version))
        return report

    def built_here_only(self, lock: Lock, python_version: str) -> list[str]:
        """What this command built from source because the user named it, and a later sync from
        the lock would refuse (another machine, an env rebuilt): said once, with the fix."""
        allowed = source_builds_allowed(self.pyproject)
        names = sorted(
            name for name in self.asked - allowed if name in _source_only(lock, python_version)
        )
        if not names:
            return []
        listed = ", ".join(f'"{n}"' for n in names)
        return [
            f"{', '.join(names)} has no wheel for this machine and was built from source. A sync "
            "from the lock elsewhere (another machine, a rebuilt environment, a kernel start) "
            f"builds it only if pyproject.toml allows it: allow-source-builds = [{listed}] "
            "under [tool.envlock]."
        ]
