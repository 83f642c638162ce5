"""Where a command's time goes, measured in the same run as the command itself.

- Imports: `python -X importtime` of the command; the modules a bare `python -c pass` does not
  import are the command's own, their self times summed per top-level package (the offenders)
  and their cumulative times per envlock module.
- Interpreter start, imports and the work: `python -c pass` for the start, then probe.py,
  which imports exactly the command's modules (timed) before it runs the command (timed apart),
  recording every process the work starts.
- Processes per command: `strace -f -e trace=execve` of the real command line (when strace is
  there), so execs and uv's own children count too.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .measure import fmt, median, run

PROBE = Path(__file__).resolve().parent / "probe.py"
_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")


@dataclass
class ImportTimes:
    """One `-X importtime` run: (module, self µs, cumulative µs, depth) in completion order."""

    entries: list[tuple[str, int, int, int]]

    @classmethod
    def parse(cls, stderr: str) -> ImportTimes:
        entries = []
        for line in stderr.splitlines():
            m = _LINE.match(line)
            if m:
                depth = (len(m.group(3)) - 1) // 2
                entries.append((m.group(4), int(m.group(1)), int(m.group(2)), depth))
        return cls(entries)

    def names(self) -> list[str]:
        return [name for name, *_ in self.entries]

    def own(self, baseline: ImportTimes) -> ImportTimes:
        """The modules a bare interpreter does not import."""
        base = set(baseline.names())
        return ImportTimes([e for e in self.entries if e[0] not in base])

    @property
    def total(self) -> float:
        """Seconds: the sum of the top-level imports' cumulative times."""
        return sum(cum for _, _, cum, depth in self.entries if depth == 0) / 1e6

    def importers(self) -> list[str | None]:
        """For each entry, the nearest envlock module above it in the import tree (who pulled
        it in), or None for an import made by the script itself."""
        parents: list[int | None] = [None] * len(self.entries)
        last_at: dict[int, int] = {}
        for i in range(len(self.entries) - 1, -1, -1):  # completion order: parents come last
            depth = self.entries[i][3]
            parents[i] = last_at.get(depth - 1)
            last_at[depth] = i
        out: list[str | None] = []
        for i in range(len(self.entries)):
            j = parents[i]
            while j is not None and not self.entries[j][0].startswith("jupyter_envlock"):
                j = parents[j]
            out.append(self.entries[j][0] if j is not None else None)
        return out

    def by_package(self, limit: int = 6) -> list[tuple[str, float, str | None]]:
        """Self time per top-level package (envlock's modules one by one: they are the code to
        change), heaviest first, each with the envlock module that first imported it."""
        sums: dict[str, int] = defaultdict(int)
        first: dict[str, tuple[int, str | None]] = {}
        for (name, own, _, depth), importer in zip(self.entries, self.importers(), strict=True):
            key = name if name.startswith("jupyter_envlock") else name.split(".")[0]
            sums[key] += own
            if key not in first or depth < first[key][0]:
                first[key] = (depth, importer)
        top = sorted(sums.items(), key=lambda kv: -kv[1])[:limit]
        return [(name, us / 1e6, first[name][1]) for name, us in top]

    def heaviest_envlock(self, limit: int = 4) -> list[tuple[str, float]]:
        """envlock modules by cumulative time (what importing each one pulls in)."""
        rows = [(n, cum / 1e6) for n, _, cum, _ in self.entries if n.startswith("jupyter_envlock.")]
        return sorted(rows, key=lambda r: -r[1])[:limit]

    def summary(self, limit: int = 6, cumulative: bool = True) -> str:
        def short(name: str | None) -> str:
            return (name or "").removeprefix("jupyter_envlock.")

        packages = ", ".join(
            f"{short(n)} {fmt(s)}"
            + (f" (via {short(by)})" if by and not n.startswith("jupyter_envlock") else "")
            for n, s, by in self.by_package(limit)
        )
        text = f"{len(self.entries)} modules, {fmt(self.total)}; most self time: {packages}"
        heavy = ", ".join(f"{short(n)} {fmt(s)}" for n, s in self.heaviest_envlock())
        return text + (f"; cumulative: {heavy}" if heavy and cumulative else "")


