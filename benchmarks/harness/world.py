"""The world one run works in: the wheel set, the local index, private folders and caches, and the
environment variables every tool gets.

One local index for every tool (the test suite's PEP 503 server on 127.0.0.1, PEP 658 metadata),
so the network is out of the comparison; every cache, trust store and Jupyter folder lives in the
run's throwaway folder. The `--pypi` part makes a world of its own against the real registry.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from support.poetry_tool import NO_EGRESS, isolated_settings
from support.wheelhouse import _download, clean_environ, find_uv, loads_toml, select_files

from . import REPO
from .measure import log

# The real wheels of the local index: a universal resolution of these, as every tool locks
# universally. tabulate is the "one small package" every tool adds and removes.
REQUIREMENTS = ("requests", "pandas", "ipykernel", "pip", "tabulate")
SMALL = "tabulate"
# What every tool's project lists. envlock adds ipykernel and pip to every lock itself; uv and
# Poetry projects list them, so every tool resolves the same set.
PROJECT_DEPS = ("requests", "pandas", "ipykernel")
KERNEL_DEPS = ("ipykernel", "pip")
PYPI = "https://pypi.org/simple"
WHEELSET_FORMAT = 1


def default_cache() -> Path:
    """The wheel set and PyPI caches are kept between runs next to the test cache."""
    shared = os.environ.get("ENVLOCK_TEST_CACHE")  # absolute: tools run in other folders
    return (Path(shared).resolve() if shared else REPO / ".test-cache") / "bench"


def ensure_wheelset(dest: Path) -> Path:
    """Download, once, the wheels a universal lock of REQUIREMENTS installs on this machine's
    CPythons (plus metadata-only wheels of other platforms' packages, which universal resolvers
    read): the test wheelhouse's selection rules, applied to a bigger requirement set."""
    marker = dest / ".complete"
    want = {"format": WHEELSET_FORMAT, "requirements": list(REQUIREMENTS)}
    if marker.exists() and json.loads(marker.read_text()).get("key") == want:
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        req = Path(tmp) / "requirements.in"
        req.write_text("\n".join(REQUIREMENTS) + "\n")
        out = dest / "pylock.toml"
        cmd = [
            find_uv(), "pip", "compile", "--no-config", "--quiet", "--universal",
            "--python-version", "3.10", "--format", "pylock.toml", "--default-index", PYPI,
            "--no-header", "-o", str(out), str(req),
        ]  # fmt: skip
        log(f"resolving {' '.join(REQUIREMENTS)} on PyPI (once)")
        subprocess.run(cmd, env=clean_environ(), check=True, capture_output=True, text=True)
    files, _ = select_files(loads_toml(out.read_text()))
    total = sum(f.size or 0 for f in files)
    log(f"downloading {len(files)} files, {total / 1e6:.0f} MB, into {dest} (once)")
    for n, file in enumerate(files, 1):
        _download(file, dest)
        if n % 20 == 0:
            log(f"  {n}/{len(files)}")
    marker.write_text(json.dumps({"key": want, "files": sorted(f.filename for f in files)}))
    return dest


@dataclass
class World:
    """Folders, index and environment variables shared by every tool in this run."""

    work: Path
    index_url: str
    uv: str
    poetry: Path | None
    base_env: dict[str, str]
    pypi: bool = False
    _discarded: int = field(default=0, init=False)  # envs moved into the trash so far

    @property
    def bin_dir(self) -> Path:
        """The dev environment's scripts: `jupyter`, `jupyter-envlock`."""
        return Path(sys.executable).parent

    def env(self, **overrides: str) -> dict[str, str]:
        env = dict(self.base_env)
        env.update(overrides)
        return env

    @contextmanager
    def empty_caches(self) -> Iterator[dict[str, str]]:
        """The environment with empty caches for every tool (the "cold" rebuild); they are
        discarded afterwards (each holds the whole wheel set)."""
        root = Path(tempfile.mkdtemp(prefix="cold-", dir=self.work))
        try:
            yield self.env(
                UV_CACHE_DIR=str(root / "uv"),
                POETRY_CACHE_DIR=str(root / "poetry"),
                PIP_CACHE_DIR=str(root / "pip"),
            )
        finally:
            self.discard(root)

    def folder(self, name: str) -> Path:
        path = self.work / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def discard(self, path: Path) -> None:
        """Move an env (or a cache) out of the way, to be deleted by `empty_trash` once the
        table's rounds are over. Deleting one just before the next build slowed that build up
        to 3× on this machine's disk (ext4 with online discard: tens of thousands of unlinks),
        for whichever tool came next; the comparison measured the order of the steps."""
        if not os.path.lexists(path):
            return
        self._discarded += 1
        trash = self.folder("trash")
        try:
            path.rename(trash / str(self._discarded))
        except OSError:  # another file system: delete it here after all
            remove(path)

    def empty_trash(self) -> None:
        """Delete what the rounds discarded, and wait for the disk: outside any timed step."""
        remove(self.work / "trash")
        os.sync()


