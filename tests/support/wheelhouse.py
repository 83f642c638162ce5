"""Download, once, the real wheels a project kernel env needs, so tests can serve them locally.

A project env needs ipykernel and everything it pulls in (and hatchling plus editables, to build
editable installs of projects with a build system; poetry-core for projects Poetry made). Tests must not reach PyPI, so the test set-up
resolves that set once, universally (every platform and Python >=3.10, as envlock's own locks
are), and downloads just the files a Linux x86_64 CPython 3.10-3.13 machine installs, plus a
wheel of any platform for the packages never installed here (Windows/macOS/PyPy-only ones),
because a universal resolver needs their metadata. This is the only network use in the suite.

Run it by hand to pre-fill a CI cache: ``python tests/support/wheelhouse.py .test-cache/wheelhouse``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from packaging.markers import Marker
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import parse_wheel_filename

# hatchling's editable builds also ask for `editables` (get_requires_for_build_editable).
# poetry-core is the build backend of every project Poetry creates: uv (and envlock's own flow)
# builds such a project with it; Poetry itself installs the root with the copy it vendors.
REQUIREMENTS = ("ipykernel", "pip", "hatchling", "editables", "poetry-core")
LOCK_PYTHON = "3.10"  # lower bound of the requires-python every project env lock uses here
PYTHON_MINORS = (10, 11, 12, 13)  # the CPythons these machines have (pyenv installs)
PYPI = "https://pypi.org/simple"
MARKER_FILE = ".complete"
_FORMAT = 2  # bump when the selection rules change, to refresh existing wheelhouses
_WORKERS = 6


@dataclass(frozen=True)
class _File:
    package: str
    url: str
    sha256: str
    size: int | None

    @property
    def filename(self) -> str:
        return Path(urlparse(self.url).path).name


def loads_toml(text: str) -> dict:
    """Parse TOML with tomllib, or tomlkit (a jupyter_envlock dependency) on Python 3.10."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomlkit

        return tomlkit.parse(text).unwrap()
    return tomllib.loads(text)


def clean_environ() -> dict[str, str]:
    """os.environ without any pip/uv settings, so machine config cannot redirect resolution."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIP_", "UV_")) and key != "VIRTUAL_ENV"
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    return env


def find_uv() -> str:
    """The uv binary shipped with the dev environment (the `uv` package), else the one on PATH."""
    try:
        from uv import find_uv_bin

        return os.fsdecode(find_uv_bin())
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if not found:
            raise RuntimeError("uv is needed to build the test wheelhouse") from None
        return found


def _linux_platforms() -> list[str]:
    plats = [f"manylinux_2_{minor}_x86_64" for minor in range(60, 4, -1)]  # newest glibc first
    return plats + ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"]


def target_tags(minors: Iterable[int] = PYTHON_MINORS) -> dict[int, set[Tag]]:
    """Wheel tags a Linux x86_64 CPython 3.<minor> installs, for each minor."""
    plats = _linux_platforms()
    out: dict[int, set[Tag]] = {}
    for minor in minors:
        version = (3, minor)
        tags = set(cpython_tags(version, abis=[f"cp3{minor}"], platforms=plats))
        tags |= set(compatible_tags(version, f"cp3{minor}", plats))
        out[minor] = tags
    return out


def _marker_minors(marker: str | None) -> list[int]:
    """The target minors for which a package's lock marker holds on Linux x86_64 CPython."""
    if not marker:
        return list(PYTHON_MINORS)
    parsed = Marker(marker)
    minors = []
    for minor in PYTHON_MINORS:
        for patch in (0, 99):
            env = {
                "implementation_name": "cpython",
                "implementation_version": f"3.{minor}.{patch}",
                "os_name": "posix",
                "platform_machine": "x86_64",
                "platform_python_implementation": "CPython",
                "platform_release": "",
                "platform_system": "Linux",
                "platform_version": "",
                "python_full_version": f"3.{minor}.{patch}",
                "python_version": f"3.{minor}",
                "sys_platform": "linux",
            }
            if parsed.evaluate(env):
                minors.append(minor)
                break
    return minors


def select_files(lock: dict) -> tuple[list[_File], list[str]]:
    """Pick the files to download from a parsed pylock, and name the metadata-only packages.

    For every locked package: the wheels a target interpreter (for which the package's marker
    holds) would install; if there are none, the smallest wheels of any platform covering each
    target Python (their metadata is all the universal resolver needs); with no wheel, the sdist.
    """
    tags_by_minor = target_tags()
    chosen: list[_File] = []
    metadata_only: list[str] = []
    for pkg in lock.get("packages", []):
        name = pkg["name"]
        wheels = [
            _File(name, w["url"], w["hashes"]["sha256"], w.get("size"))
            for w in pkg.get("wheels", [])
        ]
        minors = _marker_minors(pkg.get("marker"))
        wanted: set[Tag] = set()
        for minor in minors:
            wanted |= tags_by_minor[minor]
        fitting = [w for w in wheels if set(parse_wheel_filename(w.filename)[3]) & wanted]
        if fitting:
            chosen.extend(_fewest_wheels(fitting, minors, tags_by_minor))
            continue
        metadata_only.append(f"{name} {pkg['version']}")
        if wheels:
            chosen.extend(_metadata_wheels(wheels))
        elif "sdist" in pkg:
            sdist = pkg["sdist"]
            chosen.append(_File(name, sdist["url"], sdist["hashes"]["sha256"], sdist.get("size")))
        else:
            raise RuntimeError(f"{name} {pkg['version']}: the lock lists no file to download")
    return chosen, metadata_only


