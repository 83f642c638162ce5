"""Poetry projects: pyproject.toml + poetry.lock, Poetry's own env, every change made by Poetry.

The env is the one `poetry env info --path` names for the project (an in-project `.venv` when so
configured, else `<virtualenvs.path>/<name>-<hash>-py<X.Y>`), worked out here from Poetry's own
rules and the user's Poetry configuration, without running Poetry. It is synced with `poetry
sync` (exact, every non-optional group); `%dep add/remove` run `poetry add/remove --lock`, so
poetry.lock is Poetry's and `poetry check --lock` passes afterwards.

What a repository may not decide: Poetry runs with no activated env (VIRTUAL_ENV or CONDA_PREFIX
would become the env Poetry installs into, the server's own one included) and with the user's
own cache, data and virtualenvs folders pinned through Poetry's environment variables, which beat
a repository's poetry.toml (its `virtualenvs.create = false` would make Poetry install into its
own venv; its `virtualenvs.path` could put envs anywhere). Its `virtualenvs.in-project` is
honoured: the env then stays inside the project.

Reading methods never start Poetry (a Poetry command may load plugins the repository names under
`[tool.poetry.requires-plugins]`, which must wait for the user's trust).
"""

from __future__ import annotations

import base64
import hashlib
import os
import platform
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import tomli  # TOML's reader on every Python (core/lockfile.py)
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from .. import index_query
from ..atomic import is_busy, write_bytes_atomic
from ..environment import EnvInfo, installed_distributions, pyvenv_version
from ..errors import LockfileError, ManifestError, NotADependency, StaleLockError, ToolError
from ..manifest import Manifest
from ..progress import Progress, ProgressEvent
from ..project import Project
from ..pyproject import PyProject, StalePolicy
from ..requirements import is_bare, parse_requirement
from ..results import (
    BuildPlan,
    ChangeReport,
    Dependency,
    DriftDict,
    Edit,
    EnvReport,
    EnvState,
    LockState,
    Status,
    diff_versions,
    drift_between,
    no_drift,
)
from ..runner import (
    classify_poetry_failure,
    find_poetry,
    poetry_bin,
    poetry_missing_message,
    run_poetry,
)
from .base import Manager
from .poetrylock import (
    LOCK_NAME,
    MAIN,
    PoetryDependency,
    PoetryLock,
    lock_is_fresh,
    optional_groups,
    poetry_dependencies,
)
from .pylock import read_or_none
from .synced import SyncRecord, refuse_linked_env

PYPI = "https://pypi.org/simple"
_OPERATION = re.compile(r"^\s*-\s+(Installing|Updating|Downgrading|Removing)\s+(\S+)\s+\(([^)]*)\)")
_NO_ROOT = "The current project could not be installed"


# --------------------------------------------------------------------------- Poetry's settings


def _toml(path: Path) -> dict[str, object]:
    try:
        data = tomli.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data


def _boolean(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "false", "0"):
        return value.strip().lower() in ("true", "1")
    return None


