"""pylock.toml (PEP 751): written through uv, universal, validated before it touches the disk.

envlock's own bookkeeping lives under `[tool.envlock]` in the lock: the hash of the manifest it was
made from (so a stale lock is seen without resolving) and the kernel's extra requirements.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import LockfileError
from .indexes import default_indexes, index_of, redact, strip_credentials, with_indexes
from .pyproject import PyProject

if TYPE_CHECKING:
    from packaging.markers import Marker
    from packaging.pylock import Pylock
    from packaging.requirements import Requirement

    from .pythons import Interpreter

# packaging's parsers, uv's runner and the interpreter search are imported where they are used:
# a no-op sync or status imports this module and never parses a requirement or a marker.

# TOML is read with tomli, tomllib's own upstream, on every Python: its compiled wheel reads a
# data-science stack's 470 KB lock in 19 ms where tomllib takes 48 ms (a change reads two), and
# imports in less time than tomllib does.
import tomli

LOCK_FORMAT = 1
# What the kernel itself needs in every project env, locked like everything else.
KERNEL_REQUIREMENTS = ("ipykernel", "pip")
_VALIDATED: set[str] = set()
# What was read from the last locks, by their bytes: their plain data and the versions found for
# each marker environment. A warm process (the server, a kernel's %dep worker) reads the lock it
# wrote a moment ago as the next change's old lock. Readers never change a lock's data.
_VersionsKey = tuple[tuple[str, object], ...] | None
_PARSED: dict[bytes, tuple[dict[str, Any], dict[_VersionsKey, dict[str, str]]]] = {}
_PARSED_KEPT = 4
_PARSED_LOCK = threading.Lock()
# CRLF too: git on Windows checks the lock out with CRLF line endings.
_HASH_LINE = re.compile(r'^manifest-hash = "([0-9a-f]{64})"\r?$', re.MULTILINE)


def manifest_hash(manifest: PyProject) -> str:
    """A hash of exactly what the resolution depends on; reordering or reformatting changes nothing."""
    from .requirements import parse_requirement

    reqs = {
        str(group or ""): sorted(str(parse_requirement(r)) for r in items)
        for group, items in manifest.requirements().items()
    }
    indexes = [
        {k: (strip_credentials(v) if k == "url" else v) for k, v in sorted(i.items())}
        for i in manifest.uv_indexes
    ]
    payload: dict[str, object] = {
        "format": LOCK_FORMAT,
        "requires-python": manifest.requires_python,
        "requirements": reqs,
        "kernel": list(KERNEL_REQUIREMENTS),
        "indexes": indexes,
    }
    if manifest.settings.exclude_newer:  # only when set: older locks keep their hash
        payload["exclude-newer"] = manifest.settings.exclude_newer
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def recorded_manifest_hash(lock_bytes: bytes) -> str | None:
    """Read the hash without parsing the whole lock: a no-op check must cost microseconds."""
    match = _HASH_LINE.search(lock_bytes.decode("utf-8", "replace"))
    return match.group(1) if match else None


@dataclass(frozen=True)
class ExcludeNewer:
    """Resolve as of `date` (uv's --exclude-newer); `by_command`: from `lock --exclude-newer`."""

    date: str
    by_command: bool


@dataclass(frozen=True)
class LockedPackage:
    name: str
    version: str | None
    marker: str | None


class Lock:
    """A pylock.toml: raw bytes, plain data, and (on demand) the validated `packaging.pylock` view."""

    def __init__(self, raw: bytes, data: dict[str, Any], where: str) -> None:
        self.raw = raw
        self.data = data
        self.where = where
        self._versions = _remember(raw, data)

    @classmethod
    def parse(cls, raw: bytes, where: str = "pylock.toml", validate: bool = True) -> Lock:
        """Read a lock; `validate` also checks it against PEP 751 (tens of ms on a large lock)."""
        known = _PARSED.get(raw)
        if known is not None:
            data = known[0]
        else:
            try:
                data = tomli.loads(raw.decode("utf-8"))
            except Exception as e:  # TOMLDecodeError, UnicodeDecodeError
                raise LockfileError(f"{where} is not valid TOML: {e}") from e
            if hasattr(data, "unwrap"):
                data = data.unwrap()
        lock = cls(raw, data, where)
        if validate:
            lock.validate()
        return lock

    @classmethod
    def load(cls, path: Path, validate: bool = True) -> Lock:
        try:
            raw = path.read_bytes()
        except FileNotFoundError as e:
            raise LockfileError(f"{path} does not exist; run `jupyter envlock lock`.") from e
        return cls.parse(raw, str(path), validate)

    @cached_property
    def pylock(self) -> Pylock:
        # Imported here: reading a lock's names and versions must not pay for the validator.
        from packaging.pylock import Pylock, PylockUnsupportedVersionError, PylockValidationError

        where = self.where
        try:
            pylock = Pylock.from_dict(self.data)
        except PylockUnsupportedVersionError as e:
            raise LockfileError(f"{where} has an unsupported lock-version: {e}") from e
        except PylockValidationError as e:
            raise LockfileError(f"{where} is not a valid PEP 751 lock: {e}") from e
        for pkg in pylock.packages:
            if not _all_files_hashed(pkg):
                raise LockfileError(f"{where}: package {pkg.name} has a file without a sha256.")
        return pylock

    def validate(self) -> None:
        """Check against PEP 751 once per distinct content (the panel polls status often)."""
        if self.sha256 not in _VALIDATED:
            _ = self.pylock
            _VALIDATED.add(self.sha256)

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()

    def restamped(self, manifest_digest: str) -> Lock:
        """The same packages, stamped as made from another manifest (a bound recorded after
        resolving): the data is not read again, and a validated lock stays validated."""
        text = _stamped(self.raw.decode("utf-8"), manifest_digest, self.exclude_newer)
        tool = dict(self.data.get("tool") or {})
        tool["envlock"] = {**(tool.get("envlock") or {}), "manifest-hash": manifest_digest}
        lock = Lock(text.encode("utf-8"), {**self.data, "tool": tool}, self.where)
        lock._versions.update(self._versions)  # the same packages and markers
        if self.sha256 in _VALIDATED:  # PEP 751 leaves [tool.*] to the tools
            _VALIDATED.add(lock.sha256)
        return lock

    def _envlock(self, key: str) -> object:
        envlock = self.data.get("tool", {}).get("envlock", {})
        return envlock.get(key) if isinstance(envlock, dict) else None

    @property
    def manifest_hash(self) -> str | None:
        value = self._envlock("manifest-hash")
        return value if isinstance(value, str) else None

    @property
    def exclude_newer(self) -> ExcludeNewer | None:
        """The date this lock was resolved as of, and whether a command (not the manifest)
        chose it: a command's date is kept by later re-locks, the manifest's follows it."""
        value = self._envlock("exclude-newer")
        if not isinstance(value, str):
            return None
        return ExcludeNewer(value, self._envlock("exclude-newer-set-by") == "lock")

    def packages(self) -> list[LockedPackage]:
        """Names, versions and markers from the plain data (no validation needed)."""
        from packaging.utils import canonicalize_name

        out = []
        for p in self.data.get("packages") or []:
            if not isinstance(p, dict) or not isinstance(p.get("name"), str):
                continue
            version, marker = p.get("version"), p.get("marker")
            out.append(
                LockedPackage(
                    canonicalize_name(p["name"]),
                    version if isinstance(version, str) else None,
                    marker if isinstance(marker, str) else None,
                )
            )
        return out

    @property
    def default_groups(self) -> frozenset[str]:
        groups = self.data.get("default-groups")
        return (
            frozenset(g for g in groups if isinstance(g, str))
            if isinstance(groups, list)
            else frozenset()
        )

    def versions(self, environment: dict[str, str] | None = None) -> dict[str, str]:
        """name -> version for the packages that apply to `environment` (all when None).

        Markers are evaluated as an installer does for a lock: no extras, the lock's default
        groups (locks from uv export or PDM use `'dev' in dependency_groups`)."""
        context = None
        if environment is not None:
            context = {
                **environment,
                "extras": frozenset(),
                "dependency_groups": self.default_groups,
            }
        key = tuple(sorted(context.items())) if context is not None else None
        known = self._versions.get(key)
        if known is not None:
            return dict(known)
        out: dict[str, str] = {}
        for p in self.packages():
            if context is not None and p.marker and not _applies(p.marker, context):
                continue
            if p.version:
                out.setdefault(p.name, p.version)
        self._versions[key] = out
        return dict(out)

    def satisfies(self, requirements: Iterable[Requirement], python_version: str) -> bool:
        """Every requirement that applies on this machine is locked at a version it allows."""
        from packaging.utils import canonicalize_name
        from packaging.version import InvalidVersion

        environment = marker_environment(python_version)
        locked = self.versions(environment)
        for req in requirements:
            if req.marker is not None and not _applies(
                str(req.marker), {**environment, "extra": ""}
            ):
                continue
            version = locked.get(canonicalize_name(req.name))
            if version is None:
                return False
            try:
                if not req.specifier.contains(version, prereleases=True):
                    return False
            except InvalidVersion:
                return False
        return True


def _remember(raw: bytes, data: dict[str, Any]) -> dict[_VersionsKey, dict[str, str]]:
    """Keep what is read from `raw` for the next reader; its versions found so far."""
    with _PARSED_LOCK:  # the server reads locks from several threads
        known = _PARSED.get(raw)
        if known is not None and known[0] is data:
            return known[1]
        versions: dict[_VersionsKey, dict[str, str]] = {}
        _PARSED[raw] = (data, versions)
        while len(_PARSED) > _PARSED_KEPT:
            del _PARSED[next(iter(_PARSED))]
        return versions


@functools.lru_cache(maxsize=4096)
def _marker(text: str) -> Marker:
    """A marker parsed once per process (a lock repeats the same few dozen)."""
    from packaging.markers import Marker

    return Marker(text)


def _applies(marker: str, environment: Mapping[str, object]) -> bool:
    """A marker from a lock or a manifest; one that cannot be evaluated does not apply."""
    from packaging.markers import InvalidMarker, UndefinedComparison, UndefinedEnvironmentName

    try:
        return _marker(marker).evaluate(environment, context="lock_file")  # type: ignore[arg-type]
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
        return False


def _all_files_hashed(pkg: object) -> bool:
    files = list(getattr(pkg, "wheels", None) or [])
    sdist = getattr(pkg, "sdist", None)
    if sdist is not None:
        files.append(sdist)
    archive = getattr(pkg, "archive", None)
    if archive is not None:
        files.append(archive)
    return all("sha256" in (getattr(f, "hashes", None) or {}) for f in files)


def marker_environment(python_version: str) -> dict[str, str]:
    """This machine's marker environment, for an env whose Python is `python_version`."""
    from packaging.markers import default_environment

    env: dict[str, str] = {k: str(v) for k, v in default_environment().items()}
    parts = python_version.split(".")
    env["python_version"] = ".".join(parts[:2])
    env["python_full_version"] = python_version
    env["implementation_version"] = python_version
    return env


def compile_lock(
    manifest: PyProject,
    python: Interpreter,
    previous: bytes | None,
    work_dir: Path,
    upgrade: bool = False,
    upgrade_packages: Iterable[str] = (),
    on_line: Callable[[str], None] | None = None,
    exclude_newer: ExcludeNewer | None = None,
    constraints: Iterable[str] = (),
) -> Lock:
    """Resolve through uv into a new, validated lock, in memory. Nothing in the project is written,
    and uv sees only what is passed here: the requirements, the Python, the project's indexes.

    `exclude_newer` ignores files uploaded after that date (recorded in the lock); `constraints`
    limit versions without being requirements (nor recorded)."""
    import shutil
    import tempfile

    from packaging.utils import canonicalize_name

    from .pythons import lock_floor
    from .requirements import parse_requirement
    from .runner import run_uv

    requirements = [
        str(parse_requirement(r)) for items in manifest.requirements().values() for r in items
    ]
    requirements += list(KERNEL_REQUIREMENTS)
    work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work_dir, prefix="lock-") as tmp:
        tmp_path = Path(tmp)
        req_in = tmp_path / "requirements.in"
        req_in.write_text("\n".join(requirements) + "\n", encoding="utf-8")
        out = tmp_path / "pylock.toml"
        if previous is not None:
            out.write_bytes(previous)  # uv keeps the versions it finds there (preferences)
        args = [
            "pip",
            "compile",
            str(req_in),
            "--universal",
            "--format=pylock.toml",
            f"--output-file={out}",
            f"--python-version={lock_floor(manifest.requires_python, python)}",
            f"--python={python.path}",
            "--no-header",
            "--quiet",
        ]
        if upgrade:
            args.append("--upgrade")
        for name in upgrade_packages:
            args.append(f"--upgrade-package={canonicalize_name(parse_requirement(name).name)}")
        if exclude_newer is not None:
            args.append(f"--exclude-newer={exclude_newer.date}")
        constraints = list(constraints)
        if constraints:
            constraints_txt = tmp_path / "constraints.txt"
            constraints_txt.write_text("\n".join(constraints) + "\n", encoding="utf-8")
            args.append(f"--constraint={constraints_txt}")
        run_uv(args, on_line=on_line, project_indexes=manifest.uv_indexes)
        body = out.read_bytes()
        shutil.rmtree(tmp_path, ignore_errors=True)
    indexes = default_indexes(with_indexes(os.environ, manifest.uv_indexes))
    return finish_lock(body, manifest_hash(manifest), exclude_newer, indexes)