def make_world(
    work: Path, index_url: str | None, poetry: Path | None, uv_cache: Path | None = None
) -> World:
    """The environment of every command: the index (a uv config file both uv and envlock's uv
    read, never copied into a manifest; PyPI when `index_url` is None), caches, trust store and
    Poetry's folders in `work`."""
    work.mkdir(parents=True, exist_ok=True)
    compile_bytecode()
    base = clean_environ()
    # PYTHONDONTWRITEBYTECODE (set on these machines) would make every envlock process compile
    # the package from source: users run it from bytecode, as pip installs it
    for key in ("CONDA_PREFIX", "CONDA_DEFAULT_ENV", "FORCE_COLOR", "CLICOLOR_FORCE",
                "PYTHONDONTWRITEBYTECODE"):  # fmt: skip
        base.pop(key, None)
    base.update(
        {
            "PYTHONPATH": str(REPO),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{base.get('PATH', os.defpath)}",
            "UV_CACHE_DIR": str(uv_cache or work / "uv-cache"),
            "UV_PYTHON_DOWNLOADS": "never",
            "UV_NO_PROGRESS": "1",
            "NO_COLOR": "1",
            "JUPYTER_ENVLOCK_CACHE_DIR": str(work / "envlock-cache"),
            "JUPYTER_ENVLOCK_DATA_DIR": str(work / "envlock-data"),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        }
    )
    machine = dict(base)
    base.update(isolated_settings(work / "poetry-home"))
    for key in NO_EGRESS:  # tests block egress there; the bench keeps the machine's proxies
        if key in machine:
            base[key] = machine[key]
        else:
            base.pop(key, None)
    base["NO_PROXY"] = base["no_proxy"] = "127.0.0.1,localhost"
    if poetry is not None:
        base["JUPYTER_ENVLOCK_POETRY"] = str(poetry)
    config = work / "uv.toml"
    url = index_url or PYPI
    config.write_text(f'[[index]]\nurl = "{url}"\ndefault = true\n')
    base["UV_CONFIG_FILE"] = str(config)
    if index_url is not None:
        base["PIP_INDEX_URL"] = index_url
    return World(work, url, find_uv(), poetry, base, pypi=index_url is None)


def compile_bytecode() -> None:
    """Byte-compile the checkout's jupyter_envlock (its kernel side too), as an installed wheel
    is: a checkout run with PYTHONDONTWRITEBYTECODE has no __pycache__ to start from."""
    import compileall

    compileall.compile_dir(str(REPO / "jupyter_envlock"), quiet=1)


def pyproject(name: str, deps: Sequence[str], extra: str = "") -> str:
    lines = "".join(f'    "{d}",\n' for d in deps)
    return (
        f'[project]\nname = "{name}"\nversion = "0.1.0"\nrequires-python = ">=3.10"\n'
        f"dependencies = [\n{lines}]\n{extra}"
    )


@contextmanager
def environ(env: Mapping[str, str]) -> Iterator[None]:
    """os.environ replaced for in-process work (spec managers, kernels read it)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def jupyter_env(work: Path) -> dict[str, str]:
    """Private Jupyter config/data/runtime folders: no user kernel or config leaks in."""
    base = Path(tempfile.mkdtemp(prefix="jupyter-", dir=work))
    env = {
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_DATA_DIR": str(base / "data"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "JUPYTER_PATH": str(base / "path"),
    }
    for value in env.values():
        Path(value).mkdir(parents=True, exist_ok=True)
    return env


@contextmanager
def jupyter_dirs(work: Path) -> Iterator[Path]:
    """os.environ with private Jupyter folders added; yields the folder that holds them
    (benchmarks/managers.py writes kernel specs there)."""
    env = jupyter_env(work)
    with environ({**os.environ, **env}):
        yield Path(env["JUPYTER_PATH"]).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
