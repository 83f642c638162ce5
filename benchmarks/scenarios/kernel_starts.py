"""A project kernel's start with its env in sync, next to a plain ipykernel (issue 11, item 4).

From the start request to the first kernel_info reply, interleaved: envlock's own project kernel
next to `python -m ipykernel_launcher` from the same env; where the code measured has the uv and
Poetry managers (issue 10), a uv project's and a Poetry project's kernel next to a plain
ipykernel from the env uv or Poetry made. Where it has the trust store (issue 9), the trust check
a start pays (`operations.require_trust`) is timed on its own, in-process.
"""

from __future__ import annotations

import time
from pathlib import Path

from harness.context import Context, has_module
from harness.kernels import kernel_start
from harness.measure import Samples, fmt, interleaved, log
from harness.report import Row, Section, within
from harness.tools import PoetryProject, UvProject, trust

TARGET = 1.0
# A start varies by a third from one to the next (0.33-0.58 s) where envlock's share is a few ms:
# three times the rounds, so a ratio of medians says something about envlock.
ROUNDS_FACTOR = 3
BOOTSTRAP = "envlock's kernel command without the provisioner (bootstrap + %dep)"


def run(ctx: Context) -> list[Section]:
    log("kernel start to kernel_info reply, env in sync")
    world = ctx.world
    pairs = {"envlock": (ctx.envlock.root, ctx.envlock.env_python())}
    missing = []
    managed = (
        ("uv", UvProject, "uv", True),
        ("Poetry", PoetryProject, "poetry", bool(world.poetry) and ctx.wants("poetry")),
    )
    for kind, tool, module, usable in managed:
        if not (usable and has_module(f"jupyter_envlock.core.managers.{module}")):
            missing.append(f"{kind} (needs the {kind} manager, issue 10, and {kind} itself)")
            continue
        project = tool(world, ctx.root / f"bench-{module}-kernel", ctx.deps)
        project.setup()
        trust(world, project.root)
        pairs[kind] = (project.root, project.python)

    with ctx.kernel_environ():
        kernels = ctx.kernels()
        steps: dict = {}
        for kind, (root, python) in pairs.items():
            plain = kernels.plain_kernel(kernels.add_plain(f"bench-plain-{kind.lower()}", python))
            project = kernels.project_kernel(kernels.name_for(root))
            steps[f"plain ipykernel ({kind}'s env)"] = lambda f=plain: kernel_start(f)
            steps[f"{kind} project kernel, in sync"] = lambda f=project: kernel_start(f)
            if kind == "envlock":
                name = kernels.add_bootstrap("bench-bootstrap", python, root)
                bootstrap = kernels.plain_kernel(name)
                steps[BOOTSTRAP] = lambda f=bootstrap: kernel_start(f)
        samples = interleaved(steps, ctx.runs * ROUNDS_FACTOR, "kernel starts")
        trust_cost = trust_check(ctx)
        checks = {kind: sync_check(root) for kind, (root, _python) in pairs.items()}

    rows = []
    notes = []
    for kind in pairs:
        ref = samples[f"plain ipykernel ({kind}'s env)"]
        mine = samples[f"{kind} project kernel, in sync"]
        why = (
            f"{fmt(mine.median - ref.median)} more than the plain ipykernel: the provisioner's "
            f"sync check (in-process {fmt(checks[kind].median)}, in a worker thread) and the "
            "bootstrap that loads %dep"
        )
        if kind == "envlock":
            boot = samples[BOOTSTRAP]
            why += (
                f"; the same kernel command without the provisioner starts in {fmt(boot.median)}: "
                f"the bootstrap costs {fmt(boot.median - ref.median)}, the provisioner "
                f"{fmt(mine.median - boot.median)}"
            )
        closes = (
            f"the difference is {fmt(mine.median - ref.median)} on starts that vary by "
            f"{ref.spread} (the plain one's spread): envlock's own part is the checks above "
            "and the bootstrap's registration of %dep (its code loads at the first %dep), "
            "milliseconds."
        )
        rows += [Row(ref, ref, "reference"),
                 Row(mine, ref, f"≤ {TARGET}× plain", within(mine, ref, TARGET), why + ".",
                     closes)]  # fmt: skip
        if kind == "envlock":
            rows.append(Row(samples[BOOTSTRAP], ref))
        notes.append(
            f"{kind}: the sync check of a start, in-process (`operations.sync`, median of "
            f"{len(checks[kind].values)}): {fmt(checks[kind].median)}."
        )
    if trust_cost is not None:
        rows.append(Row(trust_cost))
        notes.append(
            f"The trust check, in-process (median of {len(trust_cost.values)} calls on a trusted "
            f"project): {fmt(trust_cost.median)}; it is inside every project kernel start above."
        )
    else:
        notes.append(
            "No trust check in the code measured (the trust store, issue 9, has not landed)."
        )
    if missing:
        notes.append("Not measured here: " + "; ".join(missing) + ".")
    return [Section("Kernel start to kernel_info reply (env in sync)", rows, notes)]


def sync_check(root: Path, calls: int = 50) -> Samples:
    """The provisioner's no-op sync check, in-process (what a start of an in-sync env runs)."""
    from jupyter_envlock.core import operations

    operations.sync(root)
    samples = Samples("sync check")
    for _ in range(calls):
        start = time.perf_counter()
        operations.sync(root)
        samples.values.append(time.perf_counter() - start)
    return samples


def trust_check(ctx: Context) -> Samples | None:
    """What the trust check costs a start, where the code has one."""
    from jupyter_envlock.core import operations

    if not hasattr(operations, "require_trust"):
        return None
    from jupyter_envlock.core.trust import TrustPolicy

    root = ctx.envlock.root
    operations.require_trust(root, TrustPolicy())
    samples = Samples("trust check of a trusted project (`operations.require_trust`, in-process)")
    for _ in range(200):
        start = time.perf_counter()
        operations.require_trust(root, TrustPolicy())
        samples.values.append(time.perf_counter() - start)
    return samples
