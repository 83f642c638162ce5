"""Samples of wall time, their formatting, and interleaved rounds.

Every measurement is a wall time as the user waits for it. Rounds are interleaved: in each round
every step takes its turn, so a slow moment on a shared machine hits every row alike; round 0 is a
warm-up and is not counted.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Samples:
    """Wall times of one row, in seconds."""

    label: str
    values: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    @property
    def spread(self) -> str:
        if not self.values:
            return "-"
        return f"{fmt(min(self.values))}–{fmt(max(self.values))}"


def fmt(seconds: float) -> str:
    """Seconds with the precision that matters at that size."""
    if seconds != seconds:  # NaN
        return "-"
    if seconds < 0.1:
        return f"{seconds * 1000:.1f} ms"
    if seconds < 10:
        return f"{seconds:.2f} s"
    return f"{seconds:.1f} s"


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def run(
    argv: Sequence[str], cwd: Path, env: Mapping[str, str], check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion (no stdin); fail with its output unless `check` is off."""
    proc = subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=dict(env), capture_output=True, text=True,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    if check and proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, argv))} failed ({proc.returncode}) in {cwd}:\n"
            f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return proc


def timed(argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> float:
    """The wall time of a command that must succeed."""
    start = time.perf_counter()
    run(argv, cwd, env)
    return time.perf_counter() - start


def timed_call(step: Callable[[], object]) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


Step = Callable[[], float | None]


def interleaved(
    steps: Mapping[str, Step], runs: int, what: str, warmup: bool = True
) -> dict[str, Samples]:
    """`runs` counted rounds of every step in turn (after one warm-up round). A step returns its
    own measured time, or None to be timed from the outside (set-up steps return 0 and are
    dropped: their key starts with "_")."""
    out = {key: Samples(key) for key in steps if not key.startswith("_")}
    for n in range(runs + (1 if warmup else 0)):
        for key, step in steps.items():
            start = time.perf_counter()
            value = step()
            elapsed = time.perf_counter() - start if value is None else value
            if key in out and (n or not warmup):
                out[key].values.append(elapsed)
        counted = n if warmup else n + 1
        log(f"  {what}: round {counted}/{runs}" + (" (warm-up)" if warmup and not n else ""))
    return out
