"""envlock next to uv, Poetry and pip, on one local index of real wheels, in one run (issue 6).

Run by hand (not part of CI); it needs the internet once, to download the wheel set and Poetry:

    PYTHONPATH=. python benchmarks/bench.py --runs 5 --out benchmarks/results.md

What it does, and why that way:

* One index for every tool. The wheels of `requests pandas ipykernel pip tabulate` (a universal
  resolution, as every tool here locks universally) are downloaded once into a cache folder and
  served on 127.0.0.1 with the test suite's index server (PEP 658 metadata, big listen backlog).
  A local index takes the network out of the comparison: what is left is each tool's own work.
* Same project for every tool: `requests`, `pandas`, `ipykernel` on Python >= 3.10; envlock adds
  ipykernel and pip itself. Each tool works in its own folder with its own lock format.
* Same run, interleaved: in every round each tool takes its turn, so a slow minute on the machine
  hits every tool alike. A warm-up round is not counted. Medians and min-max are reported, and
  ratios of medians against the reference tool (uv).
* Measured from outside, as a user waits: wall time of the command (or, for kernels, from the
  start request to the kernel_info reply; for `%dep add`, from execute_request to execute_reply).

Scenarios: add one small package (tabulate) and remove it again; rebuild a fresh env from the
existing lock with a warm and an empty cache; a project kernel's start next to a plain ipykernel
from the same env; `GET /api/kernelspecs` with 1, 100 and 1000 projects under the server root.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the test suite's index server and wheel selection
sys.path.insert(0, str(REPO))

from support.index import IndexServer, build_simple_index  # noqa: E402
from support.wheelhouse import _download, clean_environ, find_uv, loads_toml, select_files  # noqa: E402

REQUIREMENTS = ("requests", "pandas", "ipykernel", "pip", "tabulate")
PROJECT_DEPS = ("requests", "pandas", "ipykernel")
SMALL = "tabulate"  # the "one small package" every tool adds and removes
PYPI = "https://pypi.org/simple"
WHEELSET_FORMAT = 1

# --------------------------------------------------------------------------- numbers


@dataclass
class Samples:
    """Wall times of one tool in one scenario, in seconds."""

    label: str
    values: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    @property
    def spread(self) -> str:
        if not self.values:
            return "-"
        return f"{fmt(min(self.values))}–{fmt(max(self.values))}"


def fmt(seconds: float) -> str:
    """Seconds with the precision that matters at that size."""
    if seconds != seconds:  # NaN
        return "-"
    if seconds < 0.1:
        return f"{seconds * 1000:.1f} ms"
    if seconds < 10:
        return f"{seconds:.2f} s"
    return f"{seconds:.1f} s"


def timed(argv: Sequence[str], cwd: Path, env: dict[str, str]) -> float:
    """Run a command to completion; its wall time, or an error with its output."""
    start = time.perf_counter()
    proc = subprocess.run(list(argv), cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, argv))} failed ({proc.returncode}) in {cwd}:\n"
            f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return elapsed


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- the wheel set


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


def ensure_poetry(venv: Path, uv: str) -> Path | None:
    """Poetry from PyPI in a throwaway venv of its own (never in the measured envs)."""
    poetry = venv / "bin" / "poetry"
    if poetry.exists():
        return poetry
    log("installing Poetry from PyPI into a throwaway venv (once)")
    env = clean_environ()
    try:
        subprocess.run([uv, "venv", str(venv), "--python", sys.executable], env=env, check=True,
                       capture_output=True)  # fmt: skip
        subprocess.run(
            [uv, "pip", "install", "--python", str(venv / "bin" / "python"),
             "--default-index", PYPI, "poetry"],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
    except subprocess.CalledProcessError as e:
        log(f"Poetry could not be installed; its rows are skipped: {e.stderr!r}")
        return None
    return poetry


# --------------------------------------------------------------------------- tools and projects


@dataclass
class World:
    """Folders, index and environment variables shared by every tool in this run."""

    work: Path
    cache: Path
    index_url: str
    uv: str
    poetry: Path | None
    base_env: dict[str, str]

    def env(self, **overrides: str) -> dict[str, str]:
        env = dict(self.base_env)
        env.update(overrides)
        return env

    def fresh_caches(self, tag: str) -> dict[str, str]:
        """Empty caches for every tool: the "cold" rebuild."""
        root = Path(tempfile.mkdtemp(prefix=f"cold-{tag}-", dir=self.work))
        return {
            "UV_CACHE_DIR": str(root / "uv"),
            "POETRY_CACHE_DIR": str(root / "poetry"),
            "PIP_CACHE_DIR": str(root / "pip"),
        }


def make_world(work: Path, cache: Path, index_url: str, poetry: Path | None) -> World:
    base = clean_environ()
    base.update(
        {
            "PYTHONPATH": str(REPO),
            "UV_DEFAULT_INDEX": index_url,
            "UV_CACHE_DIR": str(work / "uv-cache"),
            "UV_PYTHON_DOWNLOADS": "never",
            "UV_NO_PROGRESS": "1",
            "JUPYTER_ENVLOCK_CACHE_DIR": str(work / "envlock-cache"),
            "PIP_INDEX_URL": index_url,
            "PIP_CACHE_DIR": str(work / "pip-cache"),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "POETRY_CACHE_DIR": str(work / "poetry-cache"),
            "POETRY_VIRTUALENVS_IN_PROJECT": "true",
            "POETRY_NO_INTERACTION": "1",
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        }
    )
    base.pop("VIRTUAL_ENV", None)
    return World(work, cache, index_url, find_uv(), poetry, base)


def pyproject(name: str, extra: str = "") -> str:
    deps = "".join(f'    "{d}",\n' for d in PROJECT_DEPS)
    return (
        f'[project]\nname = "{name}"\nversion = "0.1.0"\nrequires-python = ">=3.10"\n'
        f"dependencies = [\n{deps}]\n{extra}"
    )


ENVLOCK = [sys.executable, "-m", "jupyter_envlock"]


class Tool:
    """One tool's project: set up once, then add/remove/rebuild on demand."""

    name = ""
    add_label = remove_label = rebuild_label = ""

    def __init__(self, world: World) -> None:
        self.world = world
        self.root = world.work / self.name.replace(" ", "-")
        self.root.mkdir(parents=True, exist_ok=True)

    def setup(self) -> None:
        raise NotImplementedError

    def add(self) -> float:
        raise NotImplementedError

    def remove(self) -> float:
        raise NotImplementedError

    def drop_env(self) -> None:
        raise NotImplementedError

    def rebuild(self, env: dict[str, str]) -> float:
        raise NotImplementedError


