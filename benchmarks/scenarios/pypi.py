"""Real stacks against the real registry (issue 11, item 5): by hand only, with `--pypi`.

A new user's data-science project on PyPI (pandas, numpy, matplotlib, polars, and ipykernel for
uv's side, as envlock adds it to every lock), with scikit-learn as the package a change adds and
removes. The same rows as the local scenarios, each tool on its own project of the same stack,
interleaved: a `lock` and a `sync` with nothing to change next to `uv lock` and `uv sync`,
`add`/`remove scikit-learn` (the console script and `%dep` in a kernel) next to `uv add`/`uv
remove`, and a rebuild into a new env with uv's cache warm next to `uv sync --frozen`. Every
cache is the run's (uv's lives in `--cache`, so only the first run downloads the stack).
"""

from __future__ import annotations

from harness.context import Context
from harness.report import Section

from . import changes, noop, rebuilds

STACK = ("pandas", "numpy", "matplotlib", "polars", "ipykernel")
PACKAGE = "scikit-learn"
# The no-op rows: envlock's words -> (uv's no-op, no closer equivalent).
NOOPS: dict[str, tuple[list[str], list[str] | None]] = {
    "lock": (["lock"], None),
    "sync": (["sync"], None),
}


def run(ctx: Context) -> list[Section]:
    sections = noop.run(ctx, NOOPS, forms=("console",))
    sections += changes.run(ctx)
    sections.append(rebuilds.rebuild(ctx, "warm"))
    for section in sections:
        section.title = f"PyPI, {' '.join(STACK[:-1])}: {section.title}"
    return sections