@dataclass(frozen=True)
class PoetryConfig:
    """The user's Poetry settings that decide where envs go (their own, not a repository's)."""

    cache_dir: Path
    data_dir: Path
    virtualenvs_path: Path
    in_project: bool | None

    @classmethod
    def for_project(cls, project_root: Path) -> PoetryConfig:
        """Poetry's order: environment variables, then (for in-project only) the project's
        poetry.toml, then the user's config.toml, then Poetry's defaults."""
        from platformdirs import user_cache_path, user_config_path, user_data_path

        env = os.environ
        config_dir = Path(
            env.get("POETRY_CONFIG_DIR")
            or user_config_path("pypoetry", appauthor=False, roaming=True)
        )
        user = _toml(config_dir / "config.toml")
        user_envs = user.get("virtualenvs")
        user_envs = user_envs if isinstance(user_envs, dict) else {}
        cache = env.get("POETRY_CACHE_DIR") or user.get("cache-dir")
        cache_dir = (
            Path(str(cache)).expanduser() if cache else user_cache_path("pypoetry", appauthor=False)
        )
        home = env.get("POETRY_HOME")
        data = env.get("POETRY_DATA_DIR") or user.get("data-dir")
        if data:
            data_dir = Path(str(data)).expanduser()
        elif home:
            data_dir = Path(home).expanduser()
        else:
            data_dir = user_data_path("pypoetry", appauthor=False, roaming=True)
        path = env.get("POETRY_VIRTUALENVS_PATH") or user_envs.get("path")
        virtualenvs = (
            Path(str(path).replace("{cache-dir}", str(cache_dir))).expanduser()
            if path
            else cache_dir / "virtualenvs"
        )
        in_project = _boolean(env.get("POETRY_VIRTUALENVS_IN_PROJECT"))
        if in_project is None:
            local = _toml(project_root / "poetry.toml").get("virtualenvs")
            in_project = _boolean(local.get("in-project")) if isinstance(local, dict) else None
        if in_project is None:
            in_project = _boolean(user_envs.get("in-project"))
        return cls(cache_dir, data_dir, virtualenvs, in_project)

    def environment(self) -> dict[str, str]:
        """What every Poetry run gets: these beat a repository's poetry.toml."""
        settings = {
            "POETRY_VIRTUALENVS_CREATE": "true",
            "POETRY_CACHE_DIR": str(self.cache_dir),
            "POETRY_DATA_DIR": str(self.data_dir),
            "POETRY_VIRTUALENVS_PATH": str(self.virtualenvs_path),
        }
        if self.in_project is not None:
            settings["POETRY_VIRTUALENVS_IN_PROJECT"] = "true" if self.in_project else "false"
        return settings


def env_name(project_name: str | None, project_root: Path) -> str:
    """Poetry's `EnvManager.generate_env_name`: `<name>-<8 chars of the folder's hash>`."""
    name = canonicalize_name(project_name) if project_name else "non-package-mode"
    sanitized = re.sub(r'[ $`!*@"\\\r\n\t]', "_", name.lower())[:42]
    folder = os.path.normcase(os.path.realpath(project_root))
    digest = base64.urlsafe_b64encode(hashlib.sha256(folder.encode()).digest()).decode()[:8]
    return f"{sanitized}-{digest}"


def _module_present(root: Path, name: str) -> bool:
    """poetry-core's default package of a project: `<module>/`, `<module>.py`, or the same in
    src/ (module = normalized name with underscores)."""
    module = canonicalize_name(name).replace("-", "_")
    return any(
        (base / module).is_dir() or (base / f"{module}.py").is_file()
        for base in (root, root / "src")
    )


# --------------------------------------------------------------------------- the manager


