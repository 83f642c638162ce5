"""A sandbox for hostile-repository tests: a fake HOME with victims around it, sentinels
snapshotted byte for byte, and a canary that repository code writes when it runs.

A cloned repository is input from a stranger (issue 9). To show that envlock neither touches what
is not its own nor runs a repository's code before the user trusts it, a test builds a small world
where the things a hostile repository would aim at exist and are worth protecting:

- ``home/.local`` (bin, lib/pythonX.Y/site-packages, share): the folder that *looks* like a
  half-made env;
- ``home/.venv``: someone's existing venv with a package in it (an exact sync would remove it);
- ``victims/target``: a plain site-packages folder with packages in it (a ``target =`` redirect);
- ``victims/base``: a venv made from a pyenv Python, standing in for a base interpreter (a
  committed ``.venv/bin/python`` that execs it would make uv rewrite it) -- never the machine's own
  Python;
- ``victims/pyenv-version``: a folder laid out like a pyenv version folder;
- an existing ``python3`` kernel spec and a ``nbsignatures.db`` in the fake Jupyter data dir.

Every variable through which Jupyter, IPython, uv, pip, platformdirs or envlock find a folder
points inside the sandbox. The layout under the test's ``tmp_path`` matches pytest-jupyter's own
(``home``, ``data``, ``config``, ``runtime``, ``root_dir``), so a sandboxed test may also start the
in-process server. Hostile code writes a file into ``canary/`` when it runs (:func:`canary_code`).
"""

from __future__ import annotations

import ast
import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .isolation import isolate, offline_settings
from .wheelhouse import sha256_file
from .wheels import build_wheel

VICTIM_PACKAGE = "victimlib"  # installed in every victim env; an exact sync would remove it
PYTHON3_SPEC = {
    "argv": [
        "/opt/python3-of-the-user/bin/python",
        "-m",
        "ipykernel_launcher",
        "-f",
        "{connection_file}",
    ],
    "display_name": "Python 3 (the user's own)",
    "language": "python",
}


# --------------------------------------------------------------------------- snapshots


@dataclass(frozen=True)
class Entry:
    """One filesystem entry as a snapshot records it (a folder has no size or hash)."""

    kind: str  # "file", "dir", "symlink"
    mode: int
    mtime_ns: int
    size: int | None = None
    sha256: str | None = None
    target: str | None = None  # a symlink's target

    def describe(self) -> str:
        parts = [self.kind, f"mode {stat.filemode(self.mode)}", f"mtime {self.mtime_ns}"]
        if self.size is not None:
            parts.append(f"{self.size} bytes")
        if self.sha256 is not None:
            parts.append(f"sha256 {self.sha256[:12]}")
        if self.target is not None:
            parts.append(f"-> {self.target}")
        return ", ".join(parts)


Snapshot = dict[str, Entry]


def _entry(path: Path) -> Entry:
    st = path.lstat()
    if stat.S_ISLNK(st.st_mode):
        return Entry("symlink", st.st_mode, st.st_mtime_ns, target=os.readlink(path))
    if stat.S_ISDIR(st.st_mode):
        return Entry("dir", st.st_mode, st.st_mtime_ns)
    return Entry("file", st.st_mode, st.st_mtime_ns, st.st_size, sha256_file(path))


def _walk(root: Path) -> Iterator[Path]:
    """`root` and everything below it, without following symlinks."""
    if not os.path.lexists(root):
        return
    yield root
    if root.is_symlink() or not root.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in sorted(dirnames) + sorted(filenames):
            yield Path(dirpath) / name


def snapshot(roots: Iterable[Path]) -> Snapshot:
    """Path, kind, mode, mtime, size and sha256 of every entry at or below each root. A root that
    does not exist is recorded as absent (so its creation shows up as a change)."""
    out: Snapshot = {}
    for root in roots:
        found = False
        for path in _walk(Path(root)):
            found = True
            out[str(path)] = _entry(path)
        if not found:
            out[str(root)] = Entry("absent", 0, 0)
    return out


def diff(before: Snapshot, after: Snapshot) -> list[str]:
    """What changed between two snapshots, one readable line per path."""
    lines = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old == new:
            continue
        if old is None or old.kind == "absent":
            lines.append(f"added    {path} ({new.describe() if new else '?'})")
        elif new is None or new.kind == "absent":
            lines.append(f"removed  {path} (was {old.describe()})")
        else:
            what = [
                f"{label} {a} -> {b}"
                for label, a, b in (
                    ("kind", old.kind, new.kind),
                    ("mode", stat.filemode(old.mode), stat.filemode(new.mode)),
                    ("size", old.size, new.size),
                    ("sha256", (old.sha256 or "")[:12], (new.sha256 or "")[:12]),
                    ("target", old.target, new.target),
                    ("mtime", old.mtime_ns, new.mtime_ns),
                )
                if a != b
            ]
            lines.append(f"changed  {path}: " + "; ".join(what))
    return lines


