"""Changes next to uv's (issue 11, item 2): add and remove one package (`tabulate` on the local
index; scikit-learn in the `--pypi` part, item 5).

`jupyter-envlock add/remove` (and through the `jupyter` launcher), `%dep add/remove` in a running
project kernel (its warm worker started by the warm-up round), `uv add/remove` on a uv project of
the same packages (envlock's kernel packages listed too, so both resolve the same set) on the same
index; Poetry and pip for scale. All interleaved in the same rounds (Poetry and pip in rounds of
their own, next to uv's again), one project per tool, each change undone by the next step.

The breakdown, in the same rounds: probe.py runs the console-script change with its imports done
first and records every process it starts; the kernel's own worker is probe.py's timing one
(kernel-worker), so each %dep row's requests are timed where they run, and the kernel's side
(its cell, the transport, the rendering) is the kernel's time minus the worker's; once after the
rounds, the same lines under cProfile name the Python functions that cost (lock reads and
validation, the env's metadata scan, manifest parsing) and how often they run.
"""

from __future__ import annotations

import sys

from harness.breakdown import (
    Probe,
    bare_imports,
    describe_profile,
    import_times,
    kernel_worker_cell,
    kernel_worker_probes,
    probe_cli,
    profile_worker,
)
from harness.context import Context
from harness.kernels import execute, running_kernel
from harness.measure import fmt, interleaved, log, median, timed
from harness.report import AGAIN, Row, Section, command_label, floor_of, table, within

# Item 2, on the local index: the console script ≤ 1.3× uv's, %dep ≤ 1.0×. Item 5, on PyPI:
# add/remove ≤ 1.1× uv's, whichever way they are typed.
CLI_TARGET = 1.3
DEP_TARGET = 1.0
PYPI_TARGET = 1.1
# Timed by hand (2026-12-01), interleaved, 7 rounds, with `uv -v` counting the requests:
# on the local index `uv pip compile` of a change took 232 ms where `uv lock` of the same change
# took 217 ms and `uv add` 262 ms; on PyPI both asked for the same pages (129 revalidations to
# add scikit-learn, 114 to remove it) and took 4.6-4.7 s against 4.1-4.6 s.
RESOLVE_IS_UVS = (
    "`uv pip compile --universal` alone takes about what `uv lock` takes for the same change "
    "(both ask the index for the same pages, timed apart by hand): the resolution is uv's own."
)


