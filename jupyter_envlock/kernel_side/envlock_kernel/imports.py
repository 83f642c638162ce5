"""What this kernel has imported, so a change can say which modules went stale, and new `.pth`
files (editable installs, namespace packages) taking effect without a restart."""

from __future__ import annotations

import importlib.metadata
import os
import re
import site
import sys
import sysconfig

Modules = dict[str, set[str]]  # normalized distribution name -> its top-level modules


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def top_level_modules() -> Modules:
    """From the env's metadata; taken before a change too, since a removed distribution loses
    its metadata."""
    mapping: Modules = {}
    try:
        for module, dists in importlib.metadata.packages_distributions().items():
            for dist in dists:
                mapping.setdefault(normalize(dist), set()).add(module)
    except Exception:
        pass
    return mapping


def stale_imports(
    changes: list[dict], before: Modules, after: Modules
) -> list[tuple[str, str, list[str]]]:
    """Changed or removed distributions whose modules are already imported here:
    [(dist name, kind, [modules])]."""
    stale = []
    for change in changes:
        if change.get("kind") == "added":
            continue
        name = normalize(change["name"])
        modules = set(before.get(name, ())) | set(after.get(name, ()))
        if not modules:
            modules = {name.replace("-", "_")}
        imported = sorted(m for m in modules if m in sys.modules)
        if imported:
            stale.append((change["name"], change.get("kind", "changed"), imported))
    return stale


def site_packages() -> str | None:
    try:
        return sysconfig.get_paths()["purelib"]
    except Exception:
        return None


def pth_files(site_dir: str | None) -> set[str]:
    try:
        return {n for n in os.listdir(site_dir) if n.endswith(".pth")} if site_dir else set()
    except OSError:
        return set()


def activate_new_pth(site_dir: str | None, before: set[str]) -> None:
    if site_dir is None:
        return
    for name in sorted(pth_files(site_dir) - before):
        try:
            site.addpackage(site_dir, name, set(sys.path))
        except Exception:
            pass
