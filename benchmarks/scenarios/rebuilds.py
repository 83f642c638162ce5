"""Rebuilds next to uv's (issue 11, item 3).

From the lock already on disk into a new env (the old one moved aside first, untimed, and deleted
once the table's rounds are over: `World.discard`): with uv's cache warm, `jupyter-envlock sync`
next to `uv sync --frozen`; with every cache empty, next to `uv sync` (Poetry and pip for
scale). Then the first kernel start of a fresh clone (no env: it is built inside the start) next
to what a uv user does: `uv sync --frozen`, then a plain ipykernel start from that env. The
breakdown runs the same rebuild through probe.py in the same rounds.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

from harness.breakdown import Probe, bare_imports, import_times, probe_cli
from harness.context import Context
from harness.kernels import kernel_start
from harness.measure import Samples, fmt, interleaved, log, median, timed
from harness.report import AGAIN, Row, Section, command_label, floor_of, within

T = TypeVar("T")
WARM_TARGET = 1.1
EMPTY_TARGET = 1.0
CLONE_TARGET = 1.1


def run(ctx: Context) -> list[Section]:
    sections = []
    if ctx.wants("rebuild"):
        for kind in ("warm", "empty"):
            sections.append(rebuild(ctx, kind))
    if ctx.wants("clone"):
        sections.append(fresh_clone(ctx))
    return sections


def rebuild(ctx: Context, kind: str) -> Section:
    log(f"rebuild from the lock, {kind} cache")
    world, envlock, uv = ctx.world, ctx.envlock, ctx.uv

    def caches(step: Callable[[dict[str, str]], T]) -> Callable[[], T]:
        """The step with the run's warm caches, or with empty ones made for it alone."""
        if kind == "warm":
            return lambda: step(world.env())

        def cold() -> T:
            with world.empty_caches() as env:
                return step(env)

        return cold

    console = str(world.bin_dir / "jupyter-envlock")
    envlock.drop_env()
    times = caches(lambda env: import_times([console, "sync", "-q"], envlock.root, env))
    modules = ctx.probes.write(times().own(bare_imports(envlock.root, world.env())))
    probe = Probe()
    uv_label = "uv sync --frozen" if kind == "warm" else "uv sync"

    def probed(env: dict[str, str]) -> float:
        envlock.drop_env()
        probe.add(probe_cli(modules, ["sync", "-q"], envlock.root, env))
        return 0.0

    steps: dict = {
        "python -c pass": lambda: timed([sys.executable, "-c", "pass"], envlock.root, world.env()),
        "_drop uv": lambda: uv.drop_env() or 0.0,
        uv_label: caches(lambda env: uv.rebuild(env, frozen=kind == "warm")),
        "_drop envlock": lambda: envlock.drop_env() or 0.0,
        "jupyter-envlock sync": caches(envlock.rebuild),
        "_probe": caches(probed),
    }
    # Poetry and pip (for scale) in rounds of their own, next to uv's again: seconds of one
    # busy core each, they would slow whatever came after them (see scenarios/changes.py).
    scale: dict = {}
    poetry = ctx.poetry if ctx.wants("poetry") else None
    if poetry is not None:
        scale["_drop poetry"] = lambda: poetry.drop_env() or 0.0
        scale["poetry install"] = caches(poetry.rebuild)
    if ctx.wants("pip"):
        pip = ctx.pip
        requirements = pip.root / "requirements.txt"
        envlock.run("export", "-o", str(requirements))
        scale["_drop pip"] = lambda: pip.drop_env() or 0.0
        scale["python -m venv + pip install --require-hashes -r"] = caches(pip.rebuild)
    samples = interleaved(steps, ctx.runs, f"rebuild, {kind} cache")
    world.empty_trash()
    if scale:
        again = {"_drop uv": steps["_drop uv"], f"{uv_label}{AGAIN}": steps[uv_label]}
        samples.update(interleaved({**again, **scale}, ctx.runs, f"rebuild, {kind}: Poetry, pip"))
        world.empty_trash()
    envlock.rebuild(world.env())  # what comes next needs the env back

    bare = samples.pop("python -c pass")
    for key, s in samples.items():
        s.label = command_label(key)
    ref, mine = samples[uv_label], samples["jupyter-envlock sync"]
    factor = WARM_TARGET if kind == "warm" else EMPTY_TARGET
    why = (
        f"Imports {fmt(median(probe.imports))}, then the {probe.summary()}. "
        f"`{uv_label}` creates the env and installs in one native process."
    )
    procs = dict(probe.process_medians())
    install = procs.get("uv pip sync", float("nan"))
    closes = (
        f"`uv pip sync` of pylock.toml alone takes {fmt(install)}, {install / ref.median:.2f}× "
        f"`{uv_label}` for the same packages, and `uv venv` {fmt(procs.get('uv venv', 0.0))}; "
        f"envlock's own Python is {fmt(probe.python)}, its imports {fmt(median(probe.imports))}. "
        "With each package's index named in the lock, uv finds the wheels in its cache as "
        "`uv sync` does (a lock written without it has uv ask the server for every wheel "
        "again); what is left is a second uv process (uv can create an env or fill one, not "
        "both) and envlock's own interpreter and imports."
    )
    rows = [
        Row(ref, ref, "reference"),
        Row(
            mine,
            ref,
            f"≤ {factor}× {uv_label}",
            within(mine, ref, factor),
            why,
            closes,
            floor_of([("interpreter start", bare.median), *probe.process_medians()], ref, factor),
        ),
    ]
    others = [
        k for k in samples if k not in (uv_label, "jupyter-envlock sync", f"{uv_label}{AGAIN}")
    ]
    if others:
        again = samples[f"{uv_label}{AGAIN}"]
        rows += [Row(again, again)] + [Row(samples[k], again) for k in others]
    notes = [
        "Each command builds a new env (its creation included) from the lock on disk; pip "
        "installs envlock's lock exported with hashes.",
        f"`jupyter-envlock sync` into a new env, probed in the same rounds: imports "
        f"{fmt(median(probe.imports))}, {probe.summary()}.",
        f"Interpreter start (`python -c pass`, in the same rounds): {fmt(bare.median)}.",
    ]
    title = "Rebuild a new env from the lock, " + (
        "warm cache" if kind == "warm" else "empty cache"
    )
    return Section(title, rows, notes)


