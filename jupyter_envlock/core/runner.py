"""The one place that runs the tools envlock drives, uv and Poetry: argument lists only (never a
shell), one pipe-reading loop, errors classified once per tool.

uv reads settings from the folder it runs in and every folder above it (`[tool.uv]` and
`[tool.uv.pip]` in a pyproject.toml, a `uv.toml`): run in a cloned repository, those would choose
where `uv pip sync` installs (`target`, `prefix`) and what it removes. So envlock's own uv
commands run in a folder of envlock's own (`neutral_dir()`), and every path they are given is
absolute; the project's indexes are passed explicitly (core/indexes.py). `--no-config` would do
the first half too, but it also drops the user's own `~/.config/uv/uv.toml`, which must keep
applying. A uv *project*'s commands (core/managers/uv.py) run in the project, as the user's
terminal runs them, and only for a trusted project.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from .errors import (
    BuildFailed,
    EnvlockError,
    NotADependency,
    ResolutionError,
    ToolError,
    ToolMissing,
)
from .indexes import redact, with_indexes
from .project import cache_dir

MIN_UV = Version("0.9.0")

# uv's words for "your requirements cannot be met": a user error, not a failure.
_RESOLUTION_MARKERS = (
    "No solution found",
    "not found in the package registry",
    "was not found in the provided package locations",
    "we can conclude that",
    "requirements are unsatisfiable",
    "is not available in the",
    "Because there is no version of",
)
_NETWORK_MARKERS = (
    "Failed to fetch",
    "Could not connect",
    "tcp connect error",
    "Connection refused",
    "dns error",
    "error sending request",
    "operation timed out",
    "Network connectivity is disabled",
)
_DISK_FULL_MARKERS = ("No space left on device", "os error 28", "Disk quota exceeded")


@dataclass(frozen=True)
class ToolResult:
    stdout: str
    stderr: str
    returncode: int


UvResult = ToolResult


@cache
def uv_bin() -> str:
    """uv from the `uv` package on PyPI, checked once against the minimum version we need."""
    try:
        from uv import find_uv_bin

        path = find_uv_bin()
    except (ImportError, FileNotFoundError) as e:
        raise ToolError("uv is not installed; `pip install uv` fixes it.") from e
    version = _uv_version(path)
    if version < MIN_UV:
        raise ToolError(f"uv {version} is too old; jupyter-envlock needs uv >= {MIN_UV}.")
    return path


def _uv_version(path: str) -> Version:
    """The `uv` package's version from its dist-info folder name (a listdir); a uv from
    elsewhere is asked with `uv --version` (one more process per command)."""
    import uv

    site = Path(uv.__file__).resolve().parent.parent
    for info in site.glob("uv-*.dist-info"):
        try:
            return Version(info.name[len("uv-") : -len(".dist-info")])
        except InvalidVersion:
            break
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
    try:
        return Version(out.split()[1])
    except (IndexError, InvalidVersion) as e:
        raise ToolError(f"Cannot read uv's version from {out!r}.") from e


def neutral_dir() -> Path:
    """The folder uv runs in: envlock's own, holding no pyproject.toml or uv.toml, so uv finds
    no project settings (above it lie only the user's cache and home folders)."""
    folder = cache_dir() / "work"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def uv_environment(
    project_indexes: Sequence[Mapping[str, Any]] = (), envlock_indexes: bool = True
) -> dict[str, str]:
    """uv's environment: never download a Python behind the user's back (we choose one
    ourselves); the user's index settings, then the project's (unless `envlock_indexes` is off:
    a uv project's own command, which reads its indexes from the project as uv does)."""
    env = with_indexes(os.environ, project_indexes) if envlock_indexes else dict(os.environ)
    env.setdefault("UV_PYTHON_DOWNLOADS", "never")
    # pylock.toml is what we read and write on purpose: uv's "experimental" warning would
    # otherwise open every error shown to users.
    env.setdefault("UV_PREVIEW_FEATURES", "pylock")
    env.pop("VIRTUAL_ENV", None)  # --python decides the target, not the server's own venv
    # We read uv's output ("+ name==version"); ipykernel and many CI systems force colour on.
    for key in ("FORCE_COLOR", "CLICOLOR_FORCE"):
        env.pop(key, None)
    env["NO_COLOR"] = "1"
    return env


def run_uv(
    args: Sequence[str],
    cwd: Path | None = None,
    on_line: Callable[[str], None] | None = None,
    project_indexes: Sequence[Mapping[str, Any]] = (),
    offline_fallback: bool = True,
    envlock_indexes: bool = True,
) -> ToolResult:
    """Run `uv ARGS`, in `neutral_dir()` unless a `cwd` is given (a uv *project* command, which
    is meant to read that project's settings); when no index can be reached, try once more from
    uv's cache (--offline), so a warm cache keeps working on a train (unless `offline_fallback`
    is off: a question about what the index has now). Failures raise a classified error."""
    where = cwd if cwd is not None else neutral_dir()
    try:
        return _run_uv_once(args, where, on_line, project_indexes, envlock_indexes)
    except ToolError as e:
        if not offline_fallback or not is_network_error(e) or "--offline" in args:
            raise
        if on_line:
            on_line("Index unreachable; trying uv's cache (offline)")
        try:
            return _run_uv_once(
                [*args, "--offline"], where, on_line, project_indexes, envlock_indexes
            )
        except EnvlockError:
            raise e from None


def _run_uv_once(
    args: Sequence[str],
    cwd: Path,
    on_line: Callable[[str], None] | None,
    project_indexes: Sequence[Mapping[str, Any]],
    envlock_indexes: bool,
) -> ToolResult:
    argv = [uv_bin(), *args]
    env = uv_environment(project_indexes, envlock_indexes)
    result = run_process("uv", argv, cwd, env, on_line)
    if result.returncode != 0:
        raise classify_failure(args[:2], result.stderr)
    return result


def run_process(
    tool: str,
    argv: Sequence[str],
    cwd: Path,
    env: Mapping[str, str],
    on_line: Callable[[str], None] | None = None,
    merge_output: bool = False,
) -> ToolResult:
    """Run one tool command: stderr line by line to `on_line` (progress), stdout collected beside
    it; with `merge_output`, stdout joins stderr (Poetry reports progress on stdout). What is
    shown is redacted of credentials. Never raises for an exit code: callers classify."""
    try:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merge_output else subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
    except OSError as e:
        raise ToolError(f"Could not run {tool}: {e}") from e
    lines: list[str] = []
    out_chunks: list[str] = []
    with proc:  # closes both pipes, whatever happens
        assert proc.stdout is not None
        live = proc.stdout if merge_output else proc.stderr
        assert live is not None
        reader: threading.Thread | None = None
        if not merge_output:
            # stdout in a thread (it can be large: an export), stderr live for progress
            stdout_pipe = proc.stdout
            reader = threading.Thread(
                target=lambda: out_chunks.append(stdout_pipe.read()), daemon=True
            )
            reader.start()
        for line in live:
            lines.append(line)
            if on_line:
                on_line(redact(line.rstrip("\n")))
        code = proc.wait()
        if reader is not None:
            reader.join()
    return ToolResult("".join(out_chunks), redact("".join(lines)), code)


_BUILD_FAILED = re.compile(r"Failed to build `([^`]+)`")
_PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$")


def classify_failure(what: Sequence[str], stderr: str) -> Exception:
    details = _clean(stderr)
    label = " ".join(what)
    if any(m in stderr for m in _DISK_FULL_MARKERS):
        return ToolError(f"The disk is full: uv {label} ran out of space.", details)
    build = _BUILD_FAILED.search(details)
    if build:
        return build_failure(build.group(1), details)
    if any(m in stderr for m in _NETWORK_MARKERS) and not any(
        m in stderr for m in _RESOLUTION_MARKERS[:1]
    ):
        return ToolError(
            f"uv {label} could not reach a package index (offline, or the index is down).",
            details,
        )
    if any(m in stderr for m in _RESOLUTION_MARKERS):
        return ResolutionError("The requirements cannot be resolved.", details)
    return ToolError(f"uv {label} failed.", details)


def build_failure(target: str, details: str) -> BuildFailed:
    """uv's "Failed to build `name==version`", led by the build's own last word (the last line
    its backend wrote, usually the exception), not by the forty lines before it."""
    pinned = _PINNED.match(target)
    package, version = (pinned.group(1), pinned.group(2)) if pinned else (target, None)
    reason = _build_reason(details)
    shown = f"{package} {version}" if version else package
    return BuildFailed(
        f"Building {shown} from source failed: {reason}", details, package, version, reason
    )


def _build_reason(details: str) -> str:
    lines = details.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == "[stderr]"), None)
    if start is not None:
        block = []
        for line in lines[start + 1 :]:
            if line.startswith(("hint:", "help:")):
                break
            block.append(line.strip())
        said = [line for line in block if line]
        if said:
            return said[-1]
    causes = [
        re.split(r"cause:|─▶", line, maxsplit=1)[-1].strip()
        for line in lines
        if "cause:" in line or "─▶" in line
    ]
    return causes[-1] if causes else "see the details"


