"""No-op paths next to uv's (issue 11, item 1).

`status` of an in-sync project, a no-op `sync`, `list`, `python`, `--version` and a `lock` with
nothing to change (item 5's no-op, here on the local index), each started three ways (the console script, the `jupyter` launcher, `python -m`), in the project folder as a
user types them, next to the uv command the issue names as the reference (`uv sync --frozen`,
`uv --version`) and uv's closest equivalent where there is one:

- status: `uv sync --check` (whether the env matches the lock, and the lock the manifest);
- sync: `uv sync` (it too checks that the lock is current before it syncs);
- list: `uv tree --frozen --depth 1` (the direct dependencies with their locked versions, read
  from the lock; `uv pip list` lists what the env has installed, which `list` does not read);
- python: `uv python find` (in the project folder it names the project's env Python);
- lock: `uv lock` with a current uv.lock (the reference itself).

The `jupyter` launcher's own cost is `jupyter benchnoop`, a subcommand that is `/bin/true`: what
the launcher does before it execs. In the same rounds, probe.py splits each console-script command
into interpreter start, imports and the work.
"""

from __future__ import annotations

import os
import sys
import time

from harness.breakdown import Probe, bare_imports, import_times, probe_cli, process_tree
from harness.context import Context
from harness.measure import fmt, interleaved, log, median, timed
from harness.report import Row, Section, floor_of, table, within
from harness.tools import FORM_LABELS, FORMS

from jupyter_envlock.core.answers import RACY_NS

TARGET = 1.5
# The standard library a command line of envlock's kind cannot do without: its parser, its
# dataclasses, paths, the TOML reader, JSON and hashes (what a no-op reads its files with).
FLOOR = "import argparse, dataclasses, pathlib, tomllib, json, hashlib"
# envlock words -> (reference uv args, closer uv args or None)
COMMANDS: dict[str, tuple[list[str], list[str] | None]] = {
    "status": (["sync", "--frozen"], ["sync", "--check"]),
    "sync": (["sync", "--frozen"], ["sync"]),
    "list": (["sync", "--frozen"], ["tree", "--frozen", "--depth", "1"]),
    "python": (["sync", "--frozen"], ["python", "find"]),
    "--version": (["--version"], None),
    "lock": (["lock"], None),
}


def launcher_stub(ctx: Context) -> dict[str, str]:
    """A `jupyter-benchnoop` subcommand that does nothing (/bin/true) on PATH."""
    folder = ctx.world.folder("launcher-bin")
    stub = folder / "jupyter-benchnoop"
    if not stub.exists():
        stub.symlink_to("/bin/true")
    return ctx.world.env(PATH=f"{folder}{os.pathsep}{ctx.world.base_env['PATH']}")