class SentinelsChanged(AssertionError):
    """Raised by :meth:`Sandbox.assert_untouched`; the message lists every change."""


# --------------------------------------------------------------------------- canary


def canary_code(canary_dir: Path, label: str) -> str:
    """Python source that records, in `canary_dir`, that repository code ran, who ran it and
    where. It imports only `os` and `sys` (it may itself be a shadowing `json.py`) and leaves no
    names behind but ``_cn_*``, so it can head any file."""
    return (
        "import os as _cn_os, sys as _cn_sys\n"
        f"_cn_dir = {str(canary_dir)!r}\n"
        "_cn_os.makedirs(_cn_dir, exist_ok=True)\n"
        f"with open(_cn_os.path.join(_cn_dir, {label!r} + '-' + str(_cn_os.getpid())), 'w') as _cn_f:\n"
        f"    _cn_f.write(repr({{'label': {label!r}, 'executable': _cn_sys.executable,\n"
        "                       'argv': _cn_sys.argv, 'cwd': _cn_os.getcwd()}))\n"
    )


def canary_shell(canary_dir: Path, label: str) -> str:
    """The same record from a POSIX shell script (a committed `.venv/bin/python`): label, how
    many arguments and the first one (uv's interpreter query passes a script with quotes and
    newlines, so the arguments themselves are not copied into JSON)."""
    quoted = str(canary_dir).replace("'", "'\\''")
    return (
        f"mkdir -p '{quoted}'\n"
        f'printf \'{{"label": "{label}", "argc": %d, "first": "%s"}}\' '
        f'"$#" "$(printf %s "$1" | tr -d \'"\\\\\\n\' | cut -c1-40)" '
        f"> '{quoted}/{label}-'$$\n"
    )


@dataclass(frozen=True)
class Canary:
    """One record a piece of repository code wrote when it ran."""

    path: Path
    data: dict

    @property
    def label(self) -> str:
        return str(self.data.get("label", self.path.name))

    def __str__(self) -> str:
        return f"{self.label}: {json.dumps(self.data)}"


# --------------------------------------------------------------------------- the sandbox