def is_network_error(error: Exception) -> bool:
    return isinstance(error, ToolError) and "could not reach a package index" in error.message


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _clean(text: str) -> str:
    return _ANSI.sub("", text).strip()


# --------------------------------------------------------------------------- Poetry

MIN_POETRY = Version("2.0")
POETRY_VARIABLE = "JUPYTER_ENVLOCK_POETRY"  # the server's `poetry_path` setting lands here
POETRY_INSTALL_HINT = (
    "Install it with `pipx install poetry` (or https://python-poetry.org/docs/#installation), "
    f"or set {POETRY_VARIABLE} to its path."
)
# Poetry's words for "your requirements cannot be met".
_POETRY_RESOLUTION_MARKERS = (
    "version solving failed",
    "SolverProblemError",
    "Could not find a matching version",
    "which doesn't match any versions",
    "depends on",
    "not found",
    "could not be found",
    "Could not parse version constraint",
    "Invalid requirement",
    "is not compatible with",
)
_POETRY_NETWORK_MARKERS = (
    "Max retries exceeded",
    "Failed to establish a new connection",
    "Connection refused",
    "ConnectionError",
    "ProxyError",
    "Name or service not known",
    "Read timed out",
    "Temporary failure in name resolution",
)
# Activated environments take over Poetry's choice of env (verified, Poetry 2.5): a server
# started from an activated venv would make `poetry sync` exact-sync the server's own env.
_POETRY_SCRUBBED = (
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "CONDA_DEFAULT_ENV",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONEXECUTABLE",
    "__PYVENV_LAUNCHER__",
)