class PoetryManager(Manager):
    name = "poetry"
    lock_file = LOCK_NAME

    def __init__(self, project: Project) -> None:
        super().__init__(project)
        self.record = SyncRecord(project.state_dir)

    # -- where things are ----------------------------------------------------------------------

    def _pyproject(self) -> PyProject:
        pyproject = self.project.pyproject
        if pyproject is None:
            raise ManifestError(f"{self.project.manifest_path} does not exist.")
        return pyproject

    def _poetry_table(self) -> Mapping[str, object]:
        poetry = (self._pyproject().data.get("tool") or {}).get("poetry")
        return poetry if isinstance(poetry, dict) else {}

    @property
    def package_mode(self) -> bool:
        return self._poetry_table().get("package-mode", True) is not False

    def config(self) -> PoetryConfig:
        return PoetryConfig.for_project(self.project.root)

    def env_dir(self) -> Path | None:
        """The env Poetry uses for this project, if it exists (no Poetry run)."""
        config = self.config()
        in_project = self.project.root / ".venv"
        if config.in_project is True or (config.in_project is None and in_project.is_dir()):
            return in_project if (in_project / "pyvenv.cfg").is_file() else None
        base = env_name(self._pyproject().name, self.project.root)
        try:
            found = sorted(config.virtualenvs_path.glob(f"{base}-py*"))
        except OSError:
            found = []
        found = [p for p in found if (p / "pyvenv.cfg").is_file()]
        if not found:
            return None
        chosen = _toml(config.virtualenvs_path / "envs.toml").get(base)
        if isinstance(chosen, dict) and isinstance(chosen.get("minor"), str):
            wanted = config.virtualenvs_path / f"{base}-py{chosen['minor']}"
            return wanted if wanted in found else None
        recorded = self.record.read().get("env")
        if isinstance(recorded, str) and Path(recorded) in found:
            return Path(recorded)
        return max(found, key=lambda p: _version_key(pyvenv_version(p)))

    def _files(self) -> list[Path]:
        root = self.project.root
        return [self.project.manifest_path, self.lock_path, root / "poetry.toml"]

    def _fingerprint(self, env: Path) -> dict[str, object]:
        settings = {"config": self.config().environment(), "poetry": str(find_poetry())}
        return self.record.fingerprint(self._files(), env, settings)

    def _python_version(self, env: Path | None) -> str:
        version = pyvenv_version(env) if env is not None else None
        return version or platform.python_version()

    def _install_groups(self) -> list[str]:
        """What `poetry sync` installs by default: main and every non-optional group."""
        pyproject = self._pyproject()
        optional = optional_groups(pyproject)
        groups = {d.group for d in poetry_dependencies(pyproject) if d.group is not None}
        return [MAIN, *sorted(groups - optional)]

    def _lock(self) -> PoetryLock | None:
        try:
            raw = self.lock_path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            return PoetryLock.parse(raw, str(self.lock_path))
        except LockfileError:
            return None

    def _tool(self) -> Path:
        return poetry_bin(str(self.project.root))

    # -- reading -------------------------------------------------------------------------------

    def lock_state(self) -> LockState:
        pyproject = self._pyproject()
        try:
            raw = self.lock_path.read_bytes()
        except FileNotFoundError:
            return "missing"
        return "in-sync" if lock_is_fresh(pyproject, raw) else "stale"

    def status(self) -> Status:
        env = self.env_dir()
        drift = no_drift()
        env_state: EnvState = "missing"
        if env is not None:
            lock = self._lock()
            if lock is not None:
                drift = self._drift(lock, env)
            env_state = "out-of-date" if lock is None or any(drift.values()) else "in-sync"
        return Status(
            self.project,
            self.name,
            pyvenv_version(env) if env else None,
            str(env) if env else None,
            self.lock_state(),
            env_state,
            drift,
            busy=is_busy(self.project.file_lock_path),
            notes=self.notes(),
        )

    def notes(self) -> list[str]:
        """What a user must know before anything works here."""
        if find_poetry() is None:
            return [poetry_missing_message(f"{self.project.name} ({self.project.root})")]
        return []

    def _drift(self, lock: PoetryLock, env: Path) -> DriftDict:
        selected = lock.select(self._python_version(env), self._install_groups())
        locked = {p.name: p.version for p in selected if p.version}
        installed = installed_distributions(env)
        pyproject = self._pyproject()
        if pyproject.name:
            installed.pop(canonicalize_name(pyproject.name), None)  # the project itself
        for seed in ("pip", "setuptools", "wheel"):  # virtualenv seeds them; Poetry keeps them
            if seed not in locked:
                installed.pop(seed, None)
        return drift_between(locked, installed)

    def dependencies(self) -> list[Dependency]:
        pyproject = self._pyproject()
        lock = self._lock()
        versions = lock.locked_for(self._python_version(self.env_dir())) if lock else {}
        return [
            Dependency(d.name, d.requirement, d.group, versions.get(d.name), d.extra)
            for d in poetry_dependencies(pyproject)
        ]

    def env_python(self) -> Path:
        env = self.env_dir()
        if env is None or not EnvInfo(env, None).exists:
            raise ManifestError(
                f"{self.project.root} has no Poetry environment yet; run `jupyter envlock sync` "
                "(or `poetry sync`)."
            )
        return EnvInfo(env, None).python

    def fast_sync(self) -> ChangeReport | None:
        env = self.env_dir()
        if env is None or not self.record.matches(self._fingerprint(env), env):
            return None
        return self.report(sync=EnvReport(env, pyvenv_version(env), noop=True))

    def build_plan(self) -> BuildPlan:
        lock = self._lock()
        root_installed = self.package_mode and self._root_present()
        if lock is None:
            sources = self._poetry_table().get("source")
            urls = [
                str(s["url"]) for s in sources if isinstance(s, dict) and isinstance(s.get("url"), str)
            ] if isinstance(sources, list) else []  # fmt: skip
            return BuildPlan(None, urls or [PYPI], [], root_installed)
        env = self.env_dir()
        selected = lock.select(self._python_version(env), self._install_groups())
        indexes = sorted(
            {p.index or PYPI for p in selected if p.source.get("type") in (None, "legacy")}
        )
        built = sorted(p.name for p in selected if p.built_from_source)
        return BuildPlan(len(selected), indexes, built, root_installed)

    def _root_present(self) -> bool:
        """Whether Poetry can install the project itself: its package folder is there (or
        `packages` says where). A missing one is the issue's repro: no editable build of it."""
        if self._poetry_table().get("packages"):
            return True
        name = self._pyproject().name
        return name is not None and _module_present(self.project.root, name)

    def export_requirements(self) -> str:
        """poetry.lock as a hash-pinned requirements.txt (what poetry-plugin-export writes),
        read in-process: Poetry's own export needs a plugin."""
        lock = self._lock()
        if lock is None:
            raise LockfileError(f"{self.lock_path} does not exist; run `poetry lock`.")
        groups = set(self._install_groups())
        lines = [
            "# Exported by jupyter-envlock from poetry.lock; install with",
            "#   pip install --require-hashes -r requirements.txt",
        ]
        for package in sorted(lock.packages, key=lambda p: p.name):
            wanted = package.groups & groups
            if not wanted or not package.version or package.data.get("optional"):
                continue
            line = f"{package.name}=={package.version}"
            marker = _marker_for(package.data.get("markers"), wanted)
            if marker:
                line += f" ; {marker}"
            hashes = sorted(
                str(f["hash"]).removeprefix("sha256:")
                for f in package.files
                if str(f.get("hash", "")).startswith("sha256:")
            )
            lines.append(" \\\n    ".join([line, *(f"--hash=sha256:{h}" for h in hashes)]))
        return "\n".join(lines) + "\n"

    # -- changing ------------------------------------------------------------------------------

    def _run(
        self,
        args: Sequence[str],
        progress: Progress | None = None,
        on_line: Callable[[str], None] | None = None,
        check: bool = True,
    ) -> tuple[str, int]:
        exe = self._tool()

        def show(line: str) -> None:
            if on_line is not None:
                on_line(line)
            elif progress is not None and line.strip():
                progress(ProgressEvent("resolve", line.strip()))

        result = run_poetry(
            exe, args, self.project.root, self.config().environment(), show, check=check
        )
        return result.stderr, result.returncode

    def add(
        self,
        requirements: Sequence[Requirement],
        group: str | None,
        sync: bool,
        progress: Progress,
        constraints: Sequence[str] = (),
        extra: str | None = None,
    ) -> ChangeReport:
        """`poetry add`, which writes Poetry's own constraint for a bare name (`^1.2.0`). A
        constraint for a bare name is passed as its version range (Poetry records it: it has
        no way to limit a resolution without)."""
        limits = {canonicalize_name(Requirement(c).name): Requirement(c) for c in constraints}
        specs = [
            f"{r}{limits[canonicalize_name(r.name)].specifier}"
            if canonicalize_name(r.name) in limits and is_bare(r)
            else str(r)
            for r in requirements
        ]
        # With sync, Poetry's own `add` installs what it added (as in a terminal); without,
        # `--lock` only edits and locks.
        args = ["add", *([] if sync else ["--lock"])]
        if group is not None:
            args += ["--group", group]
        if extra is not None:
            args += [f"--optional={extra}"]
        args += ["--", *specs]
        return self._change(lambda on_line: self._run(args, on_line=on_line), "add", sync, progress)

    def remove(
        self,
        names: Sequence[str],
        group: str | None,
        sync: bool,
        progress: Progress,
        extra: str | None = None,
    ) -> ChangeReport:
        canonical = [canonicalize_name(n) for n in names]
        deps = poetry_dependencies(self._pyproject())
        in_extras: list[tuple[str, str]] = []  # Poetry's remove does not look there
        others: list[str] = []
        for name, original in zip(canonical, names, strict=True):
            places = {(d.group, d.extra) for d in deps if d.name == name}
            if extra is not None:
                places = {p for p in places if p[1] == extra}
            elif group is not None:
                places = {p for p in places if p == (group, None)}
            if not places:
                where = (
                    f"extra '{extra}'" if extra else f"group '{group}'" if group else "the project"
                )
                raise NotADependency(
                    f"'{original}' is not a direct dependency in {where} of "
                    f"{self.project.manifest_path}."
                )
            if len(places) > 1:
                shown = ", ".join(
                    f"extra '{e}'" if e else ("main" if g is None else f"group '{g}'")
                    for g, e in sorted(places, key=str)
                )
                raise NotADependency(
                    f"'{original}' is listed in {shown}; say which with --group (or --optional)."
                )
            ((found_group, found_extra),) = places
            if found_extra is not None:
                in_extras.append((name, found_extra))
            else:
                others.append(name)

        def action(on_line: Callable[[str], None]) -> None:
            if in_extras:  # PEP 621 extras: envlock's own editor, then Poetry locks
                manifest = Manifest.load(self.project.manifest_path)
                for name, where in in_extras:
                    manifest.remove(name, extra=where)
                write_bytes_atomic(self.project.manifest_path, manifest.dumps())
            if others:
                args = ["remove", *([] if sync else ["--lock"])]
                args += [*(["--group", group] if group else []), "--", *others]
                self._run(args, on_line=on_line)
            else:
                self._run(["lock"], on_line=on_line)

        return self._change(action, "remove", sync, progress)

    def lock(
        self,
        upgrade: bool,
        upgrade_packages: Sequence[str],
        progress: Progress,
        exclude_newer: str | None = None,
    ) -> ChangeReport:
        if exclude_newer is not None:
            raise ManifestError(
                "Poetry has no exclude-newer date: a Poetry project's lock moves only when you "
                "lock or update it."
            )
        names = [canonicalize_name(parse_requirement(n).name) for n in upgrade_packages]
        if upgrade or names:
            args = ["update", "--lock", *(["--", *names] if names else [])]
        else:
            args = ["lock"]
        report = self.report(relocked=True)
        old = read_or_none(self.lock_path)
        self._guarded(lambda: self._run(args, progress), old, None)
        self._note(report, old, None)
        return report

    def upgrade(self, names: Sequence[str], all: bool, progress: Progress) -> ChangeReport:
        """`poetry update [NAME...]`: within the manifest's constraints, installing what moved;
        the env is then checked against the new lock (and synced when it differs)."""
        wanted = [] if all else [canonicalize_name(n) for n in names]
        args = ["update", *(["--", *wanted] if wanted else [])]
        report = self._change(
            lambda on_line: self._run(args, on_line=on_line), "update", True, progress
        )
        report.relocked = True
        return report

    def locked_versions(self) -> dict[str, str]:
        lock = self._lock()
        return lock.locked_for(self._python_version(self.env_dir())) if lock else {}

    def newest_versions(
        self,
        requirements: Sequence[str],
        exclude_newer: bool = True,
        only_binary: bool = False,
    ) -> dict[str, str]:
        """Asked through uv from the project's Poetry sources (a primary source replaces PyPI,
        as in Poetry; supplemental ones are added); Poetry has no exclude-newer."""
        env = self.env_dir()
        python = EnvInfo(env, None).python if env is not None else Path(sys.executable)
        if not python.exists():
            python = Path(sys.executable)
        return index_query.newest_versions(
            (),
            requirements,
            python,
            self._python_version(env),
            self.project.state_dir,
            only_binary=only_binary,
            indexes=self._sources(),
        )

    def _sources(self) -> list[tuple[str, bool]]:
        """[[tool.poetry.source]] as (url, replaces the default index)."""
        sources = self._poetry_table().get("source")
        out: list[tuple[str, bool]] = []
        for source in sources if isinstance(sources, list) else []:
            if not isinstance(source, dict) or not isinstance(source.get("url"), str):
                continue
            priority = source.get("priority", "primary")
            if priority in ("primary", "default"):
                out.append((str(source["url"]), True))
            elif priority == "supplemental":
                out.append((str(source["url"]), False))
        return out

    def sync(self, stale: StalePolicy | None, progress: Progress) -> ChangeReport:
        pyproject = self._pyproject()
        policy = stale or pyproject.settings.on_stale_lock
        report = self.report()
        old = read_or_none(self.lock_path)
        if old is None or not lock_is_fresh(pyproject, old):
            if policy == "error":
                why = "--locked was given" if stale == "error" else 'on-stale-lock = "error"'
                what = "is missing" if old is None else "is out of date"
                raise StaleLockError(
                    f"{self.lock_path} {what} for {self.project.manifest_path}, and re-locking "
                    f"on sync is refused ({why}). Run `poetry lock` and commit the result."
                )
            progress(ProgressEvent("resolve", f"Locking with Poetry ({LOCK_NAME})"))
            self._guarded(lambda: self._run(["lock"], progress), old, None)
            self._note(report, old, None)
            report.relocked = True
        report.sync = self._sync_env(progress)
        return report

    def _change(
        self,
        action: Callable[[Callable[[str], None]], object],
        what: str,
        sync: bool,
        progress: Progress,
    ) -> ChangeReport:
        """Poetry edits pyproject.toml and poetry.lock (and, with `sync`, installs or removes
        what changed, as its add/remove do); the env is then checked against the new lock
        in-process and synced only if it differs. Any failure puts both files back byte for
        byte (and leaves no record, so the next start syncs the env)."""
        self._tool()  # Poetry missing: say so before anything
        report = self.report()
        old_manifest = self.project.manifest_path.read_bytes()
        old_lock = read_or_none(self.lock_path)
        before = poetry_dependencies(self._pyproject())
        if sync:
            self.record.clear()
        progress(ProgressEvent("resolve", f"Poetry {what} (pyproject.toml, {LOCK_NAME})"))
        result = EnvReport(Path(), None, noop=False)
        on_line = _sync_lines(progress, result)
        self._guarded(lambda: action(on_line), old_lock, old_manifest)
        after = poetry_dependencies(PyProject.read(self.project.manifest_path))
        report.edits = _edits(before, after)
        self._note(report, old_lock, old_manifest)
        if sync:
            try:
                report.sync = self._settle(result, progress)
            except BaseException:
                _restore(self.project.manifest_path, old_manifest)
                _restore(self.lock_path, old_lock)
                raise
        return report

    def _settle(self, result: EnvReport, progress: Progress) -> EnvReport:
        """The env after Poetry's add/remove: exactly the lock already (the usual case: it was
        in sync before), else `poetry sync`."""
        env = self.env_dir()
        lock = self._lock()
        if env is None or lock is None or any(self._drift(lock, env).values()):
            return self._sync_env(progress)
        return self._finish(result, env, progress)

    def _finish(self, result: EnvReport, env: Path, progress: Progress) -> EnvReport:
        """The env as Poetry left it, in sync with the lock: reported and recorded."""
        result.path = env
        result.python_version = pyvenv_version(env)
        result.noop = not result.installed and not result.removed
        self.record.write(self._fingerprint(env), env)
        progress(ProgressEvent("done", "Up to date" if result.noop else "Environment ready"))
        return result

    def _guarded(
        self, action: Callable[[], object], old_lock: bytes | None, old_manifest: bytes | None
    ) -> None:
        try:
            action()
        except BaseException:
            if old_manifest is not None:
                _restore(self.project.manifest_path, old_manifest)
            _restore(self.lock_path, old_lock)
            raise

    def _note(
        self, report: ChangeReport, old_lock: bytes | None, old_manifest: bytes | None
    ) -> None:
        new_lock = read_or_none(self.lock_path)
        report.lock_changed = new_lock != old_lock
        if old_manifest is not None:
            report.manifest_changed = self.project.manifest_path.read_bytes() != old_manifest
        before = _parsed(old_lock)
        after = _parsed(new_lock)
        report.changes = diff_versions(
            before.versions() if before else {}, after.versions() if after else {}
        )

    def _sync_env(self, progress: Progress) -> EnvReport:
        """`poetry sync`: exact, every non-optional group; the project itself only when Poetry
        can install it (else `--no-root`, and a note)."""
        if self.config().in_project is not False:  # Poetry would use an in-project .venv
            refuse_linked_env(
                self.project.root / ".venv",
                self.project.root,
                "Remove the link (Poetry makes a new env), or set virtualenvs.in-project = false.",
            )
        self.record.clear()
        args = ["sync"]
        if self.package_mode and not self._root_present():
            args.append("--no-root")
            progress(
                ProgressEvent(
                    "install",
                    "The project itself is not installed: it has no package folder (set "
                    "package-mode = false, or `packages`, in [tool.poetry] to say so).",
                )
            )
        progress(ProgressEvent("install", f"Syncing with Poetry ({LOCK_NAME})"))
        result = EnvReport(Path(), None, noop=False)
        output, code = self._run(args, on_line=_sync_lines(progress, result), check=False)
        if code != 0 and _NO_ROOT not in output:
            raise classify_poetry_failure(["sync"], output)
        if code != 0:
            progress(ProgressEvent("install", "Poetry could not install the project itself."))
        env = self.env_dir()
        if env is None:
            env = self._ask_env()
        return self._finish(result, env, progress)

    def _ask_env(self) -> Path:
        """`poetry env info --path`, when the env cannot be told from the files alone."""
        exe = self._tool()
        result = run_poetry(
            exe, ["env", "info", "--path"], self.project.root, self.config().environment(),
            check=False, merge_output=False,
        )  # fmt: skip
        path = result.stdout.strip().splitlines()[-1:] if result.stdout.strip() else []
        if result.returncode != 0 or not path:
            raise ToolError(
                f"Poetry synced {self.project.root} but names no environment for it.",
                result.stderr,
            )
        return Path(path[0])


