"""The generated results.md: the machine and commit, one table per scenario (median, min–max,
ratio against the table's reference row, target and verdict), the breakdowns measured in the same
run, and "where the time goes" for every target missed."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import REPO
from .measure import Samples, fmt
from .world import World

# The label suffix of uv's row measured again in the rounds of Poetry and pip (no target, for
# scale): theirs take seconds of one busy core, so they run in rounds of their own.
AGAIN = ", in the rounds of Poetry and pip"


def command_label(key: str) -> str:
    """A step's key as its row's label: the command in backticks, the AGAIN suffix outside."""
    command = key.removesuffix(AGAIN)
    return f"`{command}`" + key[len(command) :]


@dataclass(frozen=True)
class Floor:
    """The least a row's command can take while envlock stays what it is, a CPython program
    driving uv's pip interface: the parts it cannot do without (an interpreter's start, each uv
    process), measured in the same run. A target below its floor is not met by any work inside
    envlock; only a change of architecture (a native front end, one uv process where there are
    two) would meet it."""

    parts: tuple[tuple[str, float], ...]
    limit: float  # the target in seconds: factor × the reference's median

    @property
    def seconds(self) -> float:
        return sum(seconds for _, seconds in self.parts)

    @property
    def above_target(self) -> bool:
        return self.seconds > self.limit

    def describe(self, measured: float, reference: Samples | None) -> str:
        shown = " + ".join(f"{name} {fmt(seconds)}" for name, seconds in self.parts)
        times = f" ({self.seconds / reference.median:.2f}× {reference.label})" if reference else ""
        text = f"{shown} = {fmt(self.seconds)}{times}"
        if self.above_target:
            return (
                f"{text}, above the target's {fmt(self.limit)}: no CPython front end over uv's "
                "pip interface meets it."
            )
        return (
            f"{text}, under the target's {fmt(self.limit)}: the command's "
            f"{fmt(measured - self.seconds)} above its floor is envlock's own to cut."
        )


def floor_of(parts: Sequence[tuple[str, float]], reference: Samples, factor: float) -> Floor:
    return Floor(tuple(parts), factor * reference.median)


@dataclass
class Row:
    samples: Samples
    reference: Samples | None = None
    target: str = ""
    ok: bool | None = None  # None: no target
    why: str = ""  # where the time goes, for a missed target (measured in the same run)
    closes: str = ""  # what would close a missed target
    floor: Floor | None = None  # the least the command can take (see Floor)

    @property
    def verdict(self) -> str:
        if self.ok is None:
            return ""
        if self.ok:
            return "met"
        return (
            "**missed**, floor above it" if self.floor and self.floor.above_target else "**missed**"
        )

    @property
    def floor_ratio(self) -> str:
        return ratio_of(self.floor.seconds, self.reference) if self.floor else "-"


@dataclass
class Section:
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tables: list[list[str]] = field(default_factory=list)  # extra markdown tables (breakdowns)


def ratio(a: Samples, b: Samples | None) -> str:
    if not a.values:
        return "-"
    return ratio_of(a.median, b)


def ratio_of(seconds: float, b: Samples | None) -> str:
    if b is None or not b.values:
        return "-"
    return f"{seconds / b.median:.2f}×"


def within(row: Samples, reference: Samples, factor: float) -> bool:
    return row.median <= factor * reference.median


def table(header: list[str], rows: list[list[str]], align: str = "") -> list[str]:
    """A markdown table; `align` has one of l/r per column (default: first left, rest right)."""
    align = align or "l" + "r" * (len(header) - 1)
    marks = ["---" if a == "l" else "---:" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(marks) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def render_section(section: Section) -> list[str]:
    lines = [f"## {section.title}", ""]
    if section.rows:
        rows = [
            [r.samples.label, fmt(r.samples.median), r.samples.spread,
             ratio(r.samples, r.reference), r.target, r.verdict]
            for r in section.rows
        ]  # fmt: skip
        lines += table(["command", "median", "min–max", "vs reference", "target", ""], rows,
                       "lrrrll")  # fmt: skip
        lines.append("")
    for extra in section.tables:
        lines += [*extra, ""]
    lines += [f"- {n}" for n in section.notes]
    if section.notes:
        lines.append("")
    return lines


def render(sections: list[Section], machine: dict[str, str], command: str, started: str) -> str:
    lines = [
        "# Benchmarks: jupyter-envlock next to uv (issue 11)",
        "",
        f"Generated by `{command}` on {started}. Medians of the counted rounds after one warm-up "
        "round, spread as min–max, ratios of medians against each table's reference row. Rounds "
        "are interleaved: every row of a table takes its turn in each round. Everything installs "
        "from one local index of real wheels on 127.0.0.1 unless the section says PyPI (see "
        "benchmarks/README.md for the method).",
        "",
        "## Machine",
        "",
        *[f"- {k}: {v}" for k, v in machine.items()],
        "",
        *summary(sections),
    ]
    for section in sections:
        lines += render_section(section)
    missed = [(s, r) for s in sections for r in s.rows if r.ok is False]
    lines += ["## Where the time goes (every target missed in this run)", ""]
    if not missed:
        lines += ["Every target was met.", ""]
    for section, row in missed:
        reference = f" vs {row.reference.label}" if row.reference else ""
        lines.append(
            f"- **{row.samples.label}** ({section.title}): {fmt(row.samples.median)}"
            f"{reference} {ratio(row.samples, row.reference)}, target {row.target}. "
            + (row.why or "No breakdown for this row.")
            + (f" **What would close it:** {row.closes}" if row.closes else "")
            + (
                f" **Floor:** {row.floor.describe(row.samples.median, row.reference)}"
                if row.floor
                else ""
            )
        )
    lines.append("")
    return "\n".join(lines)


def summary(sections: list[Section]) -> list[str]:
    """Every row with a target, in one table: what the sections below measure and explain."""
    targeted = [(s, r) for s in sections for r in s.rows if r.ok is not None]
    if not targeted:
        return []
    rows = [
        [section.title, r.samples.label, fmt(r.samples.median), ratio(r.samples, r.reference),
         r.floor_ratio, r.target, r.verdict]
        for section, r in targeted
    ]  # fmt: skip
    met = sum(1 for _, r in targeted if r.ok)
    missed = [r for _, r in targeted if r.ok is False]
    floored = sum(1 for r in missed if r.floor and r.floor.above_target)
    head = [
        "## Targets",
        "",
        f"{met} of {len(rows)} met in this run. Of the {len(missed)} missed, {floored} "
        "have their floor above the target: the least the command can take while envlock is a "
        "CPython program driving uv's pip interface (the parts it cannot do without: an "
        "interpreter's start, each uv process, a plain kernel's start; measured in the same run, "
        "the floor column gives it as a ratio to the reference) already misses it. Their "
        "distance to the target is the architecture's, not code inside envlock to speed up.",
        "",
    ]
    return head + table(["scenario", "command", "median", "vs reference", "floor", "target", ""],
                        rows, "llrrrll") + [""]  # fmt: skip


def _git(*args: str) -> str:
    out = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
    return out.stdout.strip()


def code_description() -> str:
    """The commit measured; a merge of other branches (measuring code before it lands) and
    uncommitted changes in jupyter_envlock/ are said."""
    commit = _git("rev-parse", "--short", "HEAD") or "unknown"
    branch = _git("rev-parse", "--abbrev-ref", "HEAD")
    text = f"{commit} ({branch})" if branch and branch != "HEAD" else commit
    parents = _git("rev-list", "--parents", "-n", "1", "HEAD").split()[1:]
    if len(parents) > 1:
        names = [_git("name-rev", "--name-only", p) or p[:7] for p in parents]
        text += ", a merge of " + " and ".join(
            f"{n} ({p[:7]})" for n, p in zip(names, parents, strict=True)
        )
    if _git("status", "--porcelain", "--untracked-files=no", "--", "jupyter_envlock"):
        text += " + uncommitted changes in jupyter_envlock/"
    return text


def machine_description(worlds: list[World], load_at_start: str, seconds: float) -> dict[str, str]:
    world = worlds[0]
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

    def version(argv: list[str]) -> str:
        try:
            out = subprocess.run(argv, capture_output=True, text=True, env=world.env())
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "not available"

    import jupyter_client
    import jupyter_server

    from jupyter_envlock import __version__

    return {
        "CPU": f"{cpu}, {os.cpu_count()} logical cores",
        "load average (1/5/15 min) at the start / end": f"{load_at_start} / {load_average()}",
        "memory": memory,
        "OS": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "Python": f"{platform.python_version()} ({sys.executable})",
        "jupyter-envlock": f"{__version__} at {code_description()}",
        "uv": version([world.uv, "--version"]),
        "Poetry": version([str(world.poetry), "--version"]) if world.poetry else "not used",
        "strace (the programs each no-op runs)": shutil.which("strace") or "not installed",
        "jupyter_client / jupyter_server": f"{jupyter_client.__version__} / {jupyter_server.__version__}",
        "index": "; ".join(
            "PyPI (the sections titled PyPI)"
            if w.pypi
            else "tests/support/index.py IndexServer on 127.0.0.1 (PEP 658 metadata)"
            for w in worlds
        ),  # fmt: skip
        "run took": fmt(seconds),
    }


def load_average() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())
