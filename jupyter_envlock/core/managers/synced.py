"""What an env managed by another tool (uv, Poetry) was last synced from, kept in envlock's own
state folder (never in the user's env): the hashes of the files that decide it, the env, and its
installed distributions. A kernel start whose record still matches runs no process at all.

The record is removed before any change and written only after a complete sync, so a process
killed mid-way leaves none and the next start syncs again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..atomic import write_bytes_atomic
from ..environment import dist_infos
from ..errors import ManifestError

RECORD = "synced.json"


def refuse_linked_env(env_dir: Path, root: Path, remedy: str) -> None:
    """A project's in-project env that is a link (or inside a link) to somewhere else: a cloned
    repository would choose which env the tool exact-syncs. Refused, before the tool runs."""
    if not env_dir.is_relative_to(root):
        return  # the user's own setting (UV_PROJECT_ENVIRONMENT, Poetry's virtualenvs.path)
    real = env_dir.resolve()
    if env_dir.is_symlink() or not real.is_relative_to(root.resolve()):
        raise ManifestError(
            f"{env_dir} is a link to {real}: envlock does not let a project's files choose which "
            f"environment is synced (everything the lock lacks would be removed there). {remedy}"
        )


def file_hashes(files: Sequence[Path]) -> dict[str, str | None]:
    """sha256 of each file (None when it does not exist): small files, microseconds."""
    out: dict[str, str | None] = {}
    for path in files:
        try:
            out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            out[str(path)] = None
    return out


class SyncRecord:
    """The record of one project's last sync, in `state_dir`."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / RECORD

    def read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def fingerprint(
        self, files: Sequence[Path], env_dir: Path, settings: Mapping[str, object]
    ) -> dict[str, Any]:
        """What the sync depends on, now."""
        return {
            "files": file_hashes(files),
            "env": str(env_dir),
            "settings": dict(settings),
        }

    def files_match(self, fingerprint: Mapping[str, Any]) -> bool:
        """The manifest, lock and settings are the ones last synced (and checked) from."""
        recorded = self.read()
        return bool(recorded) and all(
            recorded.get(k) == fingerprint[k] for k in ("files", "env", "settings")
        )

    def matches(self, fingerprint: Mapping[str, Any], env_dir: Path) -> bool:
        """Files as last synced, and the env holds exactly what that sync left there."""
        recorded = self.read()
        return (
            self.files_match(fingerprint)
            and (env_dir / "pyvenv.cfg").is_file()
            and recorded.get("dists") == dist_infos(env_dir)
        )

    def write(self, fingerprint: Mapping[str, Any], env_dir: Path) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {**fingerprint, "dists": dist_infos(env_dir)}
        write_bytes_atomic(self.path, json.dumps(data, sort_keys=True).encode())

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