def poetry_candidates() -> list[Path]:
    """Where Poetry may be, in order: the configured path, PATH, then the places its installers
    use (a server started from a desktop launcher often lacks ~/.local/bin on PATH)."""
    import shutil

    from platformdirs import user_data_path

    exe = "poetry.exe" if os.name == "nt" else "poetry"
    scripts = "Scripts" if os.name == "nt" else "bin"
    found: list[Path] = []
    configured = os.environ.get(POETRY_VARIABLE)
    if configured:
        found.append(Path(configured).expanduser())
    on_path = shutil.which("poetry")
    if on_path:
        found.append(Path(on_path))
    home = Path.home()
    if os.environ.get("POETRY_HOME"):
        found.append(Path(os.environ["POETRY_HOME"]).expanduser() / scripts / exe)
    found.append(home / ".local" / "bin" / exe)
    found.append(user_data_path("pypoetry", appauthor=False, roaming=True) / "venv" / scripts / exe)
    pipx_home = Path(os.environ.get("PIPX_HOME") or home / ".local" / "share" / "pipx")
    found.append(pipx_home / "venvs" / "poetry" / scripts / exe)
    if os.name == "nt" and os.environ.get("APPDATA"):
        found.append(Path(os.environ["APPDATA"]) / "Python" / "Scripts" / exe)
    return found