def _python_fits(tag: Tag, minor: int) -> bool:
    """Whether a tag's Python part (not its platform) suits CPython 3.<minor>."""
    match = re.fullmatch(r"(cp|py)3(\d*)", tag.interpreter)
    if not match:
        return False
    if not match[2]:
        return True  # py3
    built_for = int(match[2])
    return built_for == minor or (built_for < minor and tag.abi in ("abi3", "none"))


def _metadata_wheels(wheels: list[_File]) -> list[_File]:
    """The smallest wheels whose Python tags cover every target minor, whatever their platform.

    uv's universal resolver reads a never-installed package's metadata from any wheel, but it
    rejects a version whose wheels carry no Python tag for the lower bound of a fork's Python
    range (cffi, PyPy-only here, ships only cp3X wheels: a lone cp311 one fails the 3.10 fork).
    """
    by_size = sorted(wheels, key=lambda w: (w.size or 0, w.filename))
    picked: list[_File] = []
    for minor in PYTHON_MINORS:
        if any(_python_fits(t, minor) for w in picked for t in parse_wheel_filename(w.filename)[3]):
            continue
        for wheel in by_size:
            if any(_python_fits(t, minor) for t in parse_wheel_filename(wheel.filename)[3]):
                picked.append(wheel)
                break
    return picked or by_size[:1]


def _glibc(platform: str) -> tuple[int, int]:
    legacy = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
    base = platform.removesuffix("_x86_64")
    if base in legacy:
        return legacy[base]
    match = re.fullmatch(r"manylinux_(\d+)_(\d+)", base)
    return (int(match[1]), int(match[2])) if match else (0, 0)  # "any" needs no glibc


def _fewest_wheels(
    wheels: list[_File], minors: list[int], tags_by_minor: dict[int, set[Tag]]
) -> list[_File]:
    """One pure wheel when one serves every target Python, else the needed platform wheels.

    A package may ship both a pure wheel and compiled speed-ups (debugpy: 5 MB pure, 4 MB per
    CPython on manylinux_2_34): the pure one installs everywhere, for a fraction of the size.
    """
    wanted = set().union(*(tags_by_minor[m] for m in minors))
    for wheel in sorted(wheels, key=lambda w: (w.size or 0, w.filename)):
        tags = set(parse_wheel_filename(wheel.filename)[3])
        pure = all(t.platform == "any" for t in tags)
        if pure and all(tags & tags_by_minor[m] for m in minors):
            return [wheel]
    return _prefer_most_compatible(wheels, wanted)


def _prefer_most_compatible(wheels: list[_File], wanted: set[Tag]) -> list[_File]:
    """Drop wheels made redundant by another that serves the same interpreters.

    Several manylinux builds of one version (e.g. manylinux_2_17 and manylinux_2_28) would only
    make the wheelhouse bigger: keep, per interpreter/ABI set, the one needing the oldest glibc.
    """
    best: dict[frozenset[tuple[str, str]], tuple[tuple[int, int], _File]] = {}
    for wheel in wheels:
        tags = set(parse_wheel_filename(wheel.filename)[3]) & wanted
        interp_abi = frozenset((t.interpreter, t.abi) for t in tags)
        glibc = min(_glibc(t.platform) for t in tags)
        if interp_abi not in best or glibc < best[interp_abi][0]:
            best[interp_abi] = (glibc, wheel)
    return [wheel for _, wheel in best.values()]