def run(
    ctx: Context,
    commands: dict[str, tuple[list[str], list[str] | None]] = COMMANDS,
    forms: tuple[str, ...] = FORMS,
) -> list[Section]:
    """The rows of `commands`, envlock started in each of `forms` (the console script first)."""
    log("no-op paths: " + ", ".join(commands))
    world, envlock, uv = ctx.world, ctx.envlock, ctx.uv
    env = world.env()
    stub_env = launcher_stub(ctx)
    jupyter = str(world.bin_dir / "jupyter")
    console = str(world.bin_dir / "jupyter-envlock")

    baseline = bare_imports(envlock.root, env)
    # The first run of each command is the full one (its imports are what a changed project
    # pays); it records its answer once the project's files are older than the racy window, as
    # a user's are when they ask again, and every later run replays that record.
    imports = {
        words: import_times([console, words], envlock.root, env).own(baseline) for words in commands
    }
    time.sleep(RACY_NS / 1e9 + 0.1)
    for words in commands:
        envlock.run(words, form="console")
    replayed = {
        words: import_times([console, words], envlock.root, env).own(baseline) for words in commands
    }
    launcher_imports = import_times([jupyter, "benchnoop"], envlock.root, stub_env).own(baseline)
    modules = {words: ctx.probes.write(times) for words, times in imports.items()}
    probes = {words: Probe() for words in commands}

    def uv_label(args: list[str]) -> str:
        return "uv " + " ".join(args)

    steps: dict = {
        "python -c pass": lambda: timed([sys.executable, "-c", "pass"], envlock.root, env),
        f"python -c '{FLOOR}'": lambda: timed([sys.executable, "-c", FLOOR], envlock.root, env),
        "jupyter launcher alone (`jupyter benchnoop`, a no-op subcommand)": lambda: timed(
            [jupyter, "benchnoop"], envlock.root, stub_env
        ),
    }
    for words, (reference, closer) in commands.items():
        for args in filter(None, (reference, closer)):
            steps.setdefault(uv_label(args), lambda a=args: timed([world.uv, *a], uv.root, env))
        for form in forms:
            label = f"{FORM_LABELS[form]} {words}"
            steps[label] = lambda w=words, f=form: envlock.run(w, form=f)
        steps[f"_probe {words}"] = lambda w=words: (
            probes[w].add(probe_cli(modules[w], [w], envlock.root, env)) or 0.0
        )
    samples = interleaved(steps, ctx.runs, "no-op paths")
    for key, s in samples.items():
        s.label = f"`{key}`" if not key.startswith(("python -c", "jupyter launcher")) else key

    bare = samples["python -c pass"].median
    floor = samples[f"python -c '{FLOOR}'"]
    launcher = samples["jupyter launcher alone (`jupyter benchnoop`, a no-op subcommand)"]
    sections = []
    breakdown_rows = []
    for words, (reference, closer) in commands.items():
        ref = samples[uv_label(reference)]
        rows = [Row(ref, ref, "reference")]
        if closer:
            rows.append(Row(samples[uv_label(closer)], ref, "- (closest uv equivalent)"))
        probe = probes[words]
        tree = process_tree([console, words], envlock.root, env)
        parts = (
            f"Interpreter start {fmt(bare)}; the rest is the console script and "
            + ("its print of the version" if words == "--version" else "the replayed record")
            + f" ({replayed[words].summary(limit=3, cumulative=False)}). The full command, "
            f"run once after each change, takes imports {fmt(median(probe.imports))} "
            f"({imports[words].summary(limit=3, cumulative=False)}) and the work "
            f"{fmt(median(probe.work))} ({probe.describe_processes()})"
        )
        for form in forms:
            got = samples[f"{FORM_LABELS[form]} {words}"]
            if form == "console":
                ok = within(got, ref, TARGET)
                why = f"{parts}. `{uv_label(reference)}` is one native process."
                closes = (
                    f"the target is {fmt(TARGET * ref.median)}; the interpreter's start alone "
                    f"(`python -c pass`) is {fmt(bare)}, {bare / ref.median:.1f}× "
                    f"`{uv_label(reference)}`, and envlock's replay adds "
                    f"{fmt(max(got.median - bare, 0.0))} to it (the script's own imports, one "
                    "record read, a few stats). Only a native front end (as uv is one) would "
                    "start faster than CPython does."
                )
                least = floor_of([("interpreter start", bare)], ref, TARGET)
                rows.append(Row(got, ref, f"≤ {TARGET}× {uv_label(reference)}", ok, why, closes,
                                least))  # fmt: skip
            else:
                rows.append(Row(got, ref))
        breakdown_rows.append([
            f"`jupyter-envlock {words}`", fmt(samples[f"jupyter-envlock {words}"].median),
            fmt(bare), fmt(median(probe.imports)), fmt(median(probe.work)),
            probe.describe_processes(), tree or "(strace not available)",
        ])  # fmt: skip
        sections.append(Section(f"No-op: `{words}`", rows))

    notes = (
        [f"`{w}` imports: {t.summary()}." for w, t in imports.items()]
        + [
            f"The `jupyter` launcher before it execs: {fmt(launcher.median)} "
            f"(min–max {launcher.spread}) of its own; its imports: {launcher_imports.summary()}. "
            "It is jupyter_core's `jupyter` command (it finds `jupyter-envlock` on PATH and execs "
            "it): nothing of envlock's runs before the exec; `jupyter-envlock` itself skips it.",
            "Interpreter start is `python -c pass`. The rows above replay each command's recorded "
            "answer (core/answers.py: the same command line in the same folder and environment, "
            "every file it read unchanged); the breakdown's imports and work are the full command "
            "that records it (the first run, and the first after any change), from probe.py (the "
            "command's own modules imported first, timed, then `cli.main`). Import summaries come "
            "from `-X importtime` (which inflates them a little).",
        ]
        + [f"`{w}` replayed, its imports: {t.summary()}." for w, t in replayed.items()]
    )
    sections.append(
        Section(
            "No-op paths: where the time goes",
            [Row(samples["python -c pass"]), Row(floor), Row(launcher)],
            notes,
            [
                table(
                    [
                        "command",
                        "wall (replayed)",
                        "interpreter start",
                        "full command: imports",
                        "full command: work",
                        "processes in the work",
                        "programs run (strace)",
                    ],
                    breakdown_rows,
                    "lrrrrll",
                )
            ],  # fmt: skip
        )
    )
    return sections
