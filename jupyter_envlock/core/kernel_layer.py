"""ipykernel for a kernel whose env belongs to another tool (a uv or Poetry project without it).

The project's manifest, lock and env stay exactly as the user's tool left them: ipykernel and
what it needs go into a *layer*, a small venv in envlock's cache that the kernel's bootstrap
appends to sys.path after the project's site-packages (the model is `uv run --with`, but the
project's versions always win here). The layer is resolved for the env's own Python with every
package the env has pinned as a constraint, so it holds only what the env lacks and never another
version of anything the lock chose; when no ipykernel fits those versions, the kernel start is
refused with uv's explanation. Nothing leaks to `!python` or `%pip`: only the kernel process adds
the layer. A project that lists ipykernel itself uses its own, and gets no layer.

Layers are keyed by the env's interpreter and installed distributions: an unchanged env finds
its layer with one listdir and a hash, so a kernel start pays nothing for it.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
from pathlib import Path

from packaging.utils import canonicalize_name

from .atomic import file_lock
from .environment import installed_distributions, python_in
from .errors import ResolutionError, UserError
from .progress import Progress, ProgressEvent, no_progress
from .project import cache_dir
from .runner import run_uv

LAYER_REQUIREMENTS = ("ipykernel",)
LAYER_FORMAT = 1
COMPLETE = ".envlock-layer.json"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


class KernelLayerConflict(UserError):
    """The project's locked versions leave no ipykernel that fits."""


def layers_dir() -> Path:
    return cache_dir() / "layers"


def _site_packages(root: Path) -> Path | None:
    for site in (*root.glob("lib/python*/site-packages"), root / "Lib" / "site-packages"):
        if site.is_dir():
            return site
    return None


def layer_key(env_dir: Path, installed: dict[str, str]) -> str:
    """What the layer depends on: the env's interpreter and exactly what it has installed."""
    try:
        cfg = (env_dir / "pyvenv.cfg").read_text(encoding="utf-8")
    except OSError:
        cfg = ""
    payload = json.dumps([LAYER_FORMAT, cfg, sorted(installed.items()), LAYER_REQUIREMENTS])
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def prepare(env_dir: Path, progress: Progress = no_progress) -> Path | None:
    """The site-packages folder the kernel must append to sys.path, or None when the env has
    its own ipykernel. Built the first time (a constrained resolve and an install from uv's
    cache), then found in microseconds."""
    installed = installed_distributions(env_dir)
    if "ipykernel" in installed:
        return None
    key = layer_key(env_dir, installed)
    layer = layers_dir() / key
    site = _site_packages(layer)
    if site is not None and (layer / COMPLETE).is_file():
        return site
    layer.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(layer.parent / f"{key}.lock"):
        site = _site_packages(layer)
        if site is None or not (layer / COMPLETE).is_file():
            progress(ProgressEvent("install", "Preparing ipykernel for this env (a kernel layer)"))
            _build(env_dir, installed, layer)
            site = _site_packages(layer)
    assert site is not None
    return site


def _build(env_dir: Path, installed: dict[str, str], layer: Path) -> None:
    python = python_in(env_dir)
    work = layer.parent
    with tempfile.TemporaryDirectory(dir=work, prefix=".build-") as tmp:
        folder = Path(tmp)
        constraints = folder / "constraints.txt"
        constraints.write_text("".join(f"{n}=={v}\n" for n, v in sorted(installed.items())))
        wanted = folder / "kernel.in"
        wanted.write_text("\n".join(LAYER_REQUIREMENTS) + "\n")
        # envlock's own index settings and no project configuration: a neutral working
        # directory and --no-config (the project's sources mean nothing to ipykernel).
        try:
            result = run_uv(
                ["pip", "compile", "--no-config", "--quiet", "--no-header", "--no-annotate",
                 f"--python={python}", f"--constraints={constraints}", str(wanted)],
                cwd=folder,
            )  # fmt: skip
        except ResolutionError as e:
            raise KernelLayerConflict(
                f"The kernel needs ipykernel, and none fits the versions installed in "
                f"{env_dir} (the project's lock chose them; envlock does not change them). "
                "Add ipykernel to the project yourself, e.g. `uv add --dev ipykernel` or "
                "`poetry add --group dev ipykernel` (a project that lists ipykernel uses its "
                "own), or relax the pin uv names below.",
                e.details,
            ) from e
        pins = [m for m in map(_PIN.match, result.stdout.splitlines()) if m]
        missing = [f"{m[1]}=={m[2]}" for m in pins if canonicalize_name(m[1]) not in installed]
        requirements = folder / "layer.txt"
        requirements.write_text("".join(f"{p}\n" for p in missing))
        part = folder / "layer"
        run_uv(
            ["venv", "--no-config", "--quiet", f"--python={python}", str(part)],
            cwd=folder,
        )
        run_uv(
            ["pip", "sync", "--no-config", "--quiet", f"--python={python_in(part)}",
             str(requirements)],
            cwd=folder,
        )  # fmt: skip
        record = {"env": str(env_dir), "requirements": list(LAYER_REQUIREMENTS), "pins": missing}
        (part / COMPLETE).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        if layer.exists():
            shutil.rmtree(layer)  # an incomplete one (no record): envlock's own folder
        part.replace(layer)
