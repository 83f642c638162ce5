"""The project's virtualenv: created by `uv venv`, filled exactly from the lock by `uv pip sync`.

A marker file in the env records the sha256 of the lock it was last synced to. It is removed before
any change and written after a complete sync, so a process killed mid-sync leaves no marker and the
next sync repairs the env. An unchanged lock therefore costs one small file read, no uv process.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from .atomic import write_bytes_atomic
from .errors import EnvlockError, ManifestError, ToolError
from .progress import Progress, ProgressEvent, no_progress
from .project import Project, cache_dir
from .pythons import Interpreter, choose
from .results import EnvReport
from .runner import run_uv

MARKER = ".envlock-sync.json"
_CHANGE_LINE = re.compile(r"^\s*([+-])\s+([A-Za-z0-9._-]+)==(\S+)")
_COUNT_LINE = re.compile(r"^(Resolved|Prepared|Installed|Uninstalled|Audited)\s+(\d+)\s+package")


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


def pyvenv_version(env_dir: Path) -> str | None:
    """The env's Python version from pyvenv.cfg: no interpreter start needed."""
    try:
        text = (env_dir / "pyvenv.cfg").read_text(encoding="utf-8")
    except OSError:
        return None
    for key in ("version_info", "version"):
        match = re.search(rf"^{key}\s*=\s*(\d+\.\d+\.\d+)", text, re.MULTILINE)
        if match:
            return match.group(1)
    return None


def locate(project: Project, requires_python: str | None) -> EnvInfo | None:
    """The project's existing env, if any, whose Python still satisfies requires-python."""
    configured = project.configured_env_dir()
    if configured is not None:
        return EnvInfo(configured, pyvenv_version(configured))
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
    """Where the env goes and which interpreter builds it (an existing fitting env wins)."""
    existing = locate(project, requires_python)
    if existing is not None and existing.exists and existing.python_version:
        interp = Interpreter(existing.python, Version(existing.python_version))
        return existing, interp
    interp = choose(requires_python, preferred)
    configured = project.configured_env_dir()
    path = configured if configured is not None else project.default_env_dir(interp.minor)
    return EnvInfo(path, str(interp.version)), interp


