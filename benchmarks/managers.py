"""uv and Poetry projects through envlock, next to the tools themselves, in one run (issue 10).

Run by hand from the repository root with the dev environment's Python, after the test set-up
filled the test cache (the wheelhouse of ipykernel's wheels and Poetry 2.5.1; no network then):

    ENVLOCK_TEST_CACHE=/path/to/.test-cache PYTHONPATH=. python benchmarks/managers.py --runs 5

Scenarios, each measured from outside as the user waits, interleaved round by round so that a
slow moment of the machine hits every row alike, after one warm-up round:

* Kernel start, env already in sync: the start request to the first kernel_info reply. A uv
  project's kernel and a Poetry project's kernel (provisioner: the no-op sync check, the kernel
  layer lookup, the bootstrap with %dep) next to a plain ipykernel (`python -m ipykernel_launcher`
  from a venv of the same interpreter that has ipykernel installed) and next to `uv run --with
  ipykernel` (how pyproject-local-kernel starts a uv project's kernel).
* `%dep add` / `%dep remove` of one small package in the running kernel of a uv project
  (execute_request to execute_reply) next to `uv add` / `uv remove` in a terminal on a copy of the
  same project; the same for a Poetry project next to `poetry add` / `poetry remove`.

Everything installs from one local index on 127.0.0.1 (the test suite's tiny wheels and
wheelhouse), with the caches and Poetry's folders in a throwaway folder.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO))

from bench import Samples, _dep_rounds, _start_to_kernel_info, fmt, jupyter_dirs  # noqa: E402
from support.index import IndexServer, build_simple_index  # noqa: E402
from support.poetry_tool import PoetryTool, ensure_poetry, isolated_settings, poetry_dir  # noqa: E402
from support.tool_projects import PoetryProjects, UvProjects  # noqa: E402
from support.wheelhouse import ensure_wheelhouse, find_uv  # noqa: E402
from support.wheels import build_wheel  # noqa: E402

SMALL = "tinyd"


def log(message: str) -> None:
    print(f"[managers] {message}", file=sys.stderr, flush=True)


def timed(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed in {cwd}:\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def world(work: Path, cache: Path, index_url: str) -> dict[str, str]:
    """os.environ for the run: the local index only, every cache and Poetry folder in `work`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "POETRY_"))}
    env.pop("VIRTUAL_ENV", None)
    env.update(isolated_settings(work / "poetry-home"))
    env.update(
        {
            "PIP_CONFIG_FILE": os.devnull,
            "UV_CACHE_DIR": str(work / "uv-cache"),
            "UV_PYTHON_DOWNLOADS": "never",
            "UV_NO_PROGRESS": "1",
            "JUPYTER_ENVLOCK_CACHE_DIR": str(work / "envlock-cache"),
            "JUPYTER_ENVLOCK_POETRY": str(ensure_poetry(poetry_dir(cache), quiet=True)),
        }
    )
    from conftest import _pyenv_pythons  # every pyenv Python resolvable, as in the tests
    from support.isolation import pyenv_version

    version = pyenv_version(_pyenv_pythons())
    if version:
        env["PYENV_VERSION"] = version
    config = work / "uv.toml"  # the index as a user's own uv config names it (never copied)
    config.write_text(f'[[index]]\nurl = "{index_url}"\ndefault = true\n')
    env["UV_CONFIG_FILE"] = str(config)
    return env


def write_notebookless_spec(base: Path, name: str, argv: list[str]) -> None:
    folder = base / "kernels" / name
    folder.mkdir(parents=True)
    spec = {"argv": argv, "display_name": name, "language": "python", "env": {"PYTHONPATH": ""}}
    (folder / "kernel.json").write_text(json.dumps(spec))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("ENVLOCK_TEST_CACHE") or REPO / ".test-cache"),
    )
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="envlock-managers-bench-"))
    wheels = work / "tiny"
    wheels.mkdir()
    for name, version, requires in (
        ("tinya", "1.1.0", ()),
        ("tinya", "2.0.0", ()),
        ("tinyd", "1.1.0", ()),
    ):
        build_wheel(wheels, name, version, requires, None)
    index_root = build_simple_index(
        [wheels, ensure_wheelhouse(args.cache / "wheelhouse")], work / "index"
    )
    saved = dict(os.environ)
    with IndexServer(index_root) as server:
        settings = world(work, args.cache, server.url)
        os.environ.clear()
        os.environ.update(settings)
        try:
            return run(work, server.url, args.runs)
        finally:
            os.environ.clear()
            os.environ.update(saved)
            shutil.rmtree(work, ignore_errors=True)