def finish_lock(
    uv_output: bytes,
    manifest_digest: str,
    exclude_newer: ExcludeNewer | None = None,
    indexes: Sequence[str] = (),
) -> Lock:
    """Strip credentials, add [tool.envlock], name each package's index, validate: the lock to
    write. Its TOML is read once (a large lock takes tens of ms to read)."""
    text = _stamped(redact(uv_output.decode("utf-8")), manifest_digest, exclude_newer)
    lock = _with_indexes(Lock.parse(text.encode("utf-8"), "the new lock", validate=False), indexes)
    lock.validate()  # never write a lock that packaging.pylock rejects
    return lock


_PACKAGE_HEAD = re.compile(r"^\[\[packages\]\]\r?\nname = .*\n(?:version = .*\n)?", re.MULTILINE)


def _with_indexes(lock: Lock, indexes: Sequence[str]) -> Lock:
    """`index = URL` in each package from one of `indexes` (PEP 751's `packages.index`, which
    `uv pip compile` leaves out), in the lock's text and its data alike. Without it uv takes
    every wheel for one of an index of its own (its URL's folder), never finds it among the
    wheels it keeps for the configured indexes, and asks the server again for each: a rebuild
    from a warm cache downloaded the whole stack again where the files come without cache
    headers. A package whose files no one index holds keeps no index, as before."""
    packages = lock.data.get("packages") or []
    text = lock.raw.decode("utf-8")
    heads = list(_PACKAGE_HEAD.finditer(text)) if indexes else []
    if not heads or len(heads) != len(packages):
        return lock  # nothing to name, or not uv's layout: as uv wrote it
    named = [
        None if not isinstance(p, dict) or "index" in p else index_of(_file_urls(p), indexes)
        for p in packages
    ]
    if not any(named):
        return lock
    out, at, entries = [], 0, []
    for head, package, index in zip(heads, packages, named, strict=True):
        out.append(text[at : head.end()])
        if index is not None:
            out.append(f"index = {json.dumps(index)}\n")
            package = {**package, "index": index}
        entries.append(package)
        at = head.end()
    raw = ("".join(out) + text[at:]).encode("utf-8")
    return Lock(raw, {**lock.data, "packages": entries}, lock.where)