@dataclass
class Sandbox:
    """The fake world of one test. Build it with :func:`build_sandbox` (or the ``sandbox``
    fixture), which also records the baseline snapshot."""

    base: Path  # the test's tmp_path
    base_python: Path  # the stand-in base interpreter (victims/base/bin/python)
    uv: str
    baseline: Snapshot = field(default_factory=dict)

    # -- where things are ------------------------------------------------------------------

    @property
    def home(self) -> Path:
        return self.base / "home"

    @property
    def local(self) -> Path:
        """``~/.local``: bin, lib, share -- looks like a half-made env."""
        return self.home / ".local"

    @property
    def victim_venv(self) -> Path:
        """``~/.venv``: an existing venv with :data:`VICTIM_PACKAGE` installed."""
        return self.home / ".venv"

    @property
    def victims(self) -> Path:
        return self.base / "victims"

    @property
    def victim_target(self) -> Path:
        """A plain site-packages folder with packages in it."""
        return self.victims / "target"

    @property
    def base_env(self) -> Path:
        """The venv standing in for a base interpreter."""
        return self.victims / "base"

    @property
    def pyenv_version(self) -> Path:
        """A folder laid out like ``~/.pyenv/versions/3.11.7`` (no real interpreter in it)."""
        return self.victims / "pyenv-version"

    @property
    def jupyter_data(self) -> Path:
        return self.base / "data"

    @property
    def kernels_dir(self) -> Path:
        return self.jupyter_data / "kernels"

    @property
    def python3_spec(self) -> Path:
        return self.kernels_dir / "python3"

    @property
    def root_dir(self) -> Path:
        """The server root (pytest-jupyter's ``jp_root_dir``): hostile repositories go here."""
        return self.base / "root_dir"

    @property
    def canary_dir(self) -> Path:
        return self.base / "sandbox" / "canary"

    @property
    def envlock_cache(self) -> Path:
        return self.base / "sandbox" / "envlock-cache"

    @property
    def envlock_data(self) -> Path:
        """``JUPYTER_ENVLOCK_DATA_DIR``: where the trust store lives."""
        return self.base / "sandbox" / "envlock-data"

    @property
    def uv_cache(self) -> Path:
        """A uv cache of the sandbox's own: a wheel built from a hostile sdist in one test must
        not be found ready-made (and its canary stay silent) in the next."""
        return self.base / "sandbox" / "uv-cache"

    @property
    def xdg(self) -> Path:
        return self.base / "sandbox" / "xdg"

    @property
    def sentinel_roots(self) -> list[Path]:
        """What no automatic path and no command may change, at or below each of these."""
        return [
            self.home,  # ~/.local, ~/.venv, dotfiles
            self.victims,  # target folder, stand-in base interpreter, pyenv-like folder
            self.python3_spec,
            self.jupyter_data / "nbsignatures.db",
            self.kernels_dir / "echo",  # pytest-jupyter's, when a server test made it
        ]

    def environment(self) -> dict[str, str]:
        """Every variable through which a tool finds a folder, pointed inside the sandbox."""
        return {
            "HOME": str(self.home),
            "XDG_DATA_HOME": str(self.xdg / "data"),
            "XDG_CACHE_HOME": str(self.xdg / "cache"),
            "XDG_CONFIG_HOME": str(self.xdg / "config"),
            "XDG_STATE_HOME": str(self.xdg / "state"),
            "XDG_RUNTIME_DIR": str(self.xdg / "run"),
            "IPYTHONDIR": str(self.xdg / "ipython"),
            "JUPYTER_DATA_DIR": str(self.jupyter_data),
            "JUPYTER_CONFIG_DIR": str(self.base / "config"),
            "JUPYTER_RUNTIME_DIR": str(self.base / "runtime"),
            "JUPYTER_ENVLOCK_CACHE_DIR": str(self.envlock_cache),
            "JUPYTER_ENVLOCK_DATA_DIR": str(self.envlock_data),
            "UV_CACHE_DIR": str(self.uv_cache),
            "UV_PYTHON_INSTALL_DIR": str(self.xdg / "uv-python"),
            "UV_TOOL_DIR": str(self.xdg / "uv-tools"),
            "PIP_CONFIG_FILE": os.devnull,
        }

    # -- checks ------------------------------------------------------------------------------

    def snapshot(self, *extra: Path) -> Snapshot:
        return snapshot([*self.sentinel_roots, *extra])

    def changes(self, before: Snapshot | None = None, *extra: Path) -> list[str]:
        """How the sentinels (and `extra`) differ from `before` (default: the baseline)."""
        return diff(self.baseline if before is None else before, self.snapshot(*extra))

    def assert_untouched(self, before: Snapshot | None = None, *extra: Path) -> None:
        """Fail with every change listed when a sentinel differs from `before`."""
        changes = self.changes(before, *extra)
        if changes:
            shown = "\n  ".join(changes[:60])
            more = f"\n  ... and {len(changes) - 60} more" if len(changes) > 60 else ""
            raise SentinelsChanged(f"{len(changes)} sentinel change(s):\n  {shown}{more}")

    def canaries(self) -> list[Canary]:
        """Every record repository code left, oldest first."""
        try:
            paths = sorted(self.canary_dir.iterdir(), key=lambda p: p.stat().st_mtime_ns)
        except FileNotFoundError:
            return []
        found = []
        for path in paths:
            try:
                text = path.read_text(encoding="utf-8")
                data = ast.literal_eval(text) if text.startswith("{'") else json.loads(text)
            except (OSError, ValueError, SyntaxError):
                data = {"label": path.name, "unreadable": True}
            found.append(Canary(path, data if isinstance(data, dict) else {"value": data}))
        return found

    def assert_no_canary(self) -> None:
        found = self.canaries()
        if found:
            raise AssertionError("repository code ran:\n  " + "\n  ".join(str(c) for c in found))

    def assert_safe(self, before: Snapshot | None = None, *extra: Path) -> None:
        """No repository code ran and no sentinel changed: what every hostile test ends with."""
        self.assert_no_canary()
        self.assert_untouched(before, *extra)

    def clear_canaries(self) -> None:
        for canary in self.canaries():
            canary.path.unlink()


# --------------------------------------------------------------------------- building it


def _uv(uv: str, *args: str, cwd: Path | None = None) -> None:
    proc = subprocess.run(
        [uv, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "UV_NO_CONFIG": "1"},  # build victims from nothing but these args
    )
    if proc.returncode != 0:
        raise RuntimeError(f"uv {' '.join(args)} failed:\n{proc.stderr}")