def run(ctx: Context) -> list[Section]:
    pkg = ctx.package  # what every tool adds and removes
    log(f"add / remove {pkg}")
    world, envlock, uv = ctx.world, ctx.envlock, ctx.uv
    cli_target, dep_target = (PYPI_TARGET,) * 2 if world.pypi else (CLI_TARGET, DEP_TARGET)
    env = world.env()
    console = str(world.bin_dir / "jupyter-envlock")
    baseline = bare_imports(envlock.root, env)
    imports = {}
    for verb in ("add", "remove"):
        imports[verb] = import_times([console, verb, pkg, "-q"], envlock.root, env).own(baseline)
    modules = {verb: ctx.probes.write(times) for verb, times in imports.items()}
    cli = {verb: Probe() for verb in ("add", "remove")}
    dep_lines = {verb: f"{verb} {pkg}" for verb in ("add", "remove")}

    steps: dict = {
        f"uv add {pkg}": lambda: uv.run("add", pkg),
        f"uv remove {pkg}": lambda: uv.run("remove", pkg),
        "python -c pass": lambda: timed([sys.executable, "-c", "pass"], envlock.root, env),
    }
    for verb in ("add", "remove"):
        steps[f"jupyter-envlock {verb} {pkg}"] = lambda v=verb: envlock.run(v, pkg, "-q")
    for verb in ("add", "remove"):
        steps[f"jupyter envlock {verb} {pkg}"] = lambda v=verb: envlock.run(
            v, pkg, "-q", form="launcher"
        )
    for verb in ("add", "remove"):
        steps[f"_probe {verb}"] = lambda v=verb: (
            cli[v].add(probe_cli(modules[v], [v, pkg, "-q"], envlock.root, env)) or 0.0
        )

    # Poetry and pip (no target, for scale) run in rounds of their own, next to uv's again: a
    # second or more of one busy core each, they slowed whatever came next (the %dep add after
    # them by 50 ms; a command after a second's idle takes 20-40 ms longer on these machines,
    # uv's as much as envlock's).
    scale: dict = {}
    poetry = ctx.poetry if ctx.wants("poetry") else None
    if poetry is not None:
        scale[f"poetry add {pkg}"] = lambda: poetry.run("add", pkg)
        scale[f"poetry remove {pkg}"] = lambda: poetry.run("remove", pkg)
    if ctx.wants("pip"):
        pip = ctx.pip
        scale[f"pip install {pkg}"] = lambda: pip.run("install", pkg)
        scale[f"pip uninstall -y {pkg}"] = lambda: pip.run("uninstall", "-y", pkg)

    worker_log = ctx.probes.dir / "kernel-worker.jsonl"
    in_worker: dict[str, Probe] = {}  # the kernel's worker, per verb (with the %dep rows)
    if ctx.wants("magic"):
        with ctx.kernel_environ():
            factory = ctx.kernels().project_kernel(f"envlock-{envlock.name}")
            with running_kernel(factory) as (_km, kc, loop):
                execute(kc, loop, kernel_worker_cell(worker_log))  # before its first %dep
                for line in dep_lines.values():
                    steps[f"%dep {line} (kernel)"] = lambda c=line: execute(kc, loop, f"%dep {c}")
                samples = interleaved(steps, ctx.runs, "changes")
        logged = kernel_worker_probes(worker_log, list(dep_lines.values()))
        in_worker = {verb: logged[line] for verb, line in dep_lines.items()}
    else:
        samples = interleaved(steps, ctx.runs, "changes")
    if scale:
        again = {
            f"uv {verb} {pkg}{AGAIN}": lambda v=verb: uv.run(v, pkg) for verb in ("add", "remove")
        }
        samples.update(interleaved({**again, **scale}, ctx.runs, "changes: Poetry and pip"))
    profile_rows = profile_worker(envlock.root, list(dep_lines.values()), env)

    for key, s in samples.items():
        s.label = (
            key
            if key.startswith("python -c")
            else command_label(key.replace(" (kernel)", ""))
            + (" in a kernel" if key.endswith("(kernel)") else "")
        )
    bare = samples["python -c pass"].median
    sections, breakdown = [], []
    for verb in ("add", "remove"):
        ref = samples[f"uv {verb} {pkg}"]
        probe, hot = cli[verb], in_worker.get(verb, Probe())
        cli_why = (
            f"Interpreter start {fmt(bare)}, imports {fmt(median(probe.imports))} "
            f"({imports[verb].summary(limit=3, cumulative=False)}), then the work "
            f"{fmt(median(probe.work))}: {probe.describe_processes()} and envlock's own Python "
            f"{fmt(probe.python)}. `uv {verb}` resolves, locks and syncs in one native process."
        )
        uv_part = sum(seconds for _, seconds in probe.process_medians())
        cli_closes = (
            f"envlock's uv processes alone take {fmt(uv_part)} ({uv_part / ref.median:.2f}× "
            f"`uv {verb}`), before the interpreter and a change's imports (tomlkit, packaging's "
            f"parsers, filelock). {RESOLVE_IS_UVS} The install is a second uv process where "
            f"`uv {verb}` installs in its own; what is envlock's own (imports, Python) needs a "
            "process kept warm, as `%dep` has."
        )
        rows = [
            Row(ref, ref, "reference"),
            Row(samples[f"jupyter-envlock {verb} {pkg}"], ref, f"≤ {cli_target}× uv {verb}",
                within(samples[f"jupyter-envlock {verb} {pkg}"], ref, cli_target), cli_why,
                cli_closes,
                floor_of([("interpreter start", bare), *probe.process_medians()], ref,
                         cli_target)),
            Row(samples[f"jupyter envlock {verb} {pkg}"], ref),
        ]  # fmt: skip
        dep_key = f"%dep {verb} {pkg} (kernel)"
        if dep_key in samples:
            dep = samples[dep_key]
            trip = dep.median - median(hot.work)
            dep_why = (
                f"The kernel's warm worker answered in {fmt(median(hot.work))}: "
                f"{hot.describe_processes()} and envlock's Python {fmt(hot.python)}; the "
                f"kernel's side (the cell, the transport, the rendering) {fmt(trip)}. Python "
                f"functions that start no process (cProfile, both lines): "
                f"{describe_profile(profile_rows, 4)}."
            )
            procs = hot.process_medians()
            last = procs[-1][1] if len(procs) > 1 else 0.0
            dep_closes = (
                f"the uv processes are {fmt(sum(s for _, s in procs))} of it, one after the "
                "other: the exact sync can only start once the lock it installs exists. "
                "Starting this machine's install alongside the universal lock (and undoing it "
                f"when the lock fails) would save at most the sync's {fmt(last)}, less its "
                "fixed cost (uv's start, the env's inspection): not done, as the second install "
                "to undo costs more in correctness than it saves here. "
                f"{RESOLVE_IS_UVS} The rest is the second process's start, envlock's Python and "
                "the kernel's side."
            )
            rows.append(Row(dep, ref, f"≤ {dep_target}× uv {verb}", within(dep, ref, dep_target),
                            dep_why, dep_closes, floor_of(procs, ref, dep_target)))  # fmt: skip
        tools = [f"poetry {verb} {pkg}",
                 f"pip install {pkg}" if verb == "add" else f"pip uninstall -y {pkg}"]  # fmt: skip
        if any(tool in samples for tool in tools):
            again = samples[f"uv {verb} {pkg}{AGAIN}"]
            rows.append(Row(again, again))
            rows += [Row(samples[tool], again) for tool in tools if tool in samples]
        sections.append(Section(f"Change: {verb} {pkg}", rows))
        breakdown.append([
            f"`jupyter-envlock {verb}`", fmt(samples[f"jupyter-envlock {verb} {pkg}"].median),
            fmt(bare), fmt(median(probe.imports)), "-", fmt(probe.python),
            probe.describe_processes(),
        ])  # fmt: skip
        if dep_key in samples:
            breakdown.append([
                f"`%dep {verb}` (warm worker)", fmt(samples[dep_key].median),
                "-", "-", fmt(samples[dep_key].median - median(hot.work)), fmt(hot.python),
                hot.describe_processes(),
            ])  # fmt: skip
    notes = [
        "The kernel's side: the %dep time in the kernel minus the time its own warm worker "
        "took to answer the same requests (`Worker.answer`, timed in that worker: the cell's "
        "execution, the magic's snapshot of imported modules and its rendering, the JSON lines "
        "both ways).",
        "Python functions that start no process, in the warm worker's add then remove, by "
        f"cumulative time under cProfile (inflated; call counts exact): {describe_profile(profile_rows, 10)}.",
    ]
    sections.append(Section(
        "Changes: where the time goes",
        [Row(samples["python -c pass"])],
        notes,
        [table(["change", "wall", "interpreter start", "imports", "kernel's side",
                "envlock's Python", "processes"], breakdown, "lrrrrrl")],
    ))  # fmt: skip
    return sections
