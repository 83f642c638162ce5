"""A project is a folder with a pyproject.toml: how to find one, name it, and place its env and lock."""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import OutsideRoot, ProjectNotFound
from .pyproject import MANIFEST, PyProject

if TYPE_CHECKING:
    from .watch import FolderWatch

LOCKFILE = "pylock.toml"
REQUIREMENTS_TXT = "requirements.txt"
KERNEL_PREFIX = "envlock-"
DEFAULT_SCAN_DEPTH = 3
DEFAULT_IGNORED = frozenset(
    {"node_modules", "__pycache__", "site-packages", "venv", "env", "build", "dist"}
)
# A project's name ends up in folder names (its env, its state, its kernel spec): longer names
# are cut and keep a hash of the whole, so they stay unique and every path stays short.
MAX_NAME_IN_PATHS = 60


def cache_dir() -> Path:
    """Where envs and bookkeeping live; `JUPYTER_ENVLOCK_CACHE_DIR` overrides the user cache dir."""
    override = os.environ.get("JUPYTER_ENVLOCK_CACHE_DIR")
    if override:
        return Path(override)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("jupyter-envlock", appauthor=False))


def normalized_name(name: str) -> str:
    """PEP 503's normalized name, exactly as `packaging.utils.canonicalize_name` makes it (a test
    holds the two together). Kept here so that finding a project and its env imports no
    `packaging` (whose `utils` pulls in `tags`, `logging` and `subprocess`): a no-op `status` or
    `sync` stays a few file reads."""
    value = name.lower().replace("_", "-").replace(".", "-")
    while "--" in value:
        value = value.replace("--", "-")
    return value


def slug(name: str) -> str:
    """A normalized name safe as a file name and a kernel name: `^[a-z0-9._-]+$`, never `.`/`..`,
    at most MAX_NAME_IN_PATHS characters (the same on every machine).

    A project's name comes from a cloned repository; it must never steer a path."""
    safe = re.sub(r"[^a-z0-9._-]+", "-", normalized_name(name)).strip("-.") or "project"
    if len(safe) <= MAX_NAME_IN_PATHS:
        return safe
    digest = hashlib.sha256(safe.encode()).hexdigest()[:8]
    return safe[: MAX_NAME_IN_PATHS - 9].rstrip("-._") + "-" + digest


def kernel_name_for(name: str) -> str:
    """`envlock-<normalized name>`: built from repository content only, so it is the same on
    every machine (never a path)."""
    return KERNEL_PREFIX + slug(name)


@dataclass(frozen=True)
class Project:
    root: Path

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST

    @property
    def lock_path(self) -> Path:
        return self.root / LOCKFILE

    @cached_property
    def pyproject(self) -> PyProject | None:
        """The manifest, read and validated once (None while the folder has none yet)."""
        try:
            return PyProject.read(self.manifest_path)
        except FileNotFoundError:
            return None

    @property
    def name(self) -> str:
        pyproject = self.pyproject
        return slug(pyproject.name if pyproject and pyproject.name else self.root.name)

    @property
    def display_name(self) -> str:
        return f"Python ({self.name})"

    @property
    def kernel_name(self) -> str:
        pyproject = self.pyproject
        if pyproject is not None and pyproject.settings.kernel_name:
            return pyproject.settings.kernel_name
        return kernel_name_for(self.name)

    @property
    def key(self) -> str:
        """Short stable hash of the project path, to key per-machine state (env, file lock)."""
        return hashlib.sha256(str(self.root).encode()).hexdigest()[:8]

    @property
    def state_dir(self) -> Path:
        return cache_dir() / "projects" / f"{self.name}-{self.key}"

    @property
    def file_lock_path(self) -> Path:
        return self.state_dir / "project.lock"

    def configured_env_dir(self) -> Path | None:
        """An env the user chose: `[tool.envlock] env = "path"`, or an existing in-project .venv."""
        env = self.pyproject.settings.env if self.pyproject else None
        if env:
            path = Path(os.path.expanduser(env))
            return (self.root / path) if not path.is_absolute() else path
        dot_venv = self.root / ".venv"
        if (dot_venv / "pyvenv.cfg").exists():
            return dot_venv
        return None

    @property
    def env_prefix(self) -> str:
        return f"{self.name}-{self.key}-py"

    def default_env_dir(self, python_minor: str) -> Path:
        """Outside the project, in the cache, keyed by project path and Python (as Poetry does)."""
        return cache_dir() / "envs" / f"{self.env_prefix}{python_minor}"