def fresh_clone(ctx: Context) -> Section:
    """The first kernel start of a clone (env built inside the start) vs uv sync + ipykernel."""
    log("first kernel start of a fresh clone")
    world, envlock, uv = ctx.world, ctx.envlock, ctx.uv
    env = world.env()
    build = Probe()
    console = str(world.bin_dir / "jupyter-envlock")
    envlock.drop_env()
    times = import_times([console, "sync", "-q"], envlock.root, env)
    modules = ctx.probes.write(times.own(bare_imports(envlock.root, env)))
    with ctx.kernel_environ():
        kernels = ctx.kernels()
        project = kernels.project_kernel(f"envlock-{envlock.name}")
        plain = kernels.plain_kernel(kernels.add_plain("bench-uv-plain", uv.python))

        def probed() -> float:
            envlock.drop_env()
            build.add(probe_cli(modules, ["sync", "-q"], envlock.root, env))
            return 0.0

        steps: dict = {
            "_drop envlock": lambda: envlock.drop_env() or 0.0,
            "project kernel start, env built inside it": lambda: kernel_start(project),
            "_drop uv": lambda: uv.drop_env() or 0.0,
            "uv sync --frozen": lambda: uv.rebuild(env),
            "plain ipykernel start from uv's new env": lambda: kernel_start(plain),
            "_the build alone": probed,
            "project kernel start, env in sync": lambda: kernel_start(project),
        }
        samples = interleaved(steps, ctx.runs, "fresh clone")
    world.empty_trash()
    both = Samples("`uv sync --frozen` + plain ipykernel start (sum per round)", [
        a + b for a, b in zip(samples["uv sync --frozen"].values,
                              samples["plain ipykernel start from uv's new env"].values, strict=True)
    ])  # fmt: skip
    mine = samples["project kernel start, env built inside it"]
    in_sync = samples["project kernel start, env in sync"]
    plain_start = samples["plain ipykernel start from uv's new env"]
    why = (
        f"The start's two halves, measured in the same rounds: the build (`jupyter-envlock sync` "
        f"into a new env, probed: {build.summary()}) and the kernel start itself "
        f"({fmt(in_sync.median)} with the env in sync); together {fmt(median(build.work) + in_sync.median)}."
    )
    closes = (
        "the build inside the start is envlock's rebuild into a new env (the rebuild rows say "
        "what would close that gap: two processes against one `uv sync`, and envlock's own "
        "imports); the rest is the kernel start with its env in sync."
    )
    rows = [
        Row(both, both, "reference"),
        Row(
            mine,
            both,
            f"≤ {CLONE_TARGET}× uv sync + ipykernel",
            within(mine, both, CLONE_TARGET),
            why,
            closes,
            floor_of(
                [*build.process_medians(), ("a plain ipykernel start", plain_start.median)],
                both,
                CLONE_TARGET,
            ),
        ),
        Row(samples["uv sync --frozen"], both),
        Row(samples["plain ipykernel start from uv's new env"], both),
        Row(in_sync, both),
    ]
    notes = [
        "Kernel starts are timed from the start request to the first kernel_info reply; the "
        "project kernel's includes the provisioner's sync (here: creating the env and "
        "installing the lock with uv's warm cache) and the bootstrap that loads %dep.",
    ]
    return Section("First kernel start of a fresh clone (warm uv cache)", rows, notes)
