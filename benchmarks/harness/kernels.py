"""Kernels as a server starts them: a spec manager, a kernel manager, the start request timed to
the first kernel_info reply; `%dep` lines timed from execute_request to execute_reply in a
running project kernel; the resident memory of its warm %dep worker.

Everything here runs in the benchmark's own process with os.environ set to the run's (the spec
manager, the provisioner and the kernel read it): call it inside `world.environ(...)`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from queue import Empty
from typing import Any

from .measure import Samples
from .world import SMALL

KernelFactory = Callable[[], Any]


async def first_kernel_info_reply(kc: Any, limit: float = 300) -> None:
    """Wait for the first kernel_info reply, asking again every 0.25 s. (jupyter_client's
    wait_for_ready re-asks only every second and also waits for IOPub: too coarse to time.)"""
    deadline = time.monotonic() + limit
    asked = 0.0
    while time.monotonic() < deadline:
        if time.monotonic() - asked > 0.25:
            kc.kernel_info()
            asked = time.monotonic()
        try:
            msg = await kc.shell_channel.get_msg(timeout=0.01)
        except Empty:
            continue
        if msg["msg_type"] == "kernel_info_reply":
            return
    raise RuntimeError(f"no kernel_info reply in {limit} s")


async def start_to_kernel_info(km_factory: KernelFactory) -> float:
    """From the start request to the first kernel_info reply, then shut the kernel down."""
    km = km_factory()
    start = time.perf_counter()
    await km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        await first_kernel_info_reply(kc)
        return time.perf_counter() - start
    finally:
        kc.stop_channels()
        await km.shutdown_kernel(now=True)


def kernel_start(km_factory: KernelFactory) -> float:
    return asyncio.run(start_to_kernel_info(km_factory))


def write_plain_spec(
    kernels_dir: Path, name: str, argv: list[str], env: dict[str, str] | None = None
) -> None:
    """A kernel spec without a provisioner, keeping the server's PYTHONPATH out as the
    provisioner does for project kernels."""
    folder = kernels_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    spec = {"argv": argv, "display_name": name, "language": "python",
            "env": {"PYTHONPATH": "", **(env or {})}}  # fmt: skip
    (folder / "kernel.json").write_text(json.dumps(spec))


class Kernels:
    """Spec managers for one root of projects and a folder of plain specs."""

    def __init__(self, root: Path, plain_dir: Path) -> None:
        from jupyter_client.kernelspec import KernelSpecManager

        from jupyter_envlock.kernelspecs import EnvlockKernelSpecManager

        self.plain_dir = plain_dir
        plain_dir.mkdir(parents=True, exist_ok=True)
        self.plain = KernelSpecManager(kernel_dirs=[str(plain_dir)])
        self.projects = EnvlockKernelSpecManager(root_dir=str(root))
        self.projects.refresh()

    def add_plain(self, name: str, python: Path) -> str:
        """`python -m ipykernel_launcher`: a plain ipykernel."""
        argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        write_plain_spec(self.plain_dir, name, argv)
        return name

    def add_bootstrap(self, name: str, python: Path, project_root: Path) -> str:
        """The project kernel's own command (envlock's bootstrap, which loads %dep) and
        environment, started without the provisioner: a project start minus its sync check."""
        import os

        from jupyter_envlock.kernel_launch import kernel_command, kernel_environment

        env = kernel_environment(os.environ, python.parents[1], project_root)
        changed = {k: v for k, v in env.items() if os.environ.get(k) != v}
        write_plain_spec(self.plain_dir, name, kernel_command(python, "{connection_file}"), changed)
        return name

    def project_kernel(self, name: str) -> KernelFactory:
        from jupyter_client.manager import AsyncKernelManager

        if name not in self.projects.projects():
            self.projects.refresh()
        found = sorted(self.projects.projects())
        if name not in found:
            raise RuntimeError(f"no project kernel {name!r} under the root: {found}")
        return lambda: AsyncKernelManager(kernel_name=name, kernel_spec_manager=self.projects)

    def name_for(self, root: Path) -> str:
        """The kernel name of the project at `root`."""
        for _ in range(2):
            for name, project in self.projects.projects().items():
                if Path(project.root).resolve() == root.resolve():
                    return name
            self.projects.refresh()
        raise RuntimeError(f"no project kernel for {root}: {sorted(self.projects.projects())}")

    def plain_kernel(self, name: str) -> KernelFactory:
        from jupyter_client.manager import AsyncKernelManager

        return lambda: AsyncKernelManager(kernel_name=name, kernel_spec_manager=self.plain)

    def stop(self) -> None:
        self.projects.stop()


@contextmanager
def running_kernel(
    km_factory: KernelFactory,
) -> Iterator[tuple[Any, Any, asyncio.AbstractEventLoop]]:
    """A started kernel, its client and the loop to run requests on."""
    loop = asyncio.new_event_loop()
    km = km_factory()
    loop.run_until_complete(km.start_kernel())
    kc = km.client()
    kc.start_channels()
    try:
        loop.run_until_complete(kc.wait_for_ready(timeout=300))
        yield km, kc, loop
    finally:
        kc.stop_channels()
        loop.run_until_complete(km.shutdown_kernel(now=True))
        loop.close()


def execute(kc: Any, loop: asyncio.AbstractEventLoop, code: str) -> float:
    """execute_request to execute_reply of one cell; it must succeed."""
    start = time.perf_counter()
    reply = loop.run_until_complete(
        kc.execute_interactive(code, timeout=600, output_hook=lambda m: None)
    )
    elapsed = time.perf_counter() - start
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"{code} failed: {reply['content']}")
    return elapsed


def dep_rounds(km_factory: KernelFactory, runs: int, lines: Sequence[str]) -> dict[str, Samples]:
    """Each %dep line in turn, `runs` rounds after a warm-up round, in one running kernel."""
    out = {line: Samples(f"{line} (kernel)") for line in lines}
    with running_kernel(km_factory) as (_km, kc, loop):
        for n in range(runs + 1):
            for line in lines:
                elapsed = execute(kc, loop, line)
                if n:
                    out[line].values.append(elapsed)
    return out


def kernel_pid(km: Any) -> int:
    provisioner = getattr(km, "provisioner", None)
    pid = getattr(provisioner, "pid", None) or getattr(
        getattr(provisioner, "process", None), "pid", None
    )
    if pid is None:
        raise RuntimeError("cannot tell the kernel's process id")
    return int(pid)


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        here = todo.pop()
        for task in Path(f"/proc/{here}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                out.append(child)
                todo.append(child)
    return out


def rss(pid: int) -> int:
    """Resident memory of a process, in bytes (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def worker_rss(km: Any) -> int | None:
    """The warm %dep worker among the kernel's descendants (`-m jupyter_envlock.worker`)."""
    for pid in descendants(kernel_pid(km)):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"jupyter_envlock.worker" in argv:
            return rss(pid)
    return None


async def _dep_rounds(
    km_factory: KernelFactory, runs: int, package: str = SMALL
) -> tuple[list[float], list[float]]:
    """`%dep add PACKAGE` and `%dep remove PACKAGE` rounds (benchmarks/managers.py calls this)."""
    lines = [f"%dep add {package}", f"%dep remove {package}"]
    samples = await asyncio.to_thread(dep_rounds, km_factory, runs, lines)
    return samples[lines[0]].values, samples[lines[1]].values
