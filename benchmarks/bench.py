"""envlock next to uv (and Poetry and pip) in one run, on one local index of real wheels: every
row of issue 11 side by side, with where the time goes.

Run by hand (never in CI or tests), from the repository root with the dev environment's Python:

    .venv/bin/python benchmarks/bench.py --runs 5 --out benchmarks/results.md
    .venv/bin/python benchmarks/bench.py --pypi --only pypi --runs 3 --out /tmp/pypi.md

The first run downloads the wheel set once (about 140 MB; `--cache`); `--pypi` talks to PyPI.
What is measured and how is in benchmarks/README.md; the scenarios are in benchmarks/scenarios/
(one module per item of issue 11), the harness in benchmarks/harness/.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import harness  # noqa: F401 - puts tests/ (support.*) and the repository on sys.path
from harness.context import PARTS, SCENARIO_PARTS, TOOL_PARTS, Context
from harness.kernels import _dep_rounds, start_to_kernel_info
from harness.measure import Samples, fmt, log
from harness.report import Section, load_average, machine_description, render
from harness.world import World, default_cache, ensure_wheelset, jupyter_dirs, make_world, remove
from scenarios import changes, kernel_starts, noop, pypi, rebuilds, scale
from support.index import IndexServer, build_simple_index
from support.poetry_tool import ensure_poetry, poetry_dir

# benchmarks/managers.py (issue 10) imports these from here.
_start_to_kernel_info = start_to_kernel_info
__all__ = ["Samples", "_dep_rounds", "_start_to_kernel_info", "fmt", "jupyter_dirs", "main"]

# Each local scenario and the parts it measures (it runs when any of them is wanted).
LOCAL_SCENARIOS = (
    (("noop",), noop.run),
    (("changes",), changes.run),
    (("rebuild", "clone"), rebuilds.run),
    (("kernels",), kernel_starts.run),
    (("scale",), scale.run),
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="counted rounds per measurement")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results.md"))
    parser.add_argument("--cache", type=Path, default=default_cache(),
                        help="where the wheel set and the PyPI part's cache are kept")  # fmt: skip
    parser.add_argument("--skip", default="",
                        help=f"comma-separated parts to leave out: {','.join(PARTS)}")  # fmt: skip
    parser.add_argument("--only", default="",
                        help="comma-separated scenarios to run alone (Poetry, pip and %%dep stay "
                        f"in unless skipped): {','.join(SCENARIO_PARTS)}")  # fmt: skip
    parser.add_argument("--pypi", action="store_true",
                        help="also run the real stacks against PyPI (by hand only)")  # fmt: skip
    parser.add_argument("--scales", default="1,100,1000,5000",
                        help="project counts under the root for the scale part")  # fmt: skip
    args = parser.parse_args(argv)
    skip = {p for p in args.skip.split(",") if p}
    only = {p for p in args.only.split(",") if p}
    if skip - set(PARTS) or only - set(SCENARIO_PARTS):
        unknown = sorted((skip - set(PARTS)) | (only - set(SCENARIO_PARTS)))
        parser.error(f"unknown parts: {', '.join(unknown)} (parts: {', '.join(PARTS)}; "
                     f"--only takes scenarios: {', '.join(SCENARIO_PARTS)})")  # fmt: skip
    if "pypi" in only and not args.pypi:
        parser.error("the pypi part talks to PyPI: say so with --pypi")
    args.parts = ((only or set(SCENARIO_PARTS)) | set(TOOL_PARTS)) - skip
    if not args.pypi:
        args.parts.discard("pypi")
    args.scales = tuple(int(n) for n in args.scales.split(","))
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load_at_start, clock = load_average(), time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="envlock-bench-"))
    sections: list[Section] = []
    worlds: list[World] = []
    try:
        local = [run for parts, run in LOCAL_SCENARIOS if args.parts.intersection(parts)]
        if local:
            wheels = ensure_wheelset(args.cache / "wheels")
            poetry = None
            if "poetry" in args.parts:
                poetry = ensure_poetry(poetry_dir(args.cache.parent), quiet=True)
            index_root = build_simple_index([wheels], work / "index")
            with IndexServer(index_root) as server:
                worlds.append(make_world(work / "local", server.url, poetry))
                ctx = Context(worlds[-1], args.runs, args.parts, args.scales)
                try:
                    for scenario in local:
                        sections += scenario(ctx)
                finally:
                    ctx.stop()
        if "pypi" in args.parts:
            worlds.append(
                make_world(work / "pypi", None, None, uv_cache=args.cache / "pypi-uv-cache")
            )
            parts = args.parts - {"poetry", "pip"}  # uv's table: the tools PyPI users compare
            ctx = Context(worlds[-1], args.runs, parts, deps=pypi.STACK, package=pypi.PACKAGE)
            try:
                sections += pypi.run(ctx)
            finally:
                ctx.stop()
        if not worlds:
            log("nothing to run")
            return 2
        machine = machine_description(worlds, load_at_start, time.monotonic() - clock)
    finally:
        remove(work)
    command = "benchmarks/bench.py " + shlex.join(sys.argv[1:] if argv is None else list(argv))
    out = render(sections, machine, command.strip(), started)
    args.out.write_text(out)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
