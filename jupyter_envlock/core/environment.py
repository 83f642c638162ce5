"""The project's virtualenv: created by `uv venv`, filled exactly from the lock by `uv pip sync`.

A marker file in the env records the sha256 of the lock it was last synced to. It is removed before
any change and written after a complete sync, so a process killed mid-sync leaves no marker and the
next sync repairs the env. An unchanged lock therefore costs one small file read, no uv process.

The env folder can come from a cloned repository (`[tool.envlock] env`, a committed `.venv`), so
envlock touches only what is its own:

- An env envlock creates is recorded as the project's *before* `uv venv` runs, in the project's
  state folder (in envlock's cache, out of any repository's reach). Only such an env may be
  deleted (a half-made one is started over, a failed first build is removed) or exact-synced
  without asking. The env also names its project in `.envlock-owner.json`, read only to refuse
  it to any other project.
- An existing env envlock did not create is used only when a static check passes (nothing is
  run to find out): a real virtualenv whose interpreter is a link to a Python this machine has,
  not another project's env. What a sync would remove from it is listed first (`uv pip sync
  --dry-run`) and needs the user's yes (`allow_removals`).
- Anything else at the env's path (a folder with files, `~/.local`, a Python installation, a
  file) is refused, with its path.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .atomic import write_bytes_atomic
from .errors import EnvlockError, ForeignEnvironment, SourceBuildRefused, ToolError
from .progress import Progress, ProgressEvent, no_progress
from .project import Project, cache_dir, normalized_name
from .results import EnvReport

if TYPE_CHECKING:
    from packaging.requirements import Requirement

    from .pythons import Interpreter

# What only building or inspecting an env needs (packaging's parsers, uv's runner, the
# interpreter search) is imported by the functions that need it: finding an env and reading its
# marker is the whole of a no-op sync or status.

MARKER = ".envlock-sync.json"
OWNER = ".envlock-owner.json"  # in the env: the project it was made for (only ever refuses)
OWNED = "envs.json"  # in the project's state folder: the envs envlock created for it (grants)
_CHANGE_LINE = re.compile(r"^\s*([+-])\s+([A-Za-z0-9._-]+)==(\S+)")
_COUNT_LINE = re.compile(r"^(Resolved|Prepared|Installed|Uninstalled|Audited)\s+(\d+)\s+package")
# uv's refusal of a source build (it wraps long lines)
_NO_BUILD = re.compile(
    r"Package `([^`]+)` can't be\s+installed\s+because\s+it\s+is\s+marked\s+as\s+"
    r"`--(?:no-build|only-binary)`"
)

Ownership = Literal["own", "foreign"]


@dataclass
class EnvInfo:
    path: Path
    python_version: str | None

    @property
    def python(self) -> Path:
        return python_in(self.path)

    @property
    def exists(self) -> bool:
        return (self.path / "pyvenv.cfg").exists() and self.python.exists()


def python_in(env_dir: Path) -> Path:
    if os.name == "nt":
        return env_dir / "Scripts" / "python.exe"
    return env_dir / "bin" / "python"


def _pyvenv_cfg(env_dir: Path) -> dict[str, str]:
    try:
        text = (env_dir / "pyvenv.cfg").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip().lower()] = value.strip()
    return out


def pyvenv_version(env_dir: Path) -> str | None:
    """The env's Python version from pyvenv.cfg: no interpreter start needed."""
    cfg = _pyvenv_cfg(env_dir)
    for key in ("version_info", "version"):
        match = re.match(r"(\d+\.\d+\.\d+)", cfg.get(key, ""))
        if match:
            return match.group(1)
    return None


