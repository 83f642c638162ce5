"""Whether any watched folder changed: inotify, on Linux's local file systems.

A listing of thousands of projects has to stat every folder and manifest to learn that nothing
changed. With a watch on each folder a listing read, the next listing can tell from one read of
the event queue that it would find the same, and reuse it. Only where the kernel sees every
change: Linux, on file systems whose files change only through it (a file on NFS or SMB changed
from another machine sends no event). Elsewhere `FolderWatch.create()` is None, and every
listing looks at the disk as before.
"""

from __future__ import annotations

import ctypes
import os
import struct
import sys
import threading
import weakref

# <sys/inotify.h>: a folder's entries created, deleted, renamed, written or touched; the folder
# itself deleted or moved. IN_ONLYDIR | IN_DONT_FOLLOW: a folder, never a symlink's target.
_CHANGES = 0x2 | 0x4 | 0x8 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x800
_ONLY_FOLDERS = 0x01000000 | 0x02000000
_IGNORED = 0x8000  # the watch is gone (its folder deleted or unmounted)
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then len bytes of name

# statfs(2) f_type of file systems whose every change passes through this machine's kernel:
# ext2/3/4, XFS, Btrfs, tmpfs, overlayfs (containers), ZFS, F2FS, ramfs.
LOCAL_FILE_SYSTEMS = frozenset(
    {0xEF53, 0x58465342, 0x9123683E, 0x01021994, 0x794C7630, 0x2FC12FC1, 0xF2F52010, 0x858458F6}
)

Mark = tuple[int, int]  # (events seen, watches added)
_shared: list[FolderWatch | None] = []  # FolderWatch.shared(), once made (None: none to be had)
_shared_lock = threading.Lock()

# Watches are a per-user budget the user's other tools (editors, file sync, dev servers) draw on
# too: envlock takes at most a quarter of it, and never more than this.
MOST_WATCHES = 50_000


def watch_budget() -> int:
    """How many folders one watch may hold: a quarter of the user's inotify watches."""
    try:
        with open("/proc/sys/fs/inotify/max_user_watches", "rb") as f:
            allowed = int(f.read())
    except (OSError, ValueError):
        allowed = 8192  # the kernel's default before 5.11
    return max(0, min(MOST_WATCHES, allowed // 4))


class FolderWatch:
    """Folders watched for changes, and a count of the changes seen and watches added: two
    equal marks mean no watched folder changed in between, and no watch was added."""

    def __init__(self, fd: int, libc: ctypes.CDLL, limit: int) -> None:
        self._fd = fd
        self._libc = libc
        self._limit = limit
        self._lock = threading.Lock()
        self._folders: dict[str, int] = {}  # folder -> watch descriptor
        self._names: dict[int, str] = {}  # watch descriptor -> folder
        self._local: dict[int, bool] = {}  # st_dev -> on a local file system
        self._events = 0
        self._added = 0
        self._closer = weakref.finalize(self, os.close, fd)

    @classmethod
    def create(cls, limit: int | None = None) -> FolderWatch | None:
        """A new watch of at most `limit` folders (default: `watch_budget()`), or None where the
        kernel offers none."""
        if not sys.platform.startswith("linux"):
            return None
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        except (OSError, AttributeError):
            return None
        if fd < 0:  # the per-user limit of inotify instances
            return None
        return cls(fd, libc, watch_budget() if limit is None else limit)

    @classmethod
    def shared(cls) -> FolderWatch | None:
        """The process's one watch, made on first use: inotify instances are a per-user budget
        (128 by default) the user's other programs need, and every scanner can share one."""
        with _shared_lock:
            if not _shared:
                _shared.append(cls.create())
            return _shared[0]

    def watch(self, folder: str) -> bool:
        """Watch `folder` from now on. False when its changes would go unseen: not a folder, a
        symlink, not on a local file system, or the budget of watches spent."""
        if folder in self._folders:  # a watch gone meanwhile was an event: the mark moved
            return True
        with self._lock:
            if folder in self._folders:
                return True
            if len(self._folders) >= self._limit or not self._closer.alive:
                return False
            if not self._is_local(folder):
                return False
            wd = self._libc.inotify_add_watch(
                self._fd, os.fsencode(folder), _CHANGES | _ONLY_FOLDERS
            )
            if wd < 0:
                return False
            if self._names.get(wd, folder) != folder:
                return False  # the same folder under another name: one name per watch
            self._folders[folder] = wd
            self._names[wd] = folder
            self._added += 1
            return True

    def mark(self) -> Mark:
        """Read every queued event, then say how many there have been and how many watches were
        added. A queue that overflowed counts as an event like any other."""
        with self._lock:
            while self._closer.alive:
                try:
                    data = os.read(self._fd, 65536)
                except BlockingIOError:
                    break
                except OSError:  # the watch is broken: from now on every mark differs
                    self._closer()
                    break
                self._count(data)
            if not self._closer.alive:
                self._events += 1
            return (self._events, self._added)

    def close(self) -> None:
        with self._lock:
            self._closer()

    def _count(self, data: bytes) -> None:
        offset = 0
        while offset + _EVENT.size <= len(data):
            wd, mask, _cookie, length = _EVENT.unpack_from(data, offset)
            offset += _EVENT.size + length
            self._events += 1
            if mask & _IGNORED:
                folder = self._names.pop(wd, None)
                if folder is not None:
                    self._folders.pop(folder, None)

    def _is_local(self, folder: str) -> bool:
        try:
            device = os.stat(folder).st_dev
        except OSError:
            return False
        known = self._local.get(device)
        if known is None:
            buffer = ctypes.create_string_buffer(512)  # struct statfs: f_type comes first
            ok = self._libc.statfs(os.fsencode(folder), buffer) == 0
            f_type = ctypes.c_long.from_buffer(buffer).value & 0xFFFFFFFF
            known = self._local[device] = ok and f_type in LOCAL_FILE_SYSTEMS
        return known
