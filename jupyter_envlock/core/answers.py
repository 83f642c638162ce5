"""Recorded answers: a read-only command repeated while nothing it read has changed prints what
it printed last time, from one small file, without importing the rest of envlock.

`status`, a no-op `sync` or `lock`, `python` and `list` print an answer that depends only on a
handful of files (the manifest, the lock, the env's marker and package folder, the trust store).
The full command records that answer with the stat of each of those files; the console script
(`jupyter_envlock.entry`) looks for a record of the same command line, in the same folder and
environment, re-stats the files and, when every one is as it was, prints the record. Anything
else (a file changed, a record missing or unreadable, another envlock) runs the full command,
which records again. So a repeated no-op costs the interpreter's start, one read and a few
stats, as a native tool's does.

This module imports only what the interpreter has loaded at start-up (`os`, `sys`, `marshal`)
and `zlib`: it runs before anything else of envlock is imported.

A file modified in the last two seconds is not recorded (git's "racy" rule): its mtime could
stay the same through a second change within the file system's clock tick. The record lives in
the user's own cache folder, as the envs envlock runs do.
"""

import marshal
import os
import sys
import zlib

TYPE_CHECKING = False  # typing itself costs more than a replayed answer does

if TYPE_CHECKING:  # so do collections and __future__
    from collections.abc import Iterable, Sequence

    Signature = tuple[int, int, int, int] | None  # mtime, ctime, size, inode; None: no file
    Key = tuple[object, ...]  # what decides an answer besides its files (see key())

FORMAT = 1
RACY_NS = 2_000_000_000
KEPT = 256  # records beyond this many (one per folder, command line and environment) are pruned
# Variables that differ from one shell to the next without changing any answer.
VOLATILE = frozenset({"_", "PWD", "OLDPWD", "SHLVL", "COLUMNS", "LINES"})


def folder() -> "str | None":
    """Where the records live: `answers` in `JUPYTER_ENVLOCK_CACHE_DIR`, else in the user's
    cache folder, found without platformdirs (whose import costs more than a replay): the same
    folder it names on Linux, macOS and Windows. None where no such folder is known."""
    base = os.environ.get("JUPYTER_ENVLOCK_CACHE_DIR")
    if not base:
        if sys.platform == "win32":
            local = os.environ.get("LOCALAPPDATA")
            base = os.path.join(local, "jupyter-envlock", "Cache") if local else None
        elif sys.platform == "darwin":
            base = os.path.expanduser("~/Library/Caches/jupyter-envlock")
        else:
            xdg = os.environ.get("XDG_CACHE_HOME", "").strip() or os.path.expanduser("~/.cache")
            base = os.path.join(xdg, "jupyter-envlock")
    return os.path.join(base, "answers") if base else None


def code_signature() -> tuple[int, int]:
    """The newest mtime and the number of envlock's own modules: a record made by other code
    (an upgrade, a checkout being edited) is never replayed."""
    newest, count = 0, 0
    todo = [os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]
    while todo:
        with os.scandir(todo.pop()) as entries:
            for entry in entries:
                if entry.name.endswith(".py"):
                    newest, count = max(newest, entry.stat().st_mtime_ns), count + 1
                elif entry.is_dir() and not entry.name.startswith((".", "__")):
                    todo.append(entry.path)
    return newest, count


def key(argv: "Sequence[str]") -> "Key":
    """What else decides an answer: the command line, the folder it runs in, the environment,
    the interpreter and envlock's code."""
    from .._version import __version__

    environ = tuple(sorted((k, v) for k, v in os.environ.items() if k not in VOLATILE))
    return (FORMAT, __version__, sys.version, sys.executable, code_signature(), os.getcwd(),
            tuple(argv), environ)  # fmt: skip


def signature(path: str) -> "Signature":
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)


def _record_path(base: str, of: "Key") -> str:
    """One file per key (a crc names it; the file holds the whole key, so a clash is a miss)."""
    return os.path.join(base, f"{zlib.crc32(repr(of).encode('utf-8', 'surrogateescape')):08x}")


def recorded(argv: "Sequence[str]") -> "tuple[str, str] | None":
    """(stdout, stderr) of the recorded answer to `argv` here, if every file it read is as it
    was; None otherwise (the caller runs the command)."""
    base = folder()
    if base is None:
        return None
    try:
        asked = key(argv)  # the folder it runs in may be gone
        with open(_record_path(base, asked), "rb") as f:
            record = marshal.loads(f.read())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if not isinstance(record, dict) or record.get("key") != asked:
        return None
    try:
        if any(signature(path) != tuple_or_none(sig) for path, sig in record["inputs"]):
            return None
    except (OSError, TypeError, ValueError, KeyError):
        return None
    out, err = record.get("stdout"), record.get("stderr")
    return (out, err) if isinstance(out, str) and isinstance(err, str) else None


def tuple_or_none(sig: object) -> "Signature":
    return tuple(sig) if isinstance(sig, (list, tuple)) else None


def record(argv: "Sequence[str]", inputs: "Iterable[os.PathLike[str] | str]", stdout: str,
           stderr: str) -> bool:  # fmt: skip
    """Keep the answer a full command just gave (exit code 0, nothing changed) with the stat of
    every file it depends on. False when it cannot be kept: no records on this platform, a file
    modified too recently to tell a later change by its stat, or the cache not writable."""
    import time

    base = folder()
    if base is None:
        return False
    paths = sorted({os.fspath(p) for p in inputs})
    signatures = [(path, signature(path)) for path in paths]
    recent = time.time_ns() - RACY_NS
    if any(sig is not None and max(sig[0], sig[1]) > recent for _, sig in signatures):
        return False
    asked = key(argv)
    data = marshal.dumps({"key": asked, "inputs": signatures, "stdout": stdout, "stderr": stderr})
    from pathlib import Path

    from .atomic import write_bytes_atomic

    try:
        os.makedirs(base, exist_ok=True)
        write_bytes_atomic(Path(_record_path(base, asked)), data)
        _prune(base)
    except OSError:
        return False
    return True


def _prune(base: str) -> None:
    """Past KEPT records, the least recently written half goes: folders and command lines a user
    no longer types should not pile up."""
    with os.scandir(base) as entries:
        found = [(e.stat().st_mtime_ns, e.path) for e in entries if e.is_file()]
    if len(found) > KEPT:
        for _, path in sorted(found)[: len(found) - KEPT // 2]:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