def _sync_lines(progress: Progress, result: EnvReport) -> Callable[[str], None]:
    def on_line(line: str) -> None:
        match = _OPERATION.match(line)
        if match:
            verb, name, versions = match.groups()
            name = canonicalize_name(name)
            old, _, new = versions.partition(" -> ")
            if verb == "Installing":
                result.installed.append(f"{name}=={old}")
            elif verb == "Removing":
                result.removed.append(f"{name}=={old}")
            else:
                result.removed.append(f"{name}=={old}")
                result.installed.append(f"{name}=={new or old}")
            progress(ProgressEvent("install", line.strip(), len(result.installed) or None))
        elif line.strip().startswith(("Installing the current project", "Package operations")):
            progress(ProgressEvent("install", line.strip()))

    return on_line


def _edits(before: Sequence[PoetryDependency], after: Sequence[PoetryDependency]) -> list[Edit]:
    old = {(d.group, d.name): d.requirement for d in before}
    new = {(d.group, d.name): d.requirement for d in after}
    edits = []
    for key in sorted(set(old) | set(new), key=lambda k: (str(k[0]), k[1])):
        name = key[1]
        if key not in old:
            edits.append(Edit(name, "added", None, new[key]))
        elif key not in new:
            edits.append(Edit(name, "removed", old[key], None))
        elif old[key] != new[key]:
            edits.append(Edit(name, "replaced", old[key], new[key]))
    return edits


def _marker_for(markers: object, groups: set[str]) -> str | None:
    if isinstance(markers, str):
        return markers
    if isinstance(markers, dict):
        chosen = {str(markers[g]) for g in groups if g in markers}
        if len(chosen) == 1 and len(groups) == len([g for g in groups if g in markers]):
            return chosen.pop()
        if chosen and len([g for g in groups if g in markers]) == len(groups):
            return " or ".join(f"({m})" for m in sorted(chosen))
    return None


def _version_key(version: str | None) -> Version:
    try:
        return Version(version or "0")
    except InvalidVersion:
        return Version("0")


def _restore(path: Path, raw: bytes | None) -> None:
    if read_or_none(path) == raw:
        return
    if raw is None:
        path.unlink(missing_ok=True)
    else:
        write_bytes_atomic(path, raw)


def _parsed(raw: bytes | None) -> PoetryLock | None:
    if raw is None:
        return None
    try:
        return PoetryLock.parse(raw)
    except LockfileError:
        return None
