"""Scale and memory (issue 11, item 6): 1, 100, 1000 and 5000 projects under the server root.

At each scale, on a real `jupyter server` with the extension: `GET /api/kernelspecs` and the
panel's `GET jupyter-envlock/projects`, the first call and later calls (interleaved), and the
server's resident memory (VmRSS) after them, next to the same server without the extension. In
the benchmark's process, with a spec manager over the same root: a project kernel's start, and
the resident memory of its warm %dep worker (after `%dep list`). The projects are small
(a pyproject.toml each, no lock, no env), plus one real project whose kernel is started.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from harness.context import Context
from harness.kernels import Kernels, execute, kernel_start, running_kernel, worker_rss
from harness.measure import Samples, fmt, interleaved, log
from harness.report import Row, Section, table
from harness.server import JupyterServer, make_projects
from harness.tools import EnvlockProject

LISTING_LIMIT = 0.05  # seconds: a later listing at the largest scale
KERNELSPECS = "/api/kernelspecs"
PROJECTS = "/jupyter-envlock/projects"
CHANGED = "projects, after a change"


def mb(size: int | None) -> str:
    return "-" if size is None else f"{size / 1e6:.0f} MB"


def run(ctx: Context) -> list[Section]:
    world = ctx.world
    root = world.folder("scale-root")
    bench = EnvlockProject(world, root / "bench-scale", ctx.deps)
    bench.setup()
    made = 1
    later = max(5, 2 * ctx.runs)
    results = []
    for count in ctx.scales:
        log(f"scale: {count} projects under the root")
        make_projects(root, made - 1, count - 1)
        made = max(made, count)
        with JupyterServer(world, root) as server:
            first_specs, body = server.timed_get(KERNELSPECS)
            found = sum(1 for n in json.loads(body)["kernelspecs"] if n.startswith("envlock-"))
            first_projects, _ = server.timed_get(PROJECTS)
            touched = root / "p0000" / "pyproject.toml"
            if not touched.exists():
                touched = bench.root / "pyproject.toml"

            def after_change(s: JupyterServer = server, path: Path = touched) -> float:
                os.utime(path)  # an event: this listing looks at the disk again
                return s.timed_get(PROJECTS)[0]

            steps = {
                KERNELSPECS: lambda s=server: s.timed_get(KERNELSPECS)[0],
                PROJECTS: lambda s=server: s.timed_get(PROJECTS)[0],
                CHANGED: after_change,
            }
            listing = interleaved(steps, later, f"listings at {count}", warmup=False)
            with_extension = server.rss
        floor = stat_floor(root)
        with JupyterServer(world, root, extension=False) as plain:
            plain.get(KERNELSPECS)
            without = plain.rss
        with ctx.kernel_environ():
            kernels = Kernels(root, world.folder("plain-kernels"))
            factory = kernels.project_kernel(kernels.name_for(bench.root))
            starts = interleaved({"start": lambda f=factory: kernel_start(f)}, ctx.runs,
                                 f"kernel start at {count}")["start"]  # fmt: skip
            with running_kernel(factory) as (km, kc, loop):
                execute(kc, loop, "%dep list")
                worker = worker_rss(km)
            kernels.stop()
        results.append({
            "count": count, "found": found, "first_specs": first_specs,
            "first_projects": first_projects, "specs": listing[KERNELSPECS],
            "projects": listing[PROJECTS], "changed": listing[CHANGED], "with": with_extension, "without": without,
            "start": starts, "worker": worker, "floor": floor, "body": len(body),
        })  # fmt: skip
    return [report(results, later)]


def stat_floor(root: Path) -> float:
    """Seconds for the least a fresh listing must ask the disk: one stat of every project
    folder and of its manifest (a folder's mtime shows new entries, not a manifest edited in
    place), on this machine."""
    folders = [e.path for e in os.scandir(root) if e.is_dir()]
    start = time.perf_counter()
    for folder in folders:
        os.stat(folder)
        os.stat(os.path.join(folder, "pyproject.toml"))
    return time.perf_counter() - start


def report(results: list[dict], later: int) -> Section:
    rows_table = [
        [str(r["count"]), str(r["found"]), fmt(r["first_specs"]), fmt(r["specs"].median),
         fmt(r["first_projects"]), fmt(r["projects"].median), fmt(r["changed"].median),
         fmt(r["start"].median),
         mb(r["with"]), mb(r["without"]), mb(r["with"] - r["without"]), mb(r["worker"])]
        for r in results
    ]  # fmt: skip
    rows = []
    largest = results[-1]
    for key, what in (("specs", KERNELSPECS), ("projects", PROJECTS)):
        for r in results:
            s: Samples = r[key]
            s.label = f"`GET {what}`, {r['count']} projects, later calls"
            target, ok, why = "", None, ""
            closes = ""
            if r is largest and r["count"] >= 1000:
                target, ok = f"< {fmt(LISTING_LIMIT)}", s.median < LISTING_LIMIT
                why = (f"The first call took {fmt(r['first_' + key])}; a later one "
                       f"{fmt(s.median)} for {r['count']} projects "
                       f"({s.median / r['count'] * 1e6:.0f} µs per project).")  # fmt: skip
                if key == "projects":
                    closes = (
                        f"a listing that follows a change walks the root again "
                        f"({fmt(r['changed'].median)}): one stat of every folder and manifest "
                        f"alone takes {fmt(r['floor'])} here for {r['count']} projects. Only "
                        "where the folder watch works (Linux, local file systems) is an "
                        "unchanged root answered from the last pass; elsewhere every call costs "
                        "that much. Re-reading only the folders the events name would make the "
                        "call after a change cheap too."
                    )
                else:
                    closes = (
                        f"the answer is {r['body'] / 1e6:.1f} MB of JSON for {r['count']} "
                        "specs; each project's JSON is kept while it is unchanged "
                        "(kernelspecs_api.py), so what is left is sending the bytes: fewer "
                        "bytes per spec, or a client that asks for the specs it shows."
                    )
            rows.append(Row(s, None, target, ok, why, closes))
        rows.append(growth_row(results, key, what))
    for r in results:
        r["changed"].label = f"`GET {PROJECTS}`, {r['count']} projects, the call after a change"
        rows.append(Row(r["changed"], None))
    for r in results:
        r["start"].label = f"project kernel start, {r['count']} projects under the root"
        rows.append(Row(r["start"], results[0]["start"]))
    memory = growth_row(results, "memory", "the extension's resident memory")
    rows.append(memory)
    notes = [
        f'Later calls: {later} of each listing, interleaved, after the first; "after a change" '
        "touches one project's manifest (an inotify event) just before the call. The first "
        "`GET /api/kernelspecs` is the first request after the server answers /api/status "
        "(its scan of the root runs in the background from the start).",
        "Resident memory (VmRSS) of the server process after the listings; without the "
        "extension: the same server with `jupyter_envlock` disabled, after one kernelspecs call.",
        "Kernel starts: a spec manager over the same root in the benchmark's process, start "
        "request to kernel_info reply; the worker's memory after `%dep list` in that kernel.",
    ]
    header = ["projects", "envlock specs", "kernelspecs first", "kernelspecs later",
              "projects first", "projects later", "projects after a change", "kernel start",
              "server RSS",
              "without envlock", "envlock's share", "%dep worker RSS"]  # fmt: skip
    return Section("Scale and memory", rows, notes, [table(header, rows_table)])


def growth_row(results: list[dict], key: str, what: str) -> Row:
    """Whether the cost grew no faster than the project count between each pair of scales
    from 100 up."""

    def value(r: dict) -> float:
        return float(r["with"] - r["without"]) if key == "memory" else r[key].median

    big = [r for r in results if r["count"] >= 100]
    steps = [(a, b) for a, b in zip(big, big[1:], strict=False)]
    worst = max(steps, key=lambda ab: value(ab[1]) / max(value(ab[0]), 1e-9) / (ab[1]["count"] / ab[0]["count"]),
                default=None)  # fmt: skip
    label = Samples(f"{what}: growth with the number of projects")
    if worst is None:
        return Row(label, None, "≤ linear", None, "")
    a, b = worst
    factor = value(b) / max(value(a), 1e-9)
    allowed = b["count"] / a["count"]
    shown = (lambda v: mb(int(v))) if key == "memory" else fmt
    why = (f"From {a['count']} to {b['count']} projects ({allowed:.0f}× as many) it went from "
           f"{shown(value(a))} to {shown(value(b))} ({factor:.1f}×).")  # fmt: skip
    label.label = f"{what}: ×{factor:.1f} from {a['count']} to {b['count']} projects"
    return Row(label, None, "≤ linear", factor <= allowed, why)