class Envlock(Tool):
    name = "envlock"
    add_label = f"jupyter envlock add {SMALL}"
    remove_label = f"jupyter envlock remove {SMALL}"
    rebuild_label = "jupyter envlock sync"

    def setup(self) -> None:
        (self.root / "pyproject.toml").write_text(pyproject("bench-envlock"))
        timed([*ENVLOCK, "sync", "--project", str(self.root), "-q"], self.root, self.world.env())

    def add(self, *options: str) -> float:
        argv = [*ENVLOCK, "add", "--project", str(self.root), "-q", *options, SMALL]
        return timed(argv, self.root, self.world.env())

    def remove(self, *options: str) -> float:
        argv = [*ENVLOCK, "remove", "--project", str(self.root), "-q", *options, SMALL]
        return timed(argv, self.root, self.world.env())

    def env_dir(self) -> Path:
        out = subprocess.run(
            [*ENVLOCK, "python", "--project", str(self.root)],
            env=self.world.env(), capture_output=True, text=True, check=True,
        )  # fmt: skip
        return Path(out.stdout.strip()).parents[1]

    def drop_env(self) -> None:
        shutil.rmtree(self.world.work / "envlock-cache" / "envs", ignore_errors=True)

    def rebuild(self, env: dict[str, str]) -> float:
        return timed([*ENVLOCK, "sync", "--project", str(self.root), "-q"], self.root, env)

    def export_requirements(self, dest: Path) -> None:
        argv = [*ENVLOCK, "export", "--project", str(self.root), "-o", str(dest)]
        timed(argv, self.root, self.world.env())


class Uv(Tool):
    name = "uv"
    add_label = f"uv add {SMALL}"
    remove_label = f"uv remove {SMALL}"
    rebuild_label = "uv sync --frozen"

    def setup(self) -> None:
        (self.root / "pyproject.toml").write_text(pyproject("bench-uv"))
        timed([self.world.uv, "sync", "--python", sys.executable], self.root, self.world.env())

    def add(self) -> float:
        return timed([self.world.uv, "add", SMALL], self.root, self.world.env())

    def remove(self) -> float:
        return timed([self.world.uv, "remove", SMALL], self.root, self.world.env())

    def drop_env(self) -> None:
        shutil.rmtree(self.root / ".venv", ignore_errors=True)

    def rebuild(self, env: dict[str, str]) -> float:
        return timed(
            [self.world.uv, "sync", "--frozen", "--python", sys.executable], self.root, env
        )