ProjectRef = Path | str | Project  # anything that names a project


def find_project(
    start: ProjectRef, create: bool = False, within: Path | str | None = None
) -> Project:
    """The nearest folder at or above `start` holding a pyproject.toml.

    With `create`, a folder without one is itself the project (the first `add` writes it); a
    folder holding a requirements.txt met on the way up, before any pyproject.toml, is the
    project then (the first `add` there makes its manifest from requirements.txt).
    With `within` (a server root), the walk never goes above it, and a manifest or lock that is a
    symlink leading outside it is refused: a web client must not reach files beyond the root.
    """
    if isinstance(start, Project):
        return start
    start = Path(start).expanduser().resolve()
    boundary = Path(within).expanduser().resolve() if within is not None else None
    if boundary is not None and not start.is_relative_to(boundary):
        raise OutsideRoot(f"{start} is outside {boundary}.")
    if start.is_file():
        start = start.parent
    if not start.exists():
        raise ProjectNotFound(f"{start} does not exist.")
    for folder in (start, *start.parents):
        if (folder / MANIFEST).is_file():
            if boundary is not None:
                _refuse_links_outside(folder, boundary)
            return Project(folder)
        if create and (folder / REQUIREMENTS_TXT).is_file():
            return Project(folder)
        if folder == boundary:
            break
    if create:
        return Project(start)
    if (start / REQUIREMENTS_TXT).is_file():
        raise ProjectNotFound(
            f"{start} has a {REQUIREMENTS_TXT} but no {MANIFEST}: it is not a project yet. "
            "`jupyter envlock init` there makes it one (each requirement kept as written)."
        )
    raise ProjectNotFound(
        f"No {MANIFEST} in {start} or any folder above it. "
        "Run `jupyter envlock add PACKAGE` there to start a project."
    )


def _refuse_links_outside(
    folder: Path, boundary: Path, links: Collection[str] | None = None
) -> None:
    """`folder` is a real folder below `boundary`; `links`, when known, are the names in it that
    are symlinks (a file that is not one is where it is: only links are followed)."""
    for name in (MANIFEST, LOCKFILE):
        if links is not None and name not in links:
            continue
        path = folder / name
        if os.path.lexists(path) and not path.resolve().is_relative_to(boundary):
            raise OutsideRoot(f"{name} in {folder} leads outside {boundary}.")


# A folder modified this recently may change again within the same tick of the file system's
# clock without its mtime moving: its listing is not kept (git's "racy" rule).
RACY_NS = 2_000_000_000


class Listing:
    """One folder's entries as a walk needs them."""

    __slots__ = ("folders", "links", "names")

    def __init__(self, names: frozenset[str], folders: tuple[str, ...], links: frozenset[str]):
        self.names = names  # every entry
        self.folders = folders  # the real sub-folders, sorted
        self.links = links  # the symlinks


class Listings:
    """Folder listings kept between walks of one root, each trusted while the folder's mtime
    and inode are what they were: a later walk is one stat per folder instead of a listdir
    (adding, removing, renaming or replacing an entry changes its folder's mtime). With a
    `watch`, each folder is watched before it is read (`unwatched`: one could not be)."""

    def __init__(self, watch: FolderWatch | None = None) -> None:
        self._kept: dict[str, tuple[tuple[int, int], Listing]] = {}
        self._seen: set[str] = set()
        self._watch = watch
        self.unwatched = False  # a folder read since the last walk began could not be watched

    def of(self, folder: str) -> Listing | None:
        """`folder`'s entries, or None if it cannot be read."""
        self._seen.add(folder)
        if self._watch is not None and not self._watch.watch(folder):  # watched before it is
            self.unwatched = True  # read: a change made meanwhile is an event
        try:
            st = os.stat(folder)
        except OSError:
            return None
        key = (st.st_mtime_ns, st.st_ino)
        kept = self._kept.get(folder)
        if kept is not None and kept[0] == key:
            return kept[1]
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError:
            return None
        listing = Listing(
            frozenset(e.name for e in entries),
            tuple(sorted(e.name for e in entries if _is_folder(e))),
            frozenset(e.name for e in entries if e.is_symlink()),
        )
        if time.time_ns() - st.st_mtime_ns > RACY_NS:
            self._kept[folder] = (key, listing)
        else:
            self._kept.pop(folder, None)
        return listing

    def kept(self, folder: str) -> Listing | None:
        """`folder`'s listing as the last walk checked it (None: not kept). The same object
        while the folder's entries stay the same, so holding it is a cheap "nothing was added
        or removed here" check."""
        kept = self._kept.get(folder)
        return kept[1] if kept is not None else None

    def forget_unseen(self) -> None:
        """Drop the listings of folders the last walk did not visit (deleted, now ignored)."""
        self._kept = {k: v for k, v in self._kept.items() if k in self._seen}
        self._seen = set()


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