def import_times(argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> ImportTimes:
    """`python -X importtime ARGV` (ARGV: a script or -m/-c and its arguments)."""
    proc = run([sys.executable, "-X", "importtime", *argv], cwd, env)
    return ImportTimes.parse(proc.stderr)


def bare_imports(cwd: Path, env: Mapping[str, str]) -> ImportTimes:
    return import_times(["-c", "pass"], cwd, env)


@dataclass
class Probe:
    """Imports and work of one command, from probe.py, over rounds."""

    imports: list[float] = field(default_factory=list)
    work: list[float] = field(default_factory=list)
    processes: list[list[dict]] = field(default_factory=list)

    def add(self, result: Mapping[str, object]) -> None:
        self.imports.append(float(result["imports"]))  # type: ignore[arg-type]
        self.work.append(float(result["work"]))  # type: ignore[arg-type]
        self.processes.append(list(result["processes"]))  # type: ignore[call-overload]

    def process_medians(self) -> list[tuple[str, float]]:
        return process_medians(self.processes)

    def describe_processes(self) -> str:
        return describe_processes(self.process_medians(), self.processes)

    def summary(self) -> str:
        """The work, the processes it waited for, and envlock's own Python."""
        return (f"work {fmt(median(self.work))}: {self.describe_processes()}, envlock's own "
                f"Python {fmt(self.python)}")  # fmt: skip

    @property
    def python(self) -> float:
        """The work's time outside the processes it waited for: envlock's own Python."""
        return median([w - sum(float(p["seconds"]) for p in procs)  # type: ignore[arg-type]
                       for w, procs in zip(self.work, self.processes, strict=True)])  # fmt: skip


def process_medians(rounds: Sequence[Sequence[Mapping[str, object]]]) -> list[tuple[str, float]]:
    """The processes of one piece of work (the same in every round), each with its median."""
    if not rounds:
        return []
    out = []
    for i, proc in enumerate(rounds[0]):
        same = [r[i]["seconds"] for r in rounds if len(r) > i and r[i]["label"] == proc["label"]]
        out.append((str(proc["label"]), median([float(s) for s in same])))  # type: ignore[arg-type]
    return out


def one_after_another(processes: Sequence[Mapping[str, object]]) -> bool:
    """Whether each process started after the one before had ended (none overlapped)."""
    ends = [float(p["start"]) + float(p["seconds"]) for p in processes]  # type: ignore[arg-type]
    starts = [float(p["start"]) for p in processes]  # type: ignore[arg-type]
    return all(start >= end for start, end in zip(starts[1:], ends, strict=False))


def describe_processes(
    processes: Sequence[tuple[str, float]], rounds: Sequence[Sequence[Mapping[str, object]]] = ()
) -> str:
    if not processes:
        return "no process"
    shown = ", ".join(f"`{label}` {fmt(seconds)}" for label, seconds in processes)
    text = f"{len(processes)} process{'es' if len(processes) > 1 else ''} ({shown})"
    if len(processes) > 1 and rounds:
        text += ", one after the other" if one_after_another(rounds[0]) else ", overlapping"
    return text


class ProbeFiles:
    """The module lists probe.py imports, one file per command."""

    def __init__(self, work: Path) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="probe-", dir=work))
        self.count = 0

    def write(self, times: ImportTimes) -> Path:
        self.count += 1
        path = self.dir / f"modules-{self.count}.txt"
        skip = ("__main__", "jupyter_envlock.__main__")
        path.write_text("\n".join(n for n in times.names() if n not in skip) + "\n")
        return path


def probe_cli(
    modules: Path, args: Sequence[str], cwd: Path, env: Mapping[str, str]
) -> dict[str, object]:
    proc = run([sys.executable, str(PROBE), "cli", str(modules), "--", *args], cwd, env)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def profile_worker(
    project: Path, lines: Sequence[str], env: Mapping[str, str]
) -> list[dict[str, object]]:
    """The warm worker's Python functions that start no process, for these %dep lines."""
    argv = [sys.executable, str(PROBE), "worker", str(project), "--", *lines]
    proc = run(argv, project, env)
    return json.loads(proc.stdout.strip().splitlines()[-1])["profile"]


def kernel_worker_cell(log: Path) -> str:
    """A cell that makes the kernel's %dep worker probe.py's timing one (kernel-worker mode):
    run before the kernel's first %dep, the rows' own requests are then timed in the worker."""
    return (
        "import json as _json, os as _os\n"
        "from envlock_kernel import transport as _transport\n"
        "_transport.WORKER_OVERRIDE = [_json.loads(_os.environ[_transport.ENV_SERVER_COMMAND])[0], "
        f"{str(PROBE)!r}, 'kernel-worker', {str(log)!r}]\n"
        "del _json, _os, _transport"
    )


def kernel_worker_probes(log: Path, lines: Sequence[str]) -> dict[str, Probe]:
    """What the kernel's worker logged for each %dep line, its first request (the warm-up
    round's) left out as the rows leave it out."""
    probes = {line: Probe() for line in lines}
    seen: set[str] = set()
    for text in log.read_text(encoding="utf-8").splitlines():
        entry = json.loads(text)
        line = entry["line"]
        if line not in probes:
            continue
        if line in seen:
            probes[line].add({"imports": 0.0, "work": entry["seconds"],
                              "processes": entry["processes"]})  # fmt: skip
        seen.add(line)
    return probes


def describe_profile(rows: Sequence[Mapping[str, object]], limit: int = 6) -> str:
    shown = [
        f"`{r['function']}` ×{r['calls']} {fmt(float(r['seconds']))}"  # type: ignore[arg-type]
        for r in rows[:limit]
    ]
    return ", ".join(shown) or "nothing over 1 ms"


_EXEC = re.compile(r'^(?:\[pid\s+)?(\d+)?\]? *(\d+\.\d+) execve\("([^"]+)", \[(.*?)\]')


def process_tree(argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> str | None:
    """Every program a command line runs (each exec, uv's children included), from strace; None
    when strace is missing or not allowed here."""
    strace = shutil.which("strace")
    if strace is None:
        return None
    with tempfile.NamedTemporaryFile("r", suffix=".strace") as out:
        trace = [strace, "-f", "-q", "--seccomp-bpf", "-ttt", "-e", "trace=execve",
                 "-e", "signal=none", "-o", out.name]  # fmt: skip
        proc = subprocess.run([*trace, *argv], cwd=cwd, env=dict(env), capture_output=True,
                              text=True, stdin=subprocess.DEVNULL)  # fmt: skip
        if proc.returncode != 0:
            return None
        lines = Path(out.name).read_text().splitlines()
    seen: set[str] = set()
    programs: list[str] = []
    for line in lines:
        m = _EXEC.match(line)
        if not m or not line.rstrip().endswith("= 0"):
            continue  # a failed exec: execvp trying PATH entries
        pid = m.group(1) or "first"
        words = [w.strip('"') for w in m.group(4).split(", ")]
        sub = [w for w in words[1:3] if w.replace("-", "").isalpha() and not w.startswith("-")]
        shown = " ".join([Path(m.group(3)).name, *sub])
        programs.append(shown + (" (exec)" if pid in seen else ""))
        seen.add(pid)
    if not programs:
        return None
    return f"{len(programs)} program{'s' if len(programs) > 1 else ''}: " + " → ".join(programs)
