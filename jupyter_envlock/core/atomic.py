"""Atomic writes and the per-project lock: a killed process never leaves a half-written file.

tempfile (and, off POSIX, filelock) are imported by the functions that use them: reading commands
(`status`, a no-op `sync`) import this module and must not pay for them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import ToolError


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, fsync, then rename over it."""
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class LockTimeout(Exception):
    """Someone else held the lock for the whole timeout."""


@contextmanager
def file_lock(lock_path: Path, timeout: float = -1) -> Iterator[None]:
    """Hold an exclusive lock on `lock_path` (created if needed); `timeout` < 0 waits for ever.

    flock(2) directly on POSIX, the very lock filelock takes there (so an envlock of either kind
    waits for the other), without importing filelock, which costs a command more than its
    work; filelock elsewhere. The lock goes with the process: a killed command leaves none."""
    try:
        import fcntl
    except ImportError:  # Windows
        with _filelock(lock_path, timeout):
            yield
        return
    import time

    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if 0 <= timeout and deadline <= time.monotonic():
                    raise LockTimeout(str(lock_path)) from None
                time.sleep(0.02)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


@contextmanager
def _filelock(lock_path: Path, timeout: float) -> Iterator[None]:
    from filelock import FileLock, Timeout

    try:
        with FileLock(str(lock_path), timeout=timeout):
            yield
    except Timeout as e:
        raise LockTimeout(str(lock_path)) from e


@contextmanager
def project_lock(lock_path: Path, timeout: float = 600) -> Iterator[None]:
    """Serialize every command that touches one project (manifest, lock or env)."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with file_lock(lock_path, timeout):
            _touch(lock_path)
            yield
    except LockTimeout as e:
        raise ToolError(
            f"Another envlock command has held the project lock for {timeout:.0f} s ({lock_path})."
        ) from e


def _touch(lock_path: Path) -> None:
    """A held lock sends no file-system event; its touch does, so a folder watch on the state
    folder (scan.py) learns the project became busy."""
    try:
        os.utime(lock_path)
    except OSError:
        pass


def is_busy(lock_path: Path) -> bool:
    """True while another command holds the project lock (a status read then may see a lock
    written and a manifest not yet written)."""
    if not lock_path.exists():
        return False
    held = _flock_held(lock_path)
    if held is not None:
        return held
    try:
        with _filelock(lock_path, timeout=0):
            return False
    except LockTimeout:
        return True


def _flock_held(lock_path: Path) -> bool | None:
    """Whether someone holds the flock(2) that filelock takes on POSIX, asked directly: importing
    filelock costs a no-op `status` more than all its reads. None where flock cannot tell (no
    fcntl, a file system without flock): then filelock itself is asked."""
    try:
        import fcntl
    except ImportError:  # Windows
        return None
    try:
        fd = os.open(lock_path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return None
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)