class Poetry(Tool):
    name = "poetry"
    add_label = f"poetry add {SMALL}"
    remove_label = f"poetry remove {SMALL}"
    rebuild_label = "poetry install"

    def setup(self) -> None:
        source = (
            "\n[tool.poetry]\npackage-mode = false\n\n[[tool.poetry.source]]\n"
            f'name = "bench"\nurl = "{self.world.index_url}/"\npriority = "primary"\n'
        )
        (self.root / "pyproject.toml").write_text(pyproject("bench-poetry", source))
        timed([str(self.world.poetry), "install"], self.root, self.world.env())

    def add(self) -> float:
        return timed([str(self.world.poetry), "add", SMALL], self.root, self.world.env())

    def remove(self) -> float:
        return timed([str(self.world.poetry), "remove", SMALL], self.root, self.world.env())

    def drop_env(self) -> None:
        shutil.rmtree(self.root / ".venv", ignore_errors=True)

    def rebuild(self, env: dict[str, str]) -> float:
        return timed([str(self.world.poetry), "install"], self.root, env)


class Pip(Tool):
    """pip has no lock of its own: add/remove are plain install/uninstall into a venv, and the
    rebuild installs envlock's lock exported as a hash-pinned requirements.txt."""

    name = "pip"
    add_label = f"pip install {SMALL}"
    remove_label = f"pip uninstall -y {SMALL}"
    rebuild_label = "python -m venv + pip install --require-hashes -r"

    def setup(self) -> None:
        venv = self.root / "venv"
        timed([sys.executable, "-m", "venv", str(venv)], self.root, self.world.env())
        timed([str(venv / "bin" / "python"), "-m", "pip", "install", *PROJECT_DEPS], self.root,
              self.world.env())  # fmt: skip

    def pip(self, *args: str) -> list[str]:
        return [str(self.root / "venv" / "bin" / "python"), "-m", "pip", *args]

    def add(self) -> float:
        return timed(self.pip("install", SMALL), self.root, self.world.env())

    def remove(self) -> float:
        return timed(self.pip("uninstall", "-y", SMALL), self.root, self.world.env())

    def drop_env(self) -> None:
        shutil.rmtree(self.root / "fresh", ignore_errors=True)

    def rebuild(self, env: dict[str, str]) -> float:
        fresh = self.root / "fresh"
        start = time.perf_counter()
        timed([sys.executable, "-m", "venv", str(fresh)], self.root, env)
        req = str(self.root / "requirements.txt")
        argv = [
            str(fresh / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--require-hashes",
            "-r",
            req,
        ]
        timed(argv, self.root, env)
        return time.perf_counter() - start


# --------------------------------------------------------------------------- kernels


@contextmanager
def jupyter_dirs(work: Path) -> Iterator[Path]:
    """Private Jupyter config/data/runtime folders: no user kernel or config leaks in."""
    base = Path(tempfile.mkdtemp(prefix="jupyter-", dir=work))
    keys = ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTER_PATH")
    saved = {k: os.environ.get(k) for k in keys}
    for k in keys[:3]:
        os.environ[k] = str(base / k.lower())
    os.environ["JUPYTER_PATH"] = str(base / "path")
    try:
        yield base
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


async def _first_kernel_info_reply(kc: object, limit: float = 120) -> None:
    """Wait for the first kernel_info reply, asking again every 0.25 s. (jupyter_client's
    wait_for_ready re-asks only every second and also waits for IOPub: too coarse to time.)"""
    from queue import Empty

    deadline = time.monotonic() + limit
    asked = 0.0
    while time.monotonic() < deadline:
        if time.monotonic() - asked > 0.25:
            kc.kernel_info()  # type: ignore[attr-defined]
            asked = time.monotonic()
        try:
            msg = await kc.shell_channel.get_msg(timeout=0.01)  # type: ignore[attr-defined]
        except Empty:
            continue
        if msg["msg_type"] == "kernel_info_reply":
            return
    raise RuntimeError(f"no kernel_info reply in {limit} s")


async def _start_to_kernel_info(km_factory: Callable[[], object]) -> float:
    """From the start request to the first kernel_info reply, then shut the kernel down."""
    km = km_factory()
    start = time.perf_counter()
    await km.start_kernel()  # type: ignore[attr-defined]
    kc = km.client()  # type: ignore[attr-defined]
    kc.start_channels()
    try:
        await _first_kernel_info_reply(kc)
        return time.perf_counter() - start
    finally:
        kc.stop_channels()
        await km.shutdown_kernel(now=True)  # type: ignore[attr-defined]


def bench_kernels(world: World, envlock: Envlock, runs: int) -> tuple[Samples, Samples]:
    """A project kernel (provisioner: sync check, bootstrap with %dep) vs plain ipykernel from
    the same env, alternating, env already in sync."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    from jupyter_envlock.kernelspecs import EnvlockKernelSpecManager

    plain = Samples("plain ipykernel (same env)")
    project = Samples("project kernel (envlock, in sync)")
    env_python = envlock.env_dir() / "bin" / "python"
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(world.env())
    try:
        with jupyter_dirs(world.work) as base:
            spec_dir = base / "kernels" / "bench-plain"
            spec_dir.mkdir(parents=True)
            spec = {
                "argv": [str(env_python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "plain",
                "language": "python",
                "env": {"PYTHONPATH": ""},  # as the provisioner keeps the server's path out
            }
            (spec_dir / "kernel.json").write_text(json.dumps(spec))
            plain_ksm = KernelSpecManager(kernel_dirs=[str(base / "kernels")])
            root = envlock.root.parent
            project_ksm = EnvlockKernelSpecManager(root_dir=str(root), scan_depth=1)
            project_ksm.start()
            name = "envlock-bench-envlock"
            assert name in project_ksm.projects(), sorted(project_ksm.projects())

            def plain_km() -> object:
                return AsyncKernelManager(kernel_name="bench-plain", kernel_spec_manager=plain_ksm)

            def project_km() -> object:
                return AsyncKernelManager(kernel_name=name, kernel_spec_manager=project_ksm)

            for n in range(runs + 1):
                p = asyncio.run(_start_to_kernel_info(plain_km))
                q = asyncio.run(_start_to_kernel_info(project_km))
                if n:  # the first round warms the OS file cache for both
                    plain.values.append(p)
                    project.values.append(q)
            project_ksm.stop()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return project, plain


async def _dep_rounds(
    km_factory: Callable[[], object], runs: int, package: str = SMALL
) -> tuple[list[float], list[float]]:
    km = km_factory()
    await km.start_kernel()  # type: ignore[attr-defined]
    kc = km.client()  # type: ignore[attr-defined]
    kc.start_channels()
    adds: list[float] = []
    removes: list[float] = []
    try:
        await kc.wait_for_ready(timeout=120)
        for n in range(runs + 1):
            for code, out in ((f"%dep add {package}", adds), (f"%dep remove {package}", removes)):
                start = time.perf_counter()
                reply = await kc.execute_interactive(code, timeout=300, output_hook=lambda m: None)
                elapsed = time.perf_counter() - start
                if reply["content"]["status"] != "ok":
                    raise RuntimeError(f"{code} failed: {reply['content']}")
                if n:
                    out.append(elapsed)
    finally:
        kc.stop_channels()
        await km.shutdown_kernel(now=True)  # type: ignore[attr-defined]
    return adds, removes


def bench_dep_magic(world: World, envlock: Envlock, runs: int) -> tuple[Samples, Samples]:
    """`%dep add`/`%dep remove` in a running project kernel: execute_request to execute_reply."""
    from jupyter_client.manager import AsyncKernelManager

    from jupyter_envlock.kernelspecs import EnvlockKernelSpecManager

    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(world.env())
    try:
        with jupyter_dirs(world.work):
            ksm = EnvlockKernelSpecManager(root_dir=str(envlock.root.parent), scan_depth=1)
            ksm.start()

            def factory() -> object:
                return AsyncKernelManager(
                    kernel_name="envlock-bench-envlock", kernel_spec_manager=ksm
                )

            adds, removes = asyncio.run(_dep_rounds(factory, runs))
            ksm.stop()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return Samples(f"%dep add {SMALL} (kernel)", adds), Samples(
        f"%dep remove {SMALL} (kernel)", removes
    )


# --------------------------------------------------------------------------- REST listing


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_projects(root: Path, count: int) -> None:
    for n in range(count):
        folder = root / f"p{n:04d}"
        folder.mkdir(parents=True)
        (folder / "pyproject.toml").write_text(
            f'[project]\nname = "proj-{n:04d}"\nversion = "0.1.0"\ndependencies = []\n'
        )


def bench_listing(world: World, count: int, runs: int) -> tuple[Samples, float, int]:
    """GET /api/kernelspecs on a real server with `count` projects under its root: the first
    request's time is returned apart; the samples are the requests after it."""
    root = Path(tempfile.mkdtemp(prefix=f"root-{count}-", dir=world.work))
    make_projects(root, count)
    port, token = free_port(), secrets.token_hex(16)
    with jupyter_dirs(world.work) as base:
        env = world.env(**{k: os.environ[k] for k in os.environ if k.startswith("JUPYTER_")})
        argv = [
            sys.executable, "-m", "jupyter_server", f"--ServerApp.root_dir={root}",
            f"--ServerApp.port={port}", "--ServerApp.open_browser=False",
            f"--IdentityProvider.token={token}",
            "--ServerApp.jpserver_extensions={'jupyter_envlock': True}",
        ]  # fmt: skip
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            argv.append("--allow-root")  # containers and CI runners often run as root
        log_file = (base / "server.log").open("w")
        server = subprocess.Popen(argv, env=env, stdout=log_file, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while True:
                try:
                    _get(f"{url}/api/status", token)
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError((base / "server.log").read_text()[-3000:]) from None
                    time.sleep(0.1)
            start = time.perf_counter()
            specs = json.loads(_get(f"{url}/api/kernelspecs", token))["kernelspecs"]
            first = time.perf_counter() - start
            found = sum(1 for name in specs if name.startswith("envlock-"))
            samples = Samples(f"GET /api/kernelspecs, {count} project(s)")
            for _ in range(max(runs, 5) * 4):
                start = time.perf_counter()
                _get(f"{url}/api/kernelspecs", token)
                samples.values.append(time.perf_counter() - start)
        finally:
            server.terminate()
            server.wait(timeout=30)
            log_file.close()
    return samples, first, found


def listing_breakdown(world: World, count: int) -> str:
    """Where a listing of `count` project specs spends its time, in-process (no HTTP), the way
    jupyter_server's handler does it: the spec manager's get_all_specs, then a REST model for
    every entry that is not one already, then the JSON encoding."""
    from jupyter_server.services.kernelspecs.handlers import is_kernelspec_model, kernelspec_model
    from traitlets import Unicode
    from traitlets.config import Configurable

    from jupyter_envlock.kernelspecs import EnvlockKernelSpecManager

    root = Path(tempfile.mkdtemp(prefix=f"breakdown-{count}-", dir=world.work))
    make_projects(root, count)

    class Server(Configurable):
        base_url = Unicode("/")

    ksm = EnvlockKernelSpecManager(parent=Server(), root_dir=str(root))
    ksm.start()

    class Handler:
        base_url = "/"

    parts: dict[str, list[float]] = {"get_all_specs": [], "models": [], "json": []}
    body = ""
    for _ in range(7):
        t0 = time.perf_counter()
        specs = ksm.get_all_specs()
        t1 = time.perf_counter()
        models = {
            name: info
            if is_kernelspec_model(info)
            else kernelspec_model(Handler(), name, info["spec"], info["resource_dir"])
            for name, info in specs.items()
        }
        t2 = time.perf_counter()
        body = json.dumps({"kernelspecs": models})
        t3 = time.perf_counter()
        for key, value in zip(parts, (t1 - t0, t2 - t1, t3 - t2), strict=True):
            parts[key].append(value)
    ksm.stop()
    shown = ", ".join(f"{k} {fmt(statistics.median(v))}" for k, v in parts.items())
    return f"{shown}; response {len(body) / 1e3:.0f} kB"


def _get(url: str, token: str) -> bytes:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - 127.0.0.1 only
        return response.read()


# --------------------------------------------------------------------------- the report


@dataclass
class Row:
    samples: Samples
    reference: Samples | None
    target: str = ""
    verdict: str = ""


@dataclass
class Section:
    title: str
    rows: list[Row]
    notes: list[str] = field(default_factory=list)


def ratio(a: Samples, b: Samples | None) -> str:
    if b is None or not a.values or not b.values:
        return "-"
    return f"{a.median / b.median:.2f}×"


def check(ok: bool) -> str:
    return "met" if ok else "**missed**"


def render(sections: list[Section], machine: dict[str, str], runs: int, started: str) -> str:
    lines = [
        "# Benchmarks: jupyter-envlock next to uv, Poetry and pip",
        "",
        f"Generated by `benchmarks/bench.py --runs {runs}` on {started}. Medians of {runs} runs "
        "after one warm-up round, spread as min–max, ratios of medians against each table's "
        "reference row. Everything installs from one local index of real wheels on "
        "127.0.0.1 (see benchmarks/README.md for the method).",
        "",
        "## Machine",
        "",
        *[f"- {k}: {v}" for k, v in machine.items()],
        "",
    ]
    for section in sections:
        lines += [
            f"## {section.title}",
            "",
            "| command | median | min–max | vs reference | target | |",
        ]
        lines += ["| --- | ---: | ---: | ---: | --- | --- |"]
        for row in section.rows:
            reference = ratio(row.samples, row.reference)
            lines.append(
                f"| {row.samples.label} | {fmt(row.samples.median)} | {row.samples.spread} "
                f"| {reference} | {row.target} | {row.verdict} |"
            )
        lines.append("")
        lines += [f"- {n}" for n in section.notes]
        if section.notes:
            lines.append("")
    return "\n".join(lines)


def machine_description(world: World) -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kb / 1024 / 1024:.0f} GB"
    except (OSError, ValueError, IndexError):
        memory = "unknown"

    def version(argv: Sequence[str]) -> str:
        try:
            out = subprocess.run(list(argv), capture_output=True, text=True, env=world.env())
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "not available"

    import jupyter_client
    import jupyter_server

    from jupyter_envlock import __version__

    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
        return out.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    if git("status", "--porcelain", "--untracked-files=no", "--", "jupyter_envlock"):
        commit += " + uncommitted changes in jupyter_envlock/"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return {
        "CPU": f"{cpu}, {os.cpu_count()} logical cores",
        "load average (1/5/15 min) at the end": load,
        "memory": memory,
        "OS": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "Python": f"{platform.python_version()} ({sys.executable})",
        "jupyter-envlock": f"{__version__} at {commit}",
        "uv": version([world.uv, "--version"]),
        "Poetry": version([str(world.poetry), "--version"]) if world.poetry else "not installed",
        "pip": version([sys.executable, "-m", "pip", "--version"]).split(" from ")[0],
        "jupyter_client / jupyter_server": f"{jupyter_client.__version__} / {jupyter_server.__version__}",
        "index": "tests/support/index.py IndexServer on 127.0.0.1 (PEP 658 metadata)",
    }


# --------------------------------------------------------------------------- main


def rounds(
    tools: Sequence[Tool], runs: int, step: Callable[[Tool], float], labels: dict[str, str]
) -> dict[str, Samples]:
    """`runs` counted rounds (after one warm-up), each tool in turn."""
    out = {t.name: Samples(labels[t.name]) for t in tools}
    for n in range(runs + 1):
        for tool in tools:
            value = step(tool)
            if n:
                out[tool.name].values.append(value)
        shown = ", ".join(f"{k} {fmt(v.values[-1])}" for k, v in out.items() if v.values)
        log(f"  round {n}/{runs}: {shown or 'warm-up'}")
    return out


def envlock_add_breakdown(world: World, envlock: Envlock, runs: int) -> dict[str, Samples]:
    """An add split in two commands, in the same round: `add --no-sync` (resolve, write lock and
    manifest) then `sync` (the env part); plus the fixed cost every command pays first
    (interpreter start, then imports, timed as `--version`)."""
    out = {
        "bare": Samples("python -c pass"),
        "startup": Samples("python -m jupyter_envlock --version"),
        "no_sync": Samples(f"jupyter envlock add --no-sync {SMALL}"),
        "sync": Samples("jupyter envlock sync (after add --no-sync)"),
    }
    project = ["--project", str(envlock.root), "-q"]
    for n in range(runs + 1):
        values = {
            "bare": timed([sys.executable, "-c", "pass"], world.work, world.env()),
            "startup": timed([*ENVLOCK, "--version"], world.work, world.env()),
            "no_sync": envlock.add("--no-sync"),
            "sync": timed([*ENVLOCK, "sync", *project], world.work, world.env()),
        }
        envlock.remove()
        if n:
            for key, value in values.items():
                out[key].values.append(value)
    return out


def rebuild_breakdown(world: World, envlock: Envlock, runs: int) -> str:
    """Where a warm rebuild goes besides uv's install: envlock creates the env with virtualenv
    (imported in-process), uv sync with its own native venv code."""
    lock = str(envlock.root / "pylock.toml")
    create = (
        "import sys; from virtualenv import cli_run; "
        "cli_run([sys.argv[1], '--no-seed', '--quiet', '--no-periodic-update'], setup_logging=False)"
    )
    parts: dict[str, list[float]] = {"virtualenv": [], "uv venv": [], "uv pip sync": []}
    for n in range(runs + 1):
        target = Path(tempfile.mkdtemp(prefix="venv-", dir=world.work))
        a = timed([sys.executable, "-c", create, str(target / "a")], world.work, world.env())
        b = timed(
            [world.uv, "venv", "-q", "--python", sys.executable, str(target / "b")],
            world.work,
            world.env(),
        )
        argv = [world.uv, "pip", "sync", lock, f"--python={target / 'b' / 'bin' / 'python'}"]
        c = timed([*argv, "-q"], world.work, world.env())
        shutil.rmtree(target, ignore_errors=True)
        if n:
            for key, value in zip(parts, (a, b, c), strict=True):
                parts[key].append(value)
    m = {k: statistics.median(v) for k, v in parts.items()}
    return (
        f"creating the env with virtualenv in a new process {fmt(m['virtualenv'])} "
        f"(`uv venv`: {fmt(m['uv venv'])}); `uv pip sync` of the lock into it "
        f"{fmt(m['uv pip sync'])}"
    )


def section_add_remove(
    world: World, tools: Sequence[Tool], envlock: Envlock, runs: int, skip: set[str]
) -> list[Section]:
    log("add / remove")
    adds = {t.name: Samples(t.add_label) for t in tools}
    removes = {t.name: Samples(t.remove_label) for t in tools}
    for n in range(runs + 1):
        for tool in tools:
            a, r = tool.add(), tool.remove()
            if n:
                adds[tool.name].values.append(a)
                removes[tool.name].values.append(r)
        shown = ", ".join(f"{k} {fmt(v.values[-1])}" for k, v in adds.items() if v.values)
        log(f"  round {n}/{runs}: {shown or 'warm-up'}")
    dep_add = dep_remove = None
    if not {"magic", "kernels"} & skip:
        log("%dep add / remove in a project kernel")
        dep_add, dep_remove = bench_dep_magic(world, envlock, runs)
    parts = envlock_add_breakdown(world, envlock, runs)

    uv_add, env_add = adds["uv"], adds["envlock"]
    rows = [
        Row(uv_add, uv_add, "reference"),
        Row(env_add, uv_add, "≤ 2× uv add", check(env_add.median <= 2 * uv_add.median)),
    ]
    if dep_add is not None:
        rows.append(Row(dep_add, uv_add, "≤ 3× uv add", check(dep_add.median <= 3 * uv_add.median)))
    med = {k: v.median for k, v in parts.items()}
    notes = [
        f"Where `jupyter envlock add` spends its {fmt(env_add.median)}, from the same add split "
        f"into `add --no-sync` ({fmt(med['no_sync'])}) and `sync` ({fmt(med['sync'])}): "
        f"interpreter start {fmt(med['bare'])} and imports {fmt(med['startup'] - med['bare'])} "
        f"(`--version` takes {fmt(med['startup'])}: every command pays it), resolution with "
        f"uv and the lock and manifest writes {fmt(med['no_sync'] - med['startup'])}, the env "
        f"sync with a second uv process {fmt(med['sync'] - med['startup'])}. `uv add` does "
        "everything in one native process.",
    ]
    if "poetry" in adds:
        p_add = adds["poetry"]
        faster = [p_add.median / env_add.median]
        if dep_add is not None:
            faster.append(p_add.median / dep_add.median)
        rows.append(Row(p_add, uv_add, "envlock and %dep ≥ 10× faster", check(min(faster) >= 10)))
        notes.append(
            "poetry add takes "
            + " and ".join(f"{x:.1f}×" for x in faster)
            + " the time of jupyter envlock add"
            + (" and %dep add." if dep_add is not None else ".")
        )
    if "pip" in adds:
        rows.append(Row(adds["pip"], uv_add, "- (no lock written)"))
    add_section = Section(f"Add one small package ({SMALL}) to a synced project", rows, notes)

    uv_remove = removes["uv"]
    rows = [Row(uv_remove, uv_remove, "reference"), Row(removes["envlock"], uv_remove)]
    if dep_remove is not None:
        rows.append(Row(dep_remove, uv_remove))
    rows += [Row(removes[k], uv_remove) for k in ("poetry", "pip") if k in removes]
    return [add_section, Section(f"Remove it again ({SMALL})", rows)]


def section_rebuild(
    world: World, tools: Sequence[Tool], envlock: Envlock, runs: int, kind: str
) -> Section:
    """Drop each tool's env, then rebuild it from the lock on disk (kind: "warm" or "empty")."""
    log(f"rebuild from the lock, {kind} cache")

    def step(tool: Tool) -> float:
        tool.drop_env()
        caches = world.fresh_caches(tool.name) if kind == "empty" else {}
        return tool.rebuild(world.env(**caches))

    result = rounds(tools, runs, step, {t.name: t.rebuild_label for t in tools})
    uv_sync, env_sync = result["uv"], result["envlock"]
    ok = env_sync.median <= 1.5 * uv_sync.median
    rows = [Row(uv_sync, uv_sync, "reference"), Row(env_sync, uv_sync, "≤ 1.5× uv sync", check(ok))]
    rows += [Row(result[k], uv_sync) for k in ("poetry", "pip") if k in result]
    notes = [
        "Each command builds a new env (virtualenv/venv creation included) from the lock already "
        "on disk; pip installs envlock's lock exported with hashes."
    ]
    if kind == "warm":
        notes.append(
            f"Parts of envlock's rebuild, timed alone: {rebuild_breakdown(world, envlock, runs)}."
        )
    return Section(f"Rebuild a fresh env from the lock, {kind} cache", rows, notes)


def section_kernels(world: World, envlock: Envlock, runs: int) -> Section:
    log("kernel start to kernel_info reply")
    project, plain = bench_kernels(world, envlock, runs)
    ok = project.median <= 1.05 * plain.median
    rows = [Row(plain, plain, "reference"), Row(project, plain, "≤ 1.05× plain", check(ok))]
    notes = [
        "The project kernel's start includes the provisioner's sync check (manifest, lock and "
        "marker read, no uv run) and the bootstrap that loads the %dep magics."
    ]
    return Section("Kernel start to kernel_info reply (env in sync)", rows, notes)


def section_listing(world: World, runs: int) -> Section:
    rows = []
    notes = []
    for count in (1, 100, 1000):
        log(f"GET /api/kernelspecs with {count} projects")
        samples, first, found = bench_listing(world, count, runs)
        if count == 1000:
            rows.append(Row(samples, None, "< 100 ms", check(samples.median < 0.1)))
        else:
            rows.append(Row(samples, None))
        notes.append(
            f"{count} project(s): {found} envlock specs listed; first request {fmt(first)}."
        )
    breakdown = listing_breakdown(world, 1000)
    notes.append(f"In-process breakdown for 1000 projects (median of 7): {breakdown}.")
    return Section("Kernel spec listing over REST (after the first scan)", rows, notes)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="counted runs per measurement")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results.md")
    parser.add_argument(
        "--cache",
        type=Path,
        default=REPO / ".test-cache" / "bench",
        help="where the wheel set and Poetry are kept between runs",
    )
    parser.add_argument(
        "--skip",
        default="",
        help="comma-separated parts to leave out: poetry,pip,rebuild,kernels,magic,listing",
    )
    args = parser.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

    wheels = ensure_wheelset(args.cache / "wheels")
    poetry = None if "poetry" in skip else ensure_poetry(args.cache / "poetry-venv", find_uv())
    work = Path(tempfile.mkdtemp(prefix="envlock-bench-"))
    index_root = build_simple_index([wheels], work / "index")
    sections: list[Section] = []
    with IndexServer(index_root) as server:
        world = make_world(work, args.cache, server.url, poetry)
        envlock = Envlock(world)
        tools: list[Tool] = [Uv(world), envlock]
        if poetry is not None:
            tools.append(Poetry(world))
        if "pip" not in skip:
            tools.append(Pip(world))
        for tool in tools:
            log(f"setting up the {tool.name} project")
            tool.setup()

        sections += section_add_remove(world, tools, envlock, args.runs, skip)
        if "rebuild" not in skip:
            for tool in tools:
                if isinstance(tool, Pip):
                    envlock.export_requirements(tool.root / "requirements.txt")
            sections.append(section_rebuild(world, tools, envlock, args.runs, "warm"))
            sections.append(section_rebuild(world, tools, envlock, args.runs, "empty"))
            envlock.rebuild(world.env())  # the kernels below need the env back
        if "kernels" not in skip:
            sections.append(section_kernels(world, envlock, args.runs))
        if "listing" not in skip:
            sections.append(section_listing(world, args.runs))
        machine = machine_description(world)

    out = render(sections, machine, args.runs, started)
    args.out.write_text(out + "\n")
    print(out)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
