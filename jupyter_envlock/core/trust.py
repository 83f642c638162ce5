"""Which projects this user trusts on this machine: one JSON file, outside every repository.

Until a project is trusted, nothing automatic (a kernel start from the server, the panel, a scan)
may build its env or run anything from it: a repository's files are a stranger's input. Trust is
recorded per user and machine, keyed by the project folder's real path, so a clone elsewhere (or
the same repository under another name) is a new project. A repository cannot trust itself:
nothing it contains is read here.

The store lives in ``platformdirs.user_data_dir("jupyter-envlock")`` (``JUPYTER_ENVLOCK_DATA_DIR``
overrides it), is replaced atomically and updated under a file lock, so two commands trusting at
once both land. An unreadable store is an error, never "nothing trusted, start over": rewriting it
would silently drop the user's decisions.

A server may add one rule of its own (`TrustPolicy.trusted_root`, from
``EnvlockApp.trust_all_projects``): every project below its root counts as trusted, for that
server only; nothing is written for it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast, get_args

from .atomic import LockTimeout, file_lock, write_bytes_atomic
from .errors import EnvlockError

STORE_NAME = "trust.json"
STORE_VERSION = 1
LOCK_TIMEOUT = 30.0

# Why a project is trusted. "server" (EnvlockApp.trust_all_projects) is decided by the server's
# configuration at each request and never written here.
Source = Literal["user", "created", "built-before"]
SOURCES: tuple[str, ...] = get_args(Source)
TrustSource = Literal["user", "created", "built-before", "server"]


class TrustStoreError(EnvlockError):
    """The trust store cannot be read or written; nothing in it was changed."""


@dataclass(frozen=True)
class Grant:
    """One trusted project: its real path, why, and when (UTC, ISO 8601)."""

    path: str
    source: Source
    granted: str

    def to_dict(self) -> dict[str, str]:
        return {"source": self.source, "granted": self.granted}


def data_dir() -> Path:
    """Where envlock keeps what must outlive its cache: ``JUPYTER_ENVLOCK_DATA_DIR``, else the
    user data dir (``~/.local/share/jupyter-envlock`` on Linux)."""
    override = os.environ.get("JUPYTER_ENVLOCK_DATA_DIR")
    if override:
        return Path(override).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("jupyter-envlock", appauthor=False))


def project_key(project_root: Path | str) -> str:
    """The key of a project folder: its real path (symlinks resolved, case folded where the
    file system folds it), so two names for one folder share one decision."""
    return os.path.normcase(os.path.realpath(os.fspath(project_root)))


class TrustStore:
    """The trust decisions in one JSON file (default: ``data_dir() / "trust.json"``)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else data_dir() / STORE_NAME

    # -- reading -------------------------------------------------------------------------

    def load(self) -> dict[str, Grant]:
        """Every grant, by project key; a store that does not exist yet holds none."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as e:
            raise TrustStoreError(f"Cannot read the trust store {self.path}: {e}") from e
        return _parse(raw, self.path)

    def grant(self, project_root: Path | str) -> Grant | None:
        return self.load().get(project_key(project_root))

    def is_trusted(self, project_root: Path | str) -> bool:
        return self.grant(project_root) is not None

    def source(self, project_root: Path | str) -> Source | None:
        """Why the project is trusted ("user", "created", "built-before"), or None."""
        found = self.grant(project_root)
        return found.source if found is not None else None

    # -- changing ------------------------------------------------------------------------

    def trust(self, project_root: Path | str, source: Source = "user") -> Grant:
        """Record that the user trusts this project. An existing grant is kept as it is (its
        first reason and date stay); returns the grant in force."""
        if source not in SOURCES:
            raise ValueError(f"Unknown trust source {source!r}; expected one of {SOURCES}.")
        from datetime import datetime, timezone

        key = project_key(project_root)
        with self._locked():
            grants = self.load()
            if key in grants:
                return grants[key]
            now = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
            grants[key] = Grant(key, source, now.replace("+00:00", "Z"))
            self._save(grants)
            return grants[key]

    def revoke(self, project_root: Path | str) -> bool:
        """Forget the decision about this project; False when it was not trusted."""
        key = project_key(project_root)
        with self._locked():
            grants = self.load()
            if key not in grants:
                return False
            del grants[key]
            self._save(grants)
            return True

    @contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with file_lock(self.path.with_name(self.path.name + ".lock"), LOCK_TIMEOUT):
                yield
        except LockTimeout as e:
            raise TrustStoreError(
                f"Another envlock command has held the trust store {self.path} for "
                f"{LOCK_TIMEOUT:.0f} s."
            ) from e
        except OSError as e:
            raise TrustStoreError(f"Cannot write the trust store {self.path}: {e}") from e

    def _save(self, grants: dict[str, Grant]) -> None:
        document = {
            "version": STORE_VERSION,
            "projects": {key: grants[key].to_dict() for key in sorted(grants)},
        }
        write_bytes_atomic(self.path, (json.dumps(document, indent=1) + "\n").encode("utf-8"))


def _parse(raw: bytes, where: Path) -> dict[str, Grant]:
    fix = "fix it or delete it (every project is then untrusted)"
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise TrustStoreError(f"The trust store {where} is not valid JSON ({e}); {fix}.") from e
    if not isinstance(document, dict) or not isinstance(document.get("projects"), dict):
        raise TrustStoreError(f"The trust store {where} has no 'projects' table; {fix}.")
    version = document.get("version")
    if version != STORE_VERSION:
        raise TrustStoreError(
            f"The trust store {where} has version {version!r}; this jupyter-envlock reads "
            f"version {STORE_VERSION} (a newer one wrote it?)."
        )
    grants: dict[str, Grant] = {}
    for key, entry in document["projects"].items():
        source = entry.get("source") if isinstance(entry, dict) else None
        granted = entry.get("granted") if isinstance(entry, dict) else None
        if source not in SOURCES or not isinstance(granted, str):
            raise TrustStoreError(f"The trust store {where} has a bad entry for {key}; {fix}.")
        grants[key] = Grant(key, cast(Source, source), granted)
    return grants


@dataclass(frozen=True)
class TrustPolicy:
    """How one front end decides: the user's store, and for a server started with
    ``EnvlockApp.trust_all_projects`` its root, below which every project counts as trusted."""

    trusted_root: Path | None = None
    store: TrustStore = field(default_factory=TrustStore)

    def source(self, project_root: Path | str) -> TrustSource | None:
        """Why the project is trusted, or None. The user's own decision is named first."""
        stored = self.store.source(project_root)
        if stored is not None:
            return stored
        if self.trusted_root is not None:
            root = project_key(self.trusted_root)
            key = project_key(project_root)
            if key == root or key.startswith(root.rstrip(os.sep) + os.sep):
                return "server"
        return None