def read_marker(env_dir: Path) -> dict[str, Any]:
    try:
        marker = json.loads((env_dir / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return marker if isinstance(marker, dict) else {}


def dist_infos(env_dir: Path) -> list[str]:
    """The env's installed distributions as dist-info folder names: one listdir, no interpreter."""
    names: list[str] = []
    for site in (*env_dir.glob("lib/python*/site-packages"), env_dir / "Lib" / "site-packages"):
        try:
            names += [n for n in os.listdir(site) if n.endswith(".dist-info")]
        except OSError:
            continue
    return sorted(names)


def is_synced(env: EnvInfo, lock_sha256: str, project: Project) -> bool:
    """The marker matches this lock and nothing was installed or removed by hand since."""
    marker = read_marker(env.path)
    return (
        env.exists
        and marker.get("lock-sha256") == lock_sha256
        and marker.get("project") == str(project.root)
        and marker.get("dists") == dist_infos(env.path)
    )


# What virtualenv puts in an env folder: a folder holding only these may be a half-made env.
_VENV_ENTRIES = frozenset(
    {
        "pyvenv.cfg",
        "bin",
        "lib",
        "lib64",
        "include",
        "share",
        "Scripts",
        "Lib",
        "Include",
        ".gitignore",
        "CACHEDIR.TAG",
        MARKER,
    }
)


def _refuse_unsafe_location(path: Path, project_root: Path) -> None:
    """The env folder can come from a cloned repository's [tool.envlock] env: never delete or
    fill a folder that is not a virtualenv, nor the project (or a folder holding it)."""
    resolved = path.resolve()
    if resolved == project_root or project_root.is_relative_to(resolved):
        raise ManifestError(
            f"The environment folder {path} is the project folder or holds it; point "
            "[tool.envlock] env at a folder of its own (for example .venv)."
        )
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise ManifestError(f"The environment path {path} exists and is not a folder.")
    if path.is_dir():
        entries = {e.name for e in path.iterdir()}
        if entries and "pyvenv.cfg" not in entries and not entries <= _VENV_ENTRIES:
            raise ManifestError(
                f"The environment folder {path} exists and is not a virtualenv; envlock will "
                "not delete or fill it. Point [tool.envlock] env at a new folder, or empty it."
            )


def create(env: EnvInfo, interp: Interpreter, progress: Progress) -> None:
    """A fresh virtualenv, without seeding: pip comes from the lock like everything else."""
    if env.exists:
        return
    if env.path.exists() and any(env.path.iterdir()):
        shutil.rmtree(env.path)  # half-made by a killed process: start over
    progress(ProgressEvent("create", f"Creating environment with Python {interp.version}"))
    env.path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # uv venv: 30 ms from a cold process, where importing virtualenv alone costs 0.3 s.
        # No seed packages: pip comes from the lock like everything else.
        run_uv(
            ["venv", str(env.path), f"--python={interp.path}", "--no-project", "--quiet"],
            cwd=env.path.parent,
            with_indexes=False,
        )
    except EnvlockError as e:
        shutil.rmtree(env.path, ignore_errors=True)
        raise ToolError(
            f"Could not create the environment at {env.path}: {e.message}", e.details
        ) from e
    env.python_version = pyvenv_version(env.path) or str(interp.version)


def sync(
    project: Project,
    env: EnvInfo,
    interp: Interpreter,
    lock_sha256: str,
    editable: bool,
    progress: Progress = no_progress,
) -> EnvReport:
    """Make `env` match the lock on disk exactly; a no-op when the marker says it already does."""
    if is_synced(env, lock_sha256, project):
        return EnvReport(env.path, env.python_version, noop=True)
    if not env.exists:
        _refuse_unsafe_location(env.path, project.root)
    old_marker = read_marker(env.path)
    (env.path / MARKER).unlink(missing_ok=True)
    try:
        return _sync_unmarked(project, env, interp, lock_sha256, editable, progress)
    except BaseException:
        # uv often fails before touching anything (a download, a hash): then the old marker
        # still describes the env, and a rolled-back lock leaves the env in sync as before.
        if old_marker and env.exists and old_marker.get("dists") == dist_infos(env.path):
            write_bytes_atomic(env.path / MARKER, json.dumps(old_marker).encode())
        raise


def _sync_unmarked(
    project: Project,
    env: EnvInfo,
    interp: Interpreter,
    lock_sha256: str,
    editable: bool,
    progress: Progress,
) -> EnvReport:
    create(env, interp, progress)
    result = EnvReport(env.path, env.python_version, noop=False)
    progress(ProgressEvent("install", "Installing packages from pylock.toml"))
    args = ["pip", "sync", str(project.lock_path), f"--python={env.python}", "--strict"]
    run_uv(args, cwd=project.root, on_line=install_progress(progress, result))
    if editable:
        progress(ProgressEvent("editable", f"Installing {project.name} (editable)"))
        editable_args = [
            "pip",
            "install",
            "--no-deps",
            f"--python={env.python}",
            f"--editable={project.root}",
        ]
        run_uv(editable_args, cwd=project.root, on_line=install_progress(progress, result))
    _drop_reinstalls(result)
    marker = {
        "lock-sha256": lock_sha256,
        "project": str(project.root),
        "editable": editable,
        "dists": dist_infos(env.path),
    }
    write_bytes_atomic(env.path / MARKER, json.dumps(marker).encode())
    return result


def install_progress(progress: Progress, result: EnvReport) -> Callable[[str], None]:
    """A uv output reader: "+ name==version" lines go into `result`, progress counted for that
    run alone (the sync and the editable install are two runs: counting across them showed
    "[32/31]"), never past its total."""
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
            target.append(f"{canonicalize_name(name)}=={version}")
            if sign == "+":
                done[0] += 1
                total[0] = max(total[0], done[0])
                progress(
                    ProgressEvent("install", f"Installed {name} {version}", done[0], total[0])
                )
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
                out[canonicalize_name(name)] = (version, info)
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