def locate(project: Project, requires_python: str | None) -> EnvInfo | None:
    """The project's existing env, if any, whose Python still satisfies requires-python."""
    configured = project.configured_env_dir()
    if configured is not None:
        return EnvInfo(configured, pyvenv_version(configured))
    from packaging.specifiers import SpecifierSet
    from packaging.version import InvalidVersion, Version

    spec = SpecifierSet(requires_python or "")
    envs_dir = cache_dir() / "envs"
    best: EnvInfo | None = None
    try:
        candidates = sorted(envs_dir.glob(project.env_prefix + "*"))
    except OSError:
        candidates = []
    for env_dir in candidates:
        version = pyvenv_version(env_dir)
        try:
            fits = version is not None and spec.contains(Version(version), prereleases=True)
        except InvalidVersion:
            fits = False
        if fits and version is not None:
            if best is None or Version(version) > Version(best.python_version or "0"):
                best = EnvInfo(env_dir, version)
    return best


def plan(
    project: Project, requires_python: str | None, preferred: str | None
) -> tuple[EnvInfo, Interpreter]:
    """Where the env goes and which base interpreter builds it and resolves for it (an existing
    fitting env wins). Refuses, before anything runs, an env that is not envlock's to use."""
    from packaging.version import Version

    from .pythons import Interpreter, choose

    existing = locate(project, requires_python)
    if existing is not None and existing.exists and existing.python_version:
        vet(project, existing)
        base = Path(os.path.realpath(existing.python))
        return existing, Interpreter(base, Version(existing.python_version))
    interp = choose(requires_python, preferred)
    configured = project.configured_env_dir()
    path = configured if configured is not None else project.default_env_dir(interp.minor)
    env = EnvInfo(path, str(interp.version))
    _refuse_unusable_location(project, env)
    return env, interp


# ------------------------------------------------------------------ ownership