def find_poetry() -> Path | None:
    """The first Poetry executable of `poetry_candidates()`: stat calls, no process."""
    for candidate in poetry_candidates():
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def poetry_missing_message(what: str) -> str:
    return f"{what} is a Poetry project, and Poetry is not installed here. {POETRY_INSTALL_HINT}"


@cache
def _poetry_version(exe: Path) -> Version | None:
    """The version of the Poetry behind `exe`: from the dist-info beside its script (pipx, the
    official installer and pip all install it into a venv of its own), else `poetry --version`."""
    venv = exe.resolve().parent.parent
    for info in (*venv.glob("lib/python*/site-packages/poetry-*.dist-info"),
                 *venv.glob("Lib/site-packages/poetry-*.dist-info")):  # fmt: skip
        try:
            return Version(info.name[len("poetry-") : -len(".dist-info")])
        except InvalidVersion:
            continue
    out = subprocess.run(
        [str(exe), "--version", "--no-ansi"],
        capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL, timeout=60,
        env=poetry_environment({}),
    ).stdout  # fmt: skip
    match = re.search(r"version (\S+?)\)?\s*$", out.strip())
    try:
        return Version(match.group(1)) if match else None
    except InvalidVersion:
        return None


def poetry_bin(what: str) -> Path:
    """Poetry, found and checked (Poetry 2 reads [project] and has `sync`); `what` names the
    project in the error when it is missing."""
    exe = find_poetry()
    if exe is None:
        raise ToolMissing(poetry_missing_message(what))
    version = _poetry_version(exe)
    if version is not None and version < MIN_POETRY:
        raise ToolMissing(
            f"Poetry {version} ({exe}) is too old; jupyter-envlock needs Poetry >= {MIN_POETRY}. "
            "Upgrade it with `pipx upgrade poetry` (or `poetry self update`)."
        )
    return exe


def poetry_environment(settings: Mapping[str, str]) -> dict[str, str]:
    """Poetry's environment: the user's own POETRY_* settings, no activated env, no colour, no
    prompts, then `settings` (the manager pins where envs and caches go)."""
    env = {k: v for k, v in os.environ.items() if k not in _POETRY_SCRUBBED}
    for key in ("FORCE_COLOR", "CLICOLOR_FORCE"):
        env.pop(key, None)
    env["NO_COLOR"] = "1"
    env["POETRY_NO_INTERACTION"] = "1"
    env.update(settings)
    return env


def run_poetry(
    exe: Path,
    args: Sequence[str],
    cwd: Path,
    settings: Mapping[str, str],
    on_line: Callable[[str], None] | None = None,
    check: bool = True,
    merge_output: bool = True,
) -> ToolResult:
    """Run `poetry ARGS` in `cwd` (never interactive, never coloured). With `check`, a failure
    raises a classified error; otherwise the caller reads the result."""
    argv = [str(exe), "--no-ansi", "--no-interaction", *args]
    result = run_process(
        "Poetry", argv, cwd, poetry_environment(settings), on_line, merge_output=merge_output
    )
    if check and result.returncode != 0:
        raise classify_poetry_failure(args[:1], result.stderr + result.stdout)
    return result


def classify_poetry_failure(what: Sequence[str], output: str) -> Exception:
    details = _clean(output)
    label = " ".join(what)
    if any(m in output for m in _POETRY_NETWORK_MARKERS):
        return ToolError(
            f"poetry {label} could not reach a package source (offline, or the source is down).",
            details,
        )
    if "The following packages were not found" in output:
        return NotADependency(details.splitlines()[-1] if details else "Not a dependency.")
    if any(m in output for m in _POETRY_RESOLUTION_MARKERS):
        return ResolutionError("The requirements cannot be resolved (Poetry).", details)
    return ToolError(f"poetry {label} failed.", details)