def run(work: Path, index_url: str, runs: int) -> int:
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    from jupyter_envlock.core import operations
    from jupyter_envlock.kernelspecs import EnvlockKernelSpecManager

    uv = find_uv()
    root = work / "root"
    uv_projects = UvProjects(uv=uv, index_url=index_url, scratch=work / "uv-builder")
    poetry = PoetryTool(
        exe=Path(os.environ["JUPYTER_ENVLOCK_POETRY"]), index_url=index_url,
        home=work / "poetry-home", settings={},
    )  # fmt: skip
    log("making a uv project, a Poetry project and a plain ipykernel venv")
    uvp = uv_projects.project(root / "uvbench", name="uvbench", deps=["tinya"])
    uv_terminal = uv_projects.project(work / "terminal" / "uvbench", name="uvbench", deps=["tinya"])
    pp = PoetryProjects(poetry).project(root / "poetrybench", name="poetrybench", style="pep621",
                                        deps=["tinya"], package_mode=False)  # fmt: skip
    poetry_terminal = PoetryProjects(poetry).project(
        work / "terminal" / "poetrybench", name="poetrybench", style="pep621", deps=["tinya"],
        package_mode=False,
    )  # fmt: skip
    for project in (uvp, pp):
        operations.sync(project)
    timed([poetry.exe.as_posix(), "sync", "--no-interaction"], poetry_terminal)
    plain = work / "plain-venv"
    timed([uv, "venv", "--no-config", "--quiet", "--python", sys.executable, str(plain)], work)
    timed(
        [
            uv,
            "pip",
            "install",
            "--quiet",
            "--python",
            str(plain / "bin" / "python"),
            "ipykernel",
            "tinya",
        ],
        work,
    )

    samples = {
        "plain": Samples("plain ipykernel (python -m ipykernel_launcher, same interpreter)"),
        "uvrun": Samples("uv run --frozen --with ipykernel (pyproject-local-kernel's way)"),
        "uv": Samples("uv project kernel (envlock, in sync)"),
        "poetry": Samples("Poetry project kernel (envlock, in sync)"),
    }
    with jupyter_dirs(work) as base:
        write_notebookless_spec(
            base,
            "bench-plain",
            [str(plain / "bin" / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        )
        write_notebookless_spec(
            base,
            "bench-uvrun",
            [
                uv,
                "run",
                "--frozen",
                "--project",
                str(uvp),
                "--with",
                "ipykernel",
                "python",
                "-m",
                "ipykernel_launcher",
                "-f",
                "{connection_file}",
            ],
        )
        plain_ksm = KernelSpecManager(kernel_dirs=[str(base / "kernels")])
        project_ksm = EnvlockKernelSpecManager(root_dir=str(root))
        project_ksm.refresh()
        factories = {
            "plain": lambda: AsyncKernelManager(kernel_name="bench-plain", kernel_spec_manager=plain_ksm),
            "uvrun": lambda: AsyncKernelManager(kernel_name="bench-uvrun", kernel_spec_manager=plain_ksm),
            "uv": lambda: AsyncKernelManager(kernel_name="envlock-uvbench", kernel_spec_manager=project_ksm),
            "poetry": lambda: AsyncKernelManager(kernel_name="envlock-poetrybench", kernel_spec_manager=project_ksm),
        }  # fmt: skip
        log(f"kernel starts: {runs} rounds after a warm-up")
        for n in range(runs + 1):
            for key, factory in factories.items():
                elapsed = asyncio.run(_start_to_kernel_info(factory))
                if n:
                    samples[key].values.append(elapsed)

        log("%dep add/remove in the kernels vs the tools in a terminal")
        dep = {}
        for key, name in (("uv", "envlock-uvbench"), ("poetry", "envlock-poetrybench")):
            adds, removes = asyncio.run(_dep_rounds(
                lambda name=name: AsyncKernelManager(kernel_name=name, kernel_spec_manager=project_ksm),
                runs, SMALL,
            ))  # fmt: skip
            dep[key] = (Samples(f"%dep add {SMALL} ({key} project kernel)", adds),
                        Samples(f"%dep remove {SMALL} ({key} project kernel)", removes))  # fmt: skip
        project_ksm.stop()
    tools = {
        "uv": ([uv, "add", "--quiet", SMALL], [uv, "remove", "--quiet", SMALL], uv_terminal),
        "poetry": ([str(poetry.exe), "add", "--no-interaction", SMALL],
                   [str(poetry.exe), "remove", "--no-interaction", SMALL], poetry_terminal),
    }  # fmt: skip
    terminal = {}
    for key, (add, remove, cwd) in tools.items():
        adds, removes = [], []
        for n in range(runs + 1):
            a, r = timed(add, cwd), timed(remove, cwd)
            if n:
                adds.append(a)
                removes.append(r)
        terminal[key] = (Samples(f"`{Path(add[0]).name} add {SMALL}` (terminal)", adds),
                         Samples(f"`{Path(remove[0]).name} remove {SMALL}` (terminal)", removes))  # fmt: skip

    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    print(f"# uv and Poetry projects: envlock next to the tools ({runs} runs, medians)\n")
    print(f"Python {platform.python_version()}, {os.cpu_count()} cores, load {load[0]:.2f}, "
          f"{time.strftime('%Y-%m-%d %H:%M')}\n")  # fmt: skip
    print("| kernel start (start request to kernel_info reply) | median | min–max | vs plain |")
    print("| --- | ---: | ---: | ---: |")
    for s in samples.values():
        print(
            f"| {s.label} | {fmt(s.median)} | {s.spread} | {s.median / samples['plain'].median:.2f}× |"
        )
    print("\n| change | median | min–max | vs the tool |")
    print("| --- | ---: | ---: | ---: |")
    for key in ("uv", "poetry"):
        for mine, theirs in zip(dep[key], terminal[key], strict=True):
            print(
                f"| {mine.label} | {fmt(mine.median)} | {mine.spread} | {mine.median / theirs.median:.2f}× |"
            )
            print(f"| {theirs.label} | {fmt(theirs.median)} | {theirs.spread} | 1.00× |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