def _file_urls(package: Mapping[str, Any]) -> list[str]:
    """The URLs of a package's wheels and sdist; none when it has a folder, a git checkout or
    an archive (those come from no index)."""
    if any(package.get(k) for k in ("directory", "vcs", "archive")):
        return []
    files = [f for f in package.get("wheels") or [] if isinstance(f, dict)]
    if isinstance(package.get("sdist"), dict):
        files.append(package["sdist"])
    urls = [f.get("url") for f in files]
    return [u for u in urls if isinstance(u, str)] if all(isinstance(u, str) for u in urls) else []


def _stamped(text: str, manifest_digest: str, exclude_newer: ExcludeNewer | None) -> str:
    """The lock's text with envlock's [tool.envlock] table (and only that one) rewritten."""
    text = re.sub(r"\n\[tool\.envlock\]\n(?:[^\[\n].*\n|\n)*", "\n", text).rstrip("\n") + "\n"
    text += (
        "\n[tool.envlock]\n"
        f"lock-format = {LOCK_FORMAT}\n"
        f'manifest-hash = "{manifest_digest}"\n'
        f"kernel-requirements = {json.dumps(list(KERNEL_REQUIREMENTS))}\n"
    )
    if exclude_newer is not None:
        text += f"exclude-newer = {json.dumps(exclude_newer.date)}\n"
        if exclude_newer.by_command:
            text += 'exclude-newer-set-by = "lock"\n'
    return text
