"""What the trust check costs at a kernel start (issue 9), and the panel's poll of a large manifest.

Every kernel start from a Jupyter server calls `operations.require_trust` first (in a worker
thread: the provisioner's `require_trust`); it must stay in the no-op start's budget of
milliseconds. Measured here, offline, in a throwaway folder (its own trust store and cache):

- the check of a trusted project, with 1, 100 and 1000 projects in the store, called directly
  and through `asyncio.to_thread` as the provisioner does;
- the refusal of a project that is not trusted (it reads the build plan for the message);
- `status` + `list` (the panel's poll) of a manifest just under the 1 MB cap, and the refusal of
  one over it.

    PYTHONPATH=. python benchmarks/trust_check.py --runs 200 [--out benchmarks/trust_results.md]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def timed(func: Callable[[], object], runs: int) -> list[float]:
    func()  # warm: imports, the OS file cache
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        out.append(time.perf_counter() - start)
    return out


def fmt(values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return f"{statistics.median(ms):.3f} ms (p95 {p95:.3f} ms)"


def gate_in_thread(loop: asyncio.AbstractEventLoop, project: Path) -> None:
    """The provisioner's call: the check in a worker thread, awaited on the event loop."""
    from jupyter_envlock.core import operations
    from jupyter_envlock.core.trust import TrustPolicy

    async def check() -> None:
        await asyncio.to_thread(operations.require_trust, project, TrustPolicy())

    loop.run_until_complete(check())


def manifest(folder: Path, name: str, padding_bytes: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = (
        f'[project]\nname = "{name}"\nversion = "0.1.0"\nrequires-python = ">=3.10"\n'
        'dependencies = ["tinya"]\n'
    )
    if padding_bytes:
        line = 'key{:07d} = "' + "x" * 40 + '"\n'
        count = padding_bytes // len(line.format(0))
        text += "\n[tool.other]\n" + "".join(line.format(i) for i in range(count))
    (folder / "pyproject.toml").write_text(text)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--out", type=Path, help="also write the table here (markdown)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="envlock-trust-bench-") as tmp:
        base = Path(tmp)
        os.environ["JUPYTER_ENVLOCK_DATA_DIR"] = str(base / "data")
        os.environ["JUPYTER_ENVLOCK_CACHE_DIR"] = str(base / "cache")
        from jupyter_envlock.core import operations
        from jupyter_envlock.core.errors import EnvlockError
        from jupyter_envlock.core.project import find_project
        from jupyter_envlock.core.trust import TrustPolicy, TrustStore

        rows: list[tuple[str, str]] = []
        project = manifest(base / "root" / "mine", "mine")
        store = TrustStore()
        store.trust(project)
        made = 1
        for grants in (1, 100, 1000):
            for n in range(made, grants):
                store.trust(manifest(base / "root" / f"p{n}", f"p{n}"))
            made = grants

            def check() -> None:
                operations.require_trust(project, TrustPolicy())

            rows.append((f"trusted project, {grants} in the store", fmt(timed(check, args.runs))))

            loop = asyncio.new_event_loop()
            label = f"  the same through asyncio.to_thread (as pre_launch), {grants}"
            rows.append(
                (label, fmt(timed(lambda loop=loop: gate_in_thread(loop, project), args.runs)))
            )
            loop.close()

        stranger = manifest(base / "root" / "stranger", "stranger")

        def refuse() -> None:
            try:
                operations.require_trust(stranger, TrustPolicy())
            except EnvlockError:
                return
            raise AssertionError("an untrusted project was let through")

        rows.append(("untrusted project: refused, with the plan", fmt(timed(refuse, args.runs))))

        big = manifest(base / "root" / "big", "big", padding_bytes=1_000_000)
        size = (big / "pyproject.toml").stat().st_size

        def poll() -> None:  # as GET project does: one Project, its manifest parsed once
            found = find_project(big)
            operations.status(found)
            operations.list_dependencies(found)

        polls = max(5, args.runs // 20)
        label = f"panel poll (GET project: status + list), {size / 1e6:.2f} MB manifest"
        rows.append((label, fmt(timed(poll, polls))))
        huge = manifest(base / "root" / "huge", "huge", padding_bytes=4_000_000)

        def refused_huge() -> None:
            try:
                operations.status(huge)
            except EnvlockError:
                return
            raise AssertionError("a manifest over the cap was read")

        label = "  a 4 MB manifest: refused before it is read"
        rows.append((label, fmt(timed(refused_huge, args.runs))))

    machine = (
        f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.2f}"
        if hasattr(os, "getloadavg")
        else ""
    )
    lines = [
        "| what | median (p95) |",
        "| --- | --- |",
        *(f"| {what} | {value} |" for what, value in rows),
        "",
        f"{args.runs} runs each (polls: {polls}); {machine}.",
    ]
    table = "\n".join(lines)
    print(table)
    if args.out:
        command = f"PYTHONPATH=. python benchmarks/trust_check.py --runs {args.runs}"
        args.out.write_text(f"# Trust check and manifest cap\n\n`{command}`\n\n{table}\n")


if __name__ == "__main__":
    sys.exit(main())