def sha256_file(path: Path) -> str:
    """The hex SHA-256 of a file, read in chunks (wheels run to tens of MB): the one the
    wheelhouse, the index and the hostile locks use."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download(file: _File, dest: Path) -> int:
    target = dest / file.filename
    if target.exists() and sha256_file(target) == file.sha256:
        return 0
    part = target.with_name(target.name + ".part")
    last_error: Exception | None = None
    for attempt in range(3):
        try:
            with urllib.request.urlopen(file.url, timeout=60) as resp, part.open("wb") as out:  # noqa: S310
                shutil.copyfileobj(resp, out, 1 << 20)
            break
        except OSError as exc:  # network hiccup: retry a couple of times
            last_error = exc
            time.sleep(1 + attempt)
    else:
        raise RuntimeError(f"download failed: {file.url}: {last_error}")
    got = sha256_file(part)
    if got != file.sha256:
        part.unlink()
        raise RuntimeError(f"sha256 mismatch for {file.url}: expected {file.sha256}, got {got}")
    part.replace(target)
    return target.stat().st_size


def _resolve(dest: Path, log: _Log) -> dict:
    """Universal lock of REQUIREMENTS against PyPI, with no machine pip/uv config involved."""
    with tempfile.TemporaryDirectory(prefix="wheelhouse-") as tmp:
        req = Path(tmp) / "requirements.in"
        req.write_text("\n".join(REQUIREMENTS) + "\n")
        out = dest / "pylock.toml"
        # --python: without it uv probes python3.10 & co. first, and pyenv shims that are not
        # selected by PYENV_VERSION fail slowly (a cold resolve took 12 s instead of 2 s).
        cmd = [
            find_uv(), "pip", "compile", "--no-config", "--quiet", "--python", sys.executable,
            "--universal", "--python-version", LOCK_PYTHON,
            "--format", "pylock.toml", "--default-index", PYPI,
            "--no-header", "-o", str(out), str(req),
        ]  # fmt: skip
        log(f"resolving {' '.join(REQUIREMENTS)} universally (Python >={LOCK_PYTHON}) on PyPI")
        env = {**clean_environ(), "UV_PYTHON_DOWNLOADS": "never"}
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"uv pip compile failed:\n{proc.stderr}")
    return loads_toml(out.read_text())


class _Log:
    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.lock = threading.Lock()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            with self.lock:
                print(f"[wheelhouse] {message}", flush=True)


def _expected_marker() -> dict:
    return {"format": _FORMAT, "requirements": list(REQUIREMENTS), "python": LOCK_PYTHON}


def read_marker(dest: Path) -> dict | None:
    """The completion record of a wheelhouse, or None if it is incomplete or out of date."""
    try:
        data = json.loads((dest / MARKER_FILE).read_text())
    except (OSError, ValueError):
        return None
    if {k: data.get(k) for k in _expected_marker()} != _expected_marker():
        return None
    if not all((dest / name).is_file() for name in data.get("files", [])):
        return None
    return data


def ensure_wheelhouse(dest: Path, quiet: bool = False) -> Path:
    """Make ``dest`` hold the kernel-env wheel set and return it; a no-op once complete.

    Safe to call from several processes at once (a file lock serializes them); an interrupted
    run resumes, keeping the files already downloaded and verified.
    """
    dest = Path(dest)
    if read_marker(dest) is not None:
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    from filelock import FileLock

    with FileLock(str(dest / ".lock")):
        if read_marker(dest) is not None:
            return dest
        _fill(dest, _Log(quiet))
    return dest


def _fill(dest: Path, log: _Log) -> None:
    started = time.monotonic()
    (dest / MARKER_FILE).unlink(missing_ok=True)
    lock = _resolve(dest, log)
    files, metadata_only = select_files(lock)
    names = {f.filename for f in files}
    for stale in dest.iterdir():
        if stale.suffix in {".whl", ".gz", ".zip", ".part"} and stale.name not in names:
            stale.unlink()
    total = sum(f.size or 0 for f in files)
    log(
        f"resolved in {time.monotonic() - started:.1f} s: "
        f"{len(lock.get('packages', []))} locked packages -> {len(files)} files, "
        f"{total / 1e6:.1f} MB; metadata-only: {', '.join(metadata_only) or 'none'}"
    )
    done = 0
    fetched = 0

    def one(file: _File) -> None:
        nonlocal done, fetched
        got = _download(file, dest)
        with log.lock:
            done += 1
            fetched += got
            count = done
        state = f"{got / 1e6:.1f} MB" if got else "cached"
        log(f"{count}/{len(files)} {file.filename} ({state})")

    with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        list(pool.map(one, files))
    elapsed = time.monotonic() - started
    size = sum((dest / name).stat().st_size for name in names)
    record = {
        **_expected_marker(),
        "files": sorted(names),
        "metadata_only": metadata_only,
        "bytes": size,
        "downloaded_bytes": fetched,
        "seconds": round(elapsed, 1),
    }
    (dest / MARKER_FILE).write_text(json.dumps(record, indent=2) + "\n")
    log(f"complete: {len(names)} files, {size / 1e6:.1f} MB in {elapsed:.1f} s -> {dest}")


def iter_distributions(dest: Path) -> Iterator[Path]:
    """The wheel (and any sdist) files of a complete wheelhouse."""
    data = read_marker(dest)
    if data is None:
        raise RuntimeError(f"{dest} is not a complete wheelhouse; call ensure_wheelhouse first")
    for name in data["files"]:
        yield dest / name


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else ".test-cache/wheelhouse")
    ensure_wheelhouse(target)