# Files that make a folder without a pyproject.toml worth naming: a requirements.txt folder is
# "not a project yet" (`init` makes it one); Pipenv and conda folders are another tool's.
OTHER_MARKERS = ("requirements.txt", "Pipfile", "environment.yml", "environment.yaml")


def discover_projects(
    root: Path | str,
    max_depth: int = DEFAULT_SCAN_DEPTH,
    ignored: Iterable[str] = DEFAULT_IGNORED,
    on_refused: Callable[[Path, str], None] | None = None,
    listings: Listings | None = None,
) -> list[Project]:
    """Projects at or below `root`, skipping hidden folders, virtualenvs and ignored names."""
    return discover(root, max_depth, ignored, on_refused, listings)[0]


def discover(
    root: Path | str,
    max_depth: int = DEFAULT_SCAN_DEPTH,
    ignored: Iterable[str] = DEFAULT_IGNORED,
    on_refused: Callable[[Path, str], None] | None = None,
    listings: Listings | None = None,
) -> tuple[list[Project], list[Path]]:
    """Projects at or below `root`, and the folders beside them that are not projects yet but
    hold a requirements.txt, a Pipfile or an environment.yml (one walk for both). A folder inside
    a project is part of that project: its requirements.txt (docs/, say) is not listed.

    A project whose manifest or lock is a symlink leading outside `root` is left out (and
    `on_refused` told why), by the same rule `find_project(within=root)` refuses it: the
    kernel specs, the project list and the REST calls never disagree about a folder.
    `listings` kept from an earlier walk of the same root make this one a stat per folder."""
    found, others = walk(
        Path(root).expanduser().resolve(), max_depth, ignored, on_refused, listings
    )
    return [Project(Path(f)) for f in found], [Path(f) for f in others]


def walk(
    root: Path,
    max_depth: int,
    ignored: Iterable[str],
    on_refused: Callable[[Path, str], None] | None = None,
    listings: Listings | None = None,
) -> tuple[list[str], list[str]]:
    """`discover` below the resolved `root`, as folder strings (a scan of thousands of projects
    spends its time building paths otherwise)."""
    ignored = frozenset(ignored)
    listings = listings if listings is not None else Listings()
    listings.unwatched = False
    found: list[str] = []
    others: list[str] = []

    def visit(folder: str, listing: Listing, depth: int, inside: bool) -> None:
        names = listing.names
        if MANIFEST in names:
            inside = True
            try:
                if not listing.links.isdisjoint((MANIFEST, LOCKFILE)):
                    # only links can lead outside (no Path built else); a watch on this folder
                    # does not see their targets change
                    listings.unwatched = True
                    _refuse_links_outside(Path(folder), root, listing.links)
                found.append(folder)
            except OutsideRoot as e:
                if on_refused is not None:
                    on_refused(Path(folder), e.message)
        elif not inside and any(marker in names for marker in OTHER_MARKERS):
            others.append(folder)
        if depth >= max_depth:
            return
        for name in listing.folders:
            if name.startswith(".") or name in ignored:
                continue
            sub = os.path.join(folder, name)
            below = listings.of(sub)
            if below is None:
                continue
            if "pyvenv.cfg" in below.names and os.path.exists(os.path.join(sub, "pyvenv.cfg")):
                continue  # a virtualenv
            visit(sub, below, depth + 1, inside)

    top = listings.of(str(root))
    if top is not None:
        visit(str(root), top, 0, False)
    listings.forget_unseen()
    return found, others
