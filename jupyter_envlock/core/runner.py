"""The one place that runs uv: argument lists only (never a shell), errors classified once.

uv reads settings from the folder it runs in and every folder above it (`[tool.uv]` and
`[tool.uv.pip]` in a pyproject.toml, a `uv.toml`): run in a cloned repository, those would choose
where `uv pip sync` installs (`target`, `prefix`) and what it removes. So uv runs in a folder of
envlock's own (`neutral_dir()`), and every path it is given is absolute; the project's indexes
are passed explicitly (core/indexes.py). `--no-config` would do the first half too, but it also
drops the user's own `~/.config/uv/uv.toml`, which must keep applying.
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

from .errors import BuildFailed, EnvlockError, ResolutionError, ToolError
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
class UvResult:
    stdout: str
    stderr: str
    returncode: int


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


def uv_environment(project_indexes: Sequence[Mapping[str, Any]] = ()) -> dict[str, str]:
    """uv's environment: never download a Python behind the user's back (we choose one
    ourselves); the user's index settings, then the project's."""
    env = with_indexes(os.environ, project_indexes)
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
) -> UvResult:
    """Run `uv ARGS`, in `neutral_dir()` unless a `cwd` is given (a uv *project* command, which
    is meant to read that project's settings); when no index can be reached, try once more from
    uv's cache (--offline), so a warm cache keeps working on a train (unless `offline_fallback`
    is off: a question about what the index has now). Failures raise a classified error."""
    where = cwd if cwd is not None else neutral_dir()
    try:
        return _run_uv_once(args, where, on_line, project_indexes)
    except ToolError as e:
        if not offline_fallback or not is_network_error(e) or "--offline" in args:
            raise
        if on_line:
            on_line("Index unreachable; trying uv's cache (offline)")
        try:
            return _run_uv_once([*args, "--offline"], where, on_line, project_indexes)
        except EnvlockError:
            raise e from None


def _run_uv_once(
    args: Sequence[str],
    cwd: Path,
    on_line: Callable[[str], None] | None,
    project_indexes: Sequence[Mapping[str, Any]],
) -> UvResult:
    argv = [uv_bin(), *args]
    try:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=uv_environment(project_indexes),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
    except OSError as e:
        raise ToolError(f"Could not run uv: {e}") from e
    err_lines: list[str] = []
    out_chunks: list[str] = []
    with proc:  # closes both pipes, whatever happens
        assert proc.stderr is not None and proc.stdout is not None
        stdout_pipe = proc.stdout
        # stdout in a thread (it can be large: an export), stderr live for progress
        reader = threading.Thread(target=lambda: out_chunks.append(stdout_pipe.read()), daemon=True)
        reader.start()
        for line in proc.stderr:
            err_lines.append(line)
            if on_line:
                on_line(line.rstrip("\n"))
        code = proc.wait()
        reader.join()
    stdout = "".join(out_chunks)
    stderr = redact("".join(err_lines))
    if code != 0:
        raise classify_failure(args[:2], stderr)
    return UvResult(stdout, stderr, code)


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
    causes = [re.split(r"cause:|─▶", line, maxsplit=1)[-1].strip() for line in lines
              if "cause:" in line or "─▶" in line]
    return causes[-1] if causes else "see the details"


def is_network_error(error: Exception) -> bool:
    return isinstance(error, ToolError) and "could not reach a package index" in error.message


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _clean(text: str) -> str:
    return _ANSI.sub("", text).strip()