def _site_packages(env: Path, minor: str) -> Path:
    return env / "lib" / f"python{minor}" / "site-packages"


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)


def build_sandbox(base: Path, base_interpreter: Path, uv: str) -> Sandbox:
    """Make the victims under `base` (a test's tmp_path) and record the baseline snapshot.

    `base_interpreter` is a pyenv Python: it is only used to create venvs (``uv venv``), never
    written to. Nothing here needs an index: the victim package is a wheel built on the spot.
    """
    minor = _minor_of(base_interpreter)
    sb = Sandbox(base=base, base_python=base / "victims" / "base" / "bin" / "python", uv=uv)
    for folder in (
        sb.home, sb.victims, sb.kernels_dir, sb.root_dir, sb.base / "config", sb.base / "runtime",
        sb.envlock_cache, sb.uv_cache, sb.xdg,
    ):  # fmt: skip
        folder.mkdir(parents=True, exist_ok=True)
    wheel = build_wheel(base / "sandbox" / "wheels", VICTIM_PACKAGE, "1.0.0")

    # ~/.local as pip --user leaves it, plus what people keep there
    _write(sb.local / "bin" / "mytool", "#!/bin/sh\necho my tool\n", 0o755)
    _uv(uv, "pip", "install", "--quiet", "--no-index", "--target",
        str(_site_packages(sb.local, minor)), str(wheel))  # fmt: skip
    _write(sb.local / "share" / "applications" / "notes.desktop", "[Desktop Entry]\nName=Notes\n")
    _write(sb.home / ".bashrc", "export EDITOR=vi\n")
    _write(sb.home / "thesis" / "chapter1.tex", "years of work\n")

    # ~/.venv and the stand-in base interpreter: real venvs holding the victim package
    for env in (sb.victim_venv, sb.base_env):
        _uv(uv, "venv", "--quiet", "--python", str(base_interpreter), str(env))
        _uv(uv, "pip", "install", "--quiet", "--no-index", "--python", str(env / "bin" / "python"),
            str(wheel))  # fmt: skip

    # a plain target folder: what `uv pip sync --target` would empty
    _uv(uv, "pip", "install", "--quiet", "--no-index", "--target", str(sb.victim_target),
        str(wheel))  # fmt: skip
    _write(sb.victim_target / "README.txt", "packages of another tool\n")

    # laid out like a pyenv version folder: bin include lib share, no pyvenv.cfg
    pyenv = sb.pyenv_version
    _write(pyenv / "bin" / "python3", "#!/bin/sh\nexit 1\n", 0o755)
    _write(pyenv / "include" / f"python{minor}" / "Python.h", "/* header */\n")
    _write(pyenv / "lib" / f"python{minor}" / "os.py", "# the standard library\n")
    _write(pyenv / "share" / "man" / "man1" / "python3.1", ".TH PYTHON\n")

    # the user's own python3 kernel spec and a Jupyter data file
    _write(sb.python3_spec / "kernel.json", json.dumps(PYTHON3_SPEC, indent=1) + "\n")
    _write(sb.jupyter_data / "nbsignatures.db", "SQLite format 3\0 (stand-in)\n")

    sb.baseline = sb.snapshot()
    return sb


def _minor_of(interpreter: Path) -> str:
    out = subprocess.run(
        [str(interpreter), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return out.strip()


# --------------------------------------------------------------------------- pytest


def sandbox_settings(sb: Sandbox, index_url: str, pythons: Mapping[str, Path]) -> dict[str, str]:
    """The conftest's offline settings (local index, no machine config), folders in `sb`."""
    return {
        **offline_settings(index_url, sb.uv_cache, sb.envlock_cache, pythons),
        **sb.environment(),
    }


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, envlock_env, pyenv_pythons) -> Sandbox:
    """A sandbox in this test's tmp_path, with os.environ pointed into it (and at the local
    index): every subprocess the test starts inherits it. The stand-in base interpreter is a venv
    of the first pyenv Python that matches the one running the tests."""
    if not pyenv_pythons:
        pytest.skip("the sandbox needs a pyenv Python to make its stand-in base interpreter")
    wanted = f"{sys.version_info[0]}.{sys.version_info[1]}"
    interpreter = pyenv_pythons.get(wanted) or next(iter(pyenv_pythons.values()))
    sb = build_sandbox(tmp_path, interpreter, envlock_env.uv)
    isolate(monkeypatch, sandbox_settings(sb, envlock_env.index_url, pyenv_pythons))
    sb.baseline = sb.snapshot()
    return sb
