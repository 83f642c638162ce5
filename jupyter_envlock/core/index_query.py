"""What the project's indexes offer, asked through uv so that its index configuration (the
project's `[[tool.uv.index]]`, the machine's) and credentials apply. Nothing is written.

uv runs in envlock's own folder with the project's indexes passed explicitly (core/runner.py), and
with a base interpreter, never the env's own: the repository's uv settings and a committed
`.venv/bin/python` have no say in a question about versions.

Each question is one `uv pip compile --no-deps` for this machine's Python: the newest version
uv would pick for each requirement on its own, without what the others constrain.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .runner import run_uv

_PINNED = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)")


def newest_versions(
    project_indexes: Sequence[Mapping[str, Any]],
    requirements: Sequence[str],
    python: Path,
    python_version: str,
    work_dir: Path,
    exclude_newer: str | None = None,
    only_binary: bool = False,
    indexes: Sequence[tuple[str, bool]] = (),
) -> dict[str, str]:
    """name -> the newest version each requirement allows on the index, for this machine.
    `indexes` names the ones to ask as (url, replaces the default index): another tool's
    sources (Poetry's), which uv would not read from the project.

    Raises uv's classified errors: a network failure is never retried from the cache here (an
    answer from yesterday's cache would be taken for today's)."""
    if not requirements:
        return {}
    work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work_dir, prefix="query-") as tmp:
        req_in = Path(tmp) / "requirements.in"
        req_in.write_text("\n".join(requirements) + "\n", encoding="utf-8")
        out = Path(tmp) / "requirements.txt"
        args = [
            "pip",
            "compile",
            str(req_in),
            "--no-deps",
            f"--python={python}",
            f"--python-version={python_version}",
            f"--output-file={out}",
            "--no-header",
            "--no-annotate",
            "--quiet",
        ]
        names = sorted({canonicalize_name(Requirement(r).name) for r in requirements})
        args += [f"--refresh-package={n}" for n in names]  # revalidate those pages now
        if exclude_newer:
            args.append(f"--exclude-newer={exclude_newer}")
        if only_binary:
            args.append("--only-binary=:all:")
        for url, default in indexes:
            args.append(f"--default-index={url}" if default else f"--index={url}")
        run_uv(args, project_indexes=project_indexes, offline_fallback=False)
        text = out.read_text(encoding="utf-8")
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = _PINNED.match(line.strip())
        if match:
            found[canonicalize_name(match.group(1))] = match.group(2)
    return found