def _owned_record(project: Project) -> dict[str, Any]:
    try:
        data = json.loads((project.state_dir / OWNED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    envs = data.get("envs") if isinstance(data, dict) else None
    return envs if isinstance(envs, dict) else {}


def _write_owned(project: Project, envs: dict[str, Any]) -> None:
    project.state_dir.mkdir(parents=True, exist_ok=True)
    document = {"version": 1, "project": str(project.root), "envs": envs}
    write_bytes_atomic(project.state_dir / OWNED, json.dumps(document, indent=1).encode())


def _key(path: Path) -> str:
    return os.path.normcase(os.path.realpath(path))


def is_owned(project: Project, env_dir: Path) -> bool:
    """envlock created this env for this project (its record says so)."""
    return _key(env_dir) in _owned_record(project)


def _claim(project: Project, env_dir: Path) -> None:
    """Record the env as this project's before it is created, so that a half-made one (a killed
    `uv venv`) is still known to be envlock's own."""
    from datetime import datetime, timezone

    envs = _owned_record(project)
    now = datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    envs.setdefault(_key(env_dir), {"created": now})
    _write_owned(project, envs)


def _release(project: Project, env_dir: Path) -> None:
    envs = _owned_record(project)
    if envs.pop(_key(env_dir), None) is not None:
        _write_owned(project, envs)


def read_marker(env_dir: Path) -> dict[str, Any]:
    try:
        marker = json.loads((env_dir / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return marker if isinstance(marker, dict) else {}


def _recorded_project(env_dir: Path) -> str | None:
    """The project an env says it was made for (its owner record, else an older envlock's sync
    marker): a claim the env's own files make, so it may refuse, never grant."""
    for name in (OWNER, MARKER):
        try:
            data = json.loads((env_dir / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        project = data.get("project") if isinstance(data, dict) else None
        if isinstance(project, str):
            return project
    return None


def built_before_ownership(project: Project, env_dir: Path) -> bool:
    """An env an older envlock (before ownership records) built for this project: in envlock's
    own cache, at this project's default place, its sync marker naming this project."""
    return (
        env_dir.parent == cache_dir() / "envs"
        and env_dir.name.startswith(project.env_prefix)
        and read_marker(env_dir).get("project") == str(project.root)
        and not is_owned(project, env_dir)
    )


def legacy_envs(project: Project) -> list[Path]:
    """The envs `built_before_ownership` (the "built-before" reason to trust a project)."""
    try:
        candidates = sorted((cache_dir() / "envs").glob(project.env_prefix + "*"))
    except OSError:
        return []
    return [env for env in candidates if built_before_ownership(project, env)]


def adopt_legacy_envs(project: Project) -> None:
    """Record an older envlock's envs for this project as its own (they stop counting as
    "built before the trust step": a revoked project is not trusted again by them)."""
    for env in legacy_envs(project):
        _claim(project, env)


def ownership(project: Project, env: EnvInfo) -> Ownership:
    """Whether an existing env is envlock's own for this project, or another the static check
    let through; raises ForeignEnvironment when it may not be used at all. Nothing is run."""
    if is_owned(project, env.path):
        return "own"
    if built_before_ownership(project, env.path):
        return "own"
    vet_foreign(project, env)
    return "foreign"


def vet(project: Project, env: EnvInfo) -> None:
    ownership(project, env)


def vet_foreign(project: Project, env: EnvInfo) -> None:
    """The static check of an existing env envlock did not create (see the module docstring)."""
    path = env.path
    shown = _shown(path, project)
    _refuse_project_folder(project, path)
    other = _recorded_project(path)
    if other is not None and other != str(project.root):
        raise ForeignEnvironment(
            f"The environment {shown} belongs to another project ({other}); envlock will not "
            f"change it for {project.root}. Give this project an env of its own "
            "([tool.envlock] env, or remove the setting to use envlock's default)."
        )
    home = _pyvenv_cfg(path).get("home")
    python = env.python
    if not home:
        raise ForeignEnvironment(
            f"{shown} is not a virtual environment (its pyvenv.cfg names no Python 'home'); "
            "envlock will not use it."
        )
    if not python.is_symlink():
        raise ForeignEnvironment(
            f"{python} in the environment {shown} is not a link to a Python installation (a "
            "file committed with the repository?); envlock will not run it. Delete that "
            "environment folder, or point [tool.envlock] env at another one, and sync again."
        )
    target = Path(os.path.realpath(python))
    real_home = Path(os.path.realpath(home))
    if (
        not target.is_relative_to(real_home)
        or target.is_relative_to(project.root)
        or target.is_relative_to(Path(os.path.realpath(path)))
    ):
        raise ForeignEnvironment(
            f"The interpreter of the environment {shown} ({target}) is not the Python its "
            f"pyvenv.cfg names ({home}); envlock will not run it."
        )
    from .pythons import is_known_interpreter

    if not is_known_interpreter(target):
        raise ForeignEnvironment(
            f"The environment {shown} runs {target}, which is not a Python envlock knows on "
            "this machine (the running one, pyenv's, uv's or one on PATH); envlock will not "
            "run it."
        )


def _shown(path: Path, project: Project) -> str:
    try:
        return f"{path.relative_to(project.root)} (in {project.root})"
    except ValueError:
        return str(path)


def _refuse_project_folder(project: Project, path: Path) -> None:
    resolved = path.resolve()
    if resolved == project.root or project.root.is_relative_to(resolved):
        raise ForeignEnvironment(
            f"The environment folder {path} is the project folder or holds it; point "
            "[tool.envlock] env at a folder of its own (for example .venv)."
        )


def _refuse_unusable_location(project: Project, env: EnvInfo) -> None:
    """An env to be created: only where nothing is, an empty folder, or a half-made env of
    envlock's own for this project."""
    path = env.path
    _refuse_project_folder(project, path)
    if path.is_symlink() or (os.path.lexists(path) and not path.is_dir()):
        raise ForeignEnvironment(f"The environment path {path} exists and is not a folder.")
    if not path.is_dir() or is_owned(project, path):
        return
    try:
        empty = not any(path.iterdir())
    except OSError as e:
        raise ForeignEnvironment(f"The environment folder {path} cannot be read: {e}") from e
    if not empty:
        raise ForeignEnvironment(
            f"The environment folder {path} exists, is not a virtual environment and was not "
            "made by envlock; envlock will not delete or fill it. Point [tool.envlock] env at "
            "a new folder."
        )


# ------------------------------------------------------------------ syncing


def site_packages(env_dir: Path) -> list[Path]:
    """Where an env's distributions are installed (POSIX and Windows layouts)."""
    return [*env_dir.glob("lib/python*/site-packages"), env_dir / "Lib" / "site-packages"]


def dist_infos(env_dir: Path) -> list[str]:
    """The env's installed distributions as dist-info folder names: one listdir, no interpreter."""
    names: list[str] = []
    for site in site_packages(env_dir):
        try:
            names += [n for n in os.listdir(site) if n.endswith(".dist-info")]
        except OSError:
            continue
    return sorted(names)


def is_synced(
    env: EnvInfo, lock_sha256: str, project: Project, manifest_sha256: str | None = None
) -> bool:
    """The marker matches this lock, nothing was installed or removed by hand since, and the env
    is still one envlock may use (its own, or one that passes the static check); with
    `manifest_sha256`, the sync was also made (and the lock checked current) for exactly these
    manifest bytes."""
    marker = read_marker(env.path)
    if not (
        env.exists
        and marker.get("lock-sha256") == lock_sha256
        and marker.get("project") == str(project.root)
        and (manifest_sha256 is None or marker.get("manifest-sha256") == manifest_sha256)
        and marker.get("dists") == dist_infos(env.path)
    ):
        return False
    try:
        vet(project, env)
    except ForeignEnvironment:
        return False
    return True


def create(env: EnvInfo, interp: Interpreter, project: Project, progress: Progress) -> None:
    """A fresh virtualenv, without seeding: pip comes from the lock like everything else. The
    folder is recorded as this project's first; a half-made one of its own is started over."""
    import shutil

    from .runner import run_uv

    if env.exists:
        return
    _refuse_unusable_location(project, env)
    _claim(project, env.path)
    if env.path.is_dir() and any(env.path.iterdir()):
        shutil.rmtree(env.path)  # our own, half-made by a killed process: start over
    progress(ProgressEvent("create", f"Creating environment with Python {interp.version}"))
    env.path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # uv venv: 30 ms from a cold process, where importing virtualenv alone costs 0.3 s.
        # No seed packages: pip comes from the lock like everything else.
        run_uv(["venv", str(env.path), f"--python={interp.path}", "--no-project", "--quiet"])
        owner = {"project": str(project.root), "created-by": "jupyter-envlock"}
        write_bytes_atomic(env.path / OWNER, json.dumps(owner).encode())
    except EnvlockError as e:
        remove_own(project, env.path)
        raise ToolError(
            f"Could not create the environment at {env.path}: {e.message}", e.details
        ) from e
    env.python_version = pyvenv_version(env.path) or str(interp.version)


def remove_own(project: Project, env_dir: Path) -> None:
    """Delete an env envlock created for this project (and forget it); anything else stays."""
    import shutil

    if not is_owned(project, env_dir):
        return
    shutil.rmtree(env_dir, ignore_errors=True)
    if not os.path.lexists(env_dir):
        _release(project, env_dir)


@dataclass(frozen=True)
class SyncRequest:
    """What one sync of `project`'s env is asked to do."""

    lock_sha256: str
    editable: bool
    allow_source_builds: Collection[str] = ()  # normalized names; ("*",) for all
    locked_names: Collection[str] = ()  # every package name in the lock
    allow_removals: bool = False
    # the manifest bytes the lock was checked current for (recorded in the marker)
    manifest_sha256: str | None = None
    # what the manager keeps in the marker beside it (read back only while it is verified)
    kept: Mapping[str, object] = field(default_factory=dict)


def sync(
    project: Project,
    env: EnvInfo,
    interp: Interpreter,
    request: SyncRequest,
    progress: Progress = no_progress,
) -> EnvReport:
    """Make `env` match the lock on disk exactly; a no-op when the marker says it already does."""
    if is_synced(env, request.lock_sha256, project):
        marker = read_marker(env.path)
        recorded = {**request.kept, "manifest-sha256": request.manifest_sha256}
        if request.manifest_sha256 and any(marker.get(k) != v for k, v in recorded.items()):
            # the manifest moved on without changing the lock (a comment, a reordering) and was
            # checked current just now: the next no-op can tell from the marker alone
            marker.update(recorded)
            write_bytes_atomic(env.path / MARKER, json.dumps(marker).encode())
        return EnvReport(env.path, env.python_version, noop=True)
    first_build = not env.exists
    if not first_build:
        if ownership(project, env) == "foreign":
            _refuse_unagreed_removals(project, env, request)
        elif built_before_ownership(project, env.path):
            _claim(project, env.path)  # an older envlock's env for this project: adopt it
    old_marker = read_marker(env.path)
    (env.path / MARKER).unlink(missing_ok=True)
    try:
        return _sync_unmarked(project, env, interp, request, progress)
    except BaseException:
        if first_build:
            # nothing of a failed first build is worth keeping: no half-env in the cache
            remove_own(project, env.path)
        elif old_marker and env.exists and old_marker.get("dists") == dist_infos(env.path):
            # uv often fails before touching anything (a download, a hash): then the old
            # marker still describes the env, and a rolled-back lock leaves it in sync as before.
            write_bytes_atomic(env.path / MARKER, json.dumps(old_marker).encode())
        raise


def _build_args(request: SyncRequest) -> list[str]:
    """uv never builds from source what the manifest did not allow: wheels only."""
    allowed = set(request.allow_source_builds)
    if "*" in allowed:
        return []
    if not allowed:
        return ["--no-build"]
    return [f"--only-binary={n}" for n in sorted(set(request.locked_names) - allowed)]


def _sync_args(project: Project, env: EnvInfo, request: SyncRequest) -> list[str]:
    return [
        "pip",
        "sync",
        str(project.lock_path),
        f"--python={env.python}",
        "--strict",
        *_build_args(request),
    ]


def _indexes(project: Project) -> tuple[Any, ...]:
    pyproject = project.pyproject
    return tuple(pyproject.uv_indexes) if pyproject is not None else ()


def _refuse_unagreed_removals(project: Project, env: EnvInfo, request: SyncRequest) -> None:
    """An env envlock did not create: what an exact sync would remove is the user's to agree to."""
    if request.allow_removals:
        return
    from .runner import run_uv

    result = run_uv(
        [*_sync_args(project, env, request), "--dry-run"], project_indexes=_indexes(project)
    )
    # the project's own editable install is removed by the exact sync and put back right after
    own = normalized_name(project.name) if request.editable else None
    removed = sorted(
        f"{m.group(2)} {m.group(3)}"
        for line in result.stderr.splitlines()
        if (m := _CHANGE_LINE.match(line))
        and m.group(1) == "-"
        and normalized_name(m.group(2)) != own
    )
    if removed:
        raise ForeignEnvironment(
            f"Syncing {env.path} (an environment envlock did not create) would remove "
            f"{len(removed)} package(s) the lock does not list: {', '.join(removed)}. Nothing "
            "was changed. If that is what you want, run `jupyter envlock sync --allow-removals "
            f"--project {project.root}`; otherwise point [tool.envlock] env at a new folder."
        )


def _sync_unmarked(
    project: Project,
    env: EnvInfo,
    interp: Interpreter,
    request: SyncRequest,
    progress: Progress,
) -> EnvReport:
    from .runner import run_uv

    create(env, interp, project, progress)
    result = EnvReport(env.path, env.python_version, noop=False)
    progress(ProgressEvent("install", "Installing packages from pylock.toml"))
    try:
        run_uv(
            _sync_args(project, env, request),
            on_line=install_progress(progress, result),
            project_indexes=_indexes(project),
        )
    except EnvlockError as e:
        refused = _NO_BUILD.findall(e.details)
        if refused:
            raise source_build_refused(project, refused, e.details) from e
        raise
    if request.editable:
        progress(ProgressEvent("editable", f"Installing {project.name} (editable)"))
        editable_args = [
            "pip",
            "install",
            "--no-deps",
            f"--python={env.python}",
            f"--editable={project.root}",
        ]
        run_uv(
            editable_args,
            on_line=install_progress(progress, result),
            project_indexes=_indexes(project),
        )
    _drop_reinstalls(result)
    marker = {
        "lock-sha256": request.lock_sha256,
        "manifest-sha256": request.manifest_sha256,
        "project": str(project.root),
        "editable": request.editable,
        "dists": dist_infos(env.path),
        **request.kept,
    }
    write_bytes_atomic(env.path / MARKER, json.dumps(marker).encode())
    return result


def source_build_refused(project: Project, names: list[str], details: str) -> SourceBuildRefused:
    shown = ", ".join(sorted(set(names)))
    listed = ", ".join(f'"{normalized_name(n)}"' for n in sorted(set(names)))
    return SourceBuildRefused(
        f"pylock.toml would build {shown} from source (an sdist, a folder or a git checkout in "
        "the lock), which runs its build code; envlock installs wheels only unless "
        f"{project.manifest_path} allows it: add `allow-source-builds = [{listed}]` under "
        "[tool.envlock] if you trust that code. Nothing was installed.",
        details,
    )


def install_progress(progress: Progress, result: EnvReport) -> Callable[[str], None]:
    """Progress from one uv run's output, counted for that run alone (the sync and the editable
    install are two runs: counting across them showed "[32/31]"), never past its total."""
    total: list[int] = [0]
    done: list[int] = [0]

    def on_line(line: str) -> None:
        if line.startswith("Index unreachable"):
            progress(ProgressEvent("install", line))
            return
        change = _CHANGE_LINE.match(line)
        if change:
            sign, name, version = change.groups()
            target = result.installed if sign == "+" else result.removed
            target.append(f"{normalized_name(name)}=={version}")
            if sign == "+":
                done[0] += 1
                total[0] = max(total[0], done[0])
                progress(ProgressEvent("install", f"Installed {name} {version}", done[0], total[0]))
            return
        count = _COUNT_LINE.match(line)
        if count:
            verb, n = count.group(1), int(count.group(2))
            if verb in ("Prepared", "Installed"):
                total[0] = max(total[0], n)
            progress(ProgressEvent("install", line.strip(), None, None))

    return on_line


_DIST_INFO_PATTERNS = ("lib/python*/site-packages/*.dist-info", "Lib/site-packages/*.dist-info")


def _dist_info_dirs(env_dir: Path) -> dict[str, tuple[str, Path]]:
    """name -> (version, dist-info folder) of what is installed, from the folder names."""
    out: dict[str, tuple[str, Path]] = {}
    for pattern in _DIST_INFO_PATTERNS:
        for info in env_dir.glob(pattern):
            stem = info.name[: -len(".dist-info")]
            name, _, version = stem.partition("-")
            if name and version:
                out[normalized_name(name)] = (version, info)
    return out


def _drop_reinstalls(result: EnvReport) -> None:
    """A package removed and installed again at the same version did not change: the exact
    sync removes the project's own editable install (the lock does not list it) and the
    editable step puts it back, which read as "1 removed" after every change."""
    again = set(result.installed) & set(result.removed)
    result.installed[:] = [p for p in result.installed if p not in again]
    result.removed[:] = [p for p in result.removed if p not in again]


def installed_distributions(env_dir: Path) -> dict[str, str]:
    """name -> version of what is installed, read from dist-info folder names (no interpreter)."""
    return {name: version for name, (version, _) in _dist_info_dirs(env_dir).items()}


def installed_requires(env_dir: Path) -> dict[str, list[Requirement]]:
    """name -> the `Requires-Dist` of each installed distribution (read from METADATA headers;
    an unreadable file or line is skipped, as installers do)."""
    from email.parser import HeaderParser

    from packaging.requirements import InvalidRequirement, Requirement

    out: dict[str, list[Requirement]] = {}
    for name, (_, info) in _dist_info_dirs(env_dir).items():
        try:
            text = (info / "METADATA").read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        headers = HeaderParser().parsestr(text.split("\n\n", 1)[0])
        requires = []
        for line in headers.get_all("Requires-Dist") or []:
            try:
                requires.append(Requirement(line))
            except InvalidRequirement:
                continue
        out[name] = requires
    return out
