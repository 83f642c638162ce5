"""%dep and %pip in real project kernels, driven through the kernel protocol of a real server.

Read-only checks share the session's project kernel env; tests that change a project work on a
renamed copy (its own kernel name and env, one 1-2 s build from the local index).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import tomllib
from kernel_support import KernelWorld, copy_project, execute, open_kernel, value
from support.server_config import kernel_world_root_dir as jp_root_dir  # noqa: F401 -- a fixture

from jupyter_envlock.cli import render
from jupyter_envlock.kernel_side.envlock_kernel import imports, pip_guard


def dependencies(project: Path) -> list[str]:
    return tomllib.loads((project / "pyproject.toml").read_text())["project"]["dependencies"]


def locked(project: Path) -> dict[str, str]:
    lock = tomllib.loads((project / "pylock.toml").read_text())
    return {p["name"]: p["version"] for p in lock["packages"]}


def own_project(world: KernelWorld, serverapp: Any, name: str) -> tuple[Path, str]:
    """A renamed copy of the shared project, visible to the server at once."""
    project = copy_project(world.project, world.root / name, name=name)
    serverapp.kernel_spec_manager.refresh()
    return project, f"envlock-{name}"


# ------------------------------------------------------------------ unit: no kernel needed


def test_pip_warning_suggests_the_recording_command():
    warning = pip_guard.pip_warning("install -U --index-url http://x 'scikit-learn>=1.5' tinyd")
    assert "not recorded" in warning
    assert "%dep add 'scikit-learn>=1.5' tinyd" in warning
    assert "%dep remove tinyd" in pip_guard.pip_warning("uninstall -y tinyd")
    assert pip_guard.pip_warning("list") is None
    assert pip_guard.pip_warning("install -r requirements.txt").endswith("sync may remove it.")


def test_loaded_modules_names_changed_and_removed_imports():
    changes = [
        {"name": "json-thing", "kind": "removed", "old": "1", "new": None},
        {"name": "brand-new", "kind": "added", "old": None, "new": "1"},
        {"name": "Other.Pkg", "kind": "upgraded", "old": "1", "new": "2"},
    ]
    before = {"json-thing": {"json"}, "other-pkg": {"not_imported_module_xyz"}}
    stale = imports.stale_imports(changes, before, {})
    assert stale == [("json-thing", "removed", ["json"])]


def test_change_table_has_text_and_html():
    report = {
        "edits": [{"name": "tinyd", "kind": "added", "old": None, "new": "tinyd"}],
        "changes": [
            {"name": "tinyd", "old": None, "new": "1.1.0", "kind": "added"},
            {"name": "x<y", "old": "1", "new": "2", "kind": "upgraded"},
        ],
        "relocked": False,
        "env": {
            "noop": False,
            "installed": ["tinyd==1.1.0"],
            "removed": [],
            "python": "3.11.7",
            "path": "/env",
        },
    }
    shown = render.changes(report)  # type: ignore[arg-type]
    text, markup = shown.text, shown.html
    assert "pyproject.toml: + tinyd" in text
    assert "+ tinyd 1.1.0" in text
    assert markup is not None and "<table" in markup and "x&lt;y" in markup


# ------------------------------------------------------------------ in a kernel


@pytest.mark.slow
async def test_dep_add_records_and_imports_without_restart(jp_fetch, jp_serverapp, kernel_env):
    project, kernel_name = own_project(kernel_env, jp_serverapp, "magic-add")
    client = await open_kernel(jp_fetch, jp_serverapp, "magic-add/nb.ipynb", kernel_name)
    try:
        missing = await execute(client, "import tinyd")
        assert not missing.ok and missing.error["ename"] == "ModuleNotFoundError"
        run = await execute(client, "%dep add tinyd")
        assert run.ok, run.error or run.text
        assert "tinyd" in run.html and "1.1.0" in run.html
        assert "pyproject.toml: + tinyd" in run.text
        assert "tinyd>=1.1.0" in dependencies(project)
        assert locked(project)["tinyd"] == "1.1.0"
        assert await value(client, "__import__('tinyd').__name__") == "tinyd"
        listing = await execute(client, "%dep")
        assert listing.ok and "tinyd" in listing.text and "tinya" in listing.text
    finally:
        client.stop_channels()


@pytest.mark.slow
async def test_a_kernels_magic_acts_only_on_its_own_project(jp_fetch, jp_serverapp, kernel_env):
    """%dep has no way to name another project: neither an option nor an option-like spec."""
    project, kernel_name = own_project(kernel_env, jp_serverapp, "magic-own")
    other, _ = own_project(kernel_env, jp_serverapp, "magic-other")
    other_files = [(other / n).read_bytes() for n in ("pyproject.toml", "pylock.toml")]
    client = await open_kernel(jp_fetch, jp_serverapp, "magic-own/nb.ipynb", kernel_name)
    try:
        for attempt in (
            f"%dep add --project {other} tinyd",
            f"%dep add -- --project={other} tinyd",
            f"%dep add tinyd --project={other}",
        ):
            run = await execute(client, attempt)
            assert not run.ok, attempt  # one UsageError, and nothing changed
        assert "tinyd" not in dependencies(project)
        assert (await execute(client, "%dep add tinyd")).ok
        assert "tinyd>=1.1.0" in dependencies(project)
    finally:
        client.stop_channels()
    assert [(other / n).read_bytes() for n in ("pyproject.toml", "pylock.toml")] == other_files


@pytest.mark.slow
async def test_dep_remove_of_an_imported_package_says_restart(jp_fetch, jp_serverapp, kernel_env):
    project, kernel_name = own_project(kernel_env, jp_serverapp, "magic-remove")
    client = await open_kernel(jp_fetch, jp_serverapp, "magic-remove/nb.ipynb", kernel_name)
    try:
        assert (await execute(client, "import tinya")).ok
        run = await execute(client, "%dep remove tinya")
        assert run.ok, run.error or run.text
        assert "Restart the kernel" in run.stderr
        assert "tinya" in run.stderr
        assert "tinya" not in dependencies(project)
        assert "tinya" not in locked(project)
        gone = await execute(client, "import importlib.metadata as m; m.version('tinya')")
        assert gone.error["ename"] == "PackageNotFoundError"
    finally:
        client.stop_channels()


@pytest.mark.slow
async def test_two_kernels_adding_at_once_are_both_recorded(jp_fetch, jp_serverapp, kernel_env):
    project, kernel_name = own_project(kernel_env, jp_serverapp, "magic-race")
    first = await open_kernel(jp_fetch, jp_serverapp, "magic-race/a.ipynb", kernel_name)
    second = await open_kernel(jp_fetch, jp_serverapp, "magic-race/b.ipynb", kernel_name)
    try:
        runs = await asyncio.gather(
            execute(first, "%dep add tinyd"), execute(second, "%dep add mixed-case-name")
        )
        for run in runs:
            assert run.ok, run.error or run.text
        assert {"tinyd>=1.1.0", "mixed-case-name>=0.1.0"} <= set(dependencies(project))
        assert {"tinyd", "mixed-case-name"} <= set(locked(project))
        # each kernel sees both: the second sync installed what the first one added
        assert await value(first, "__import__('mixed_case_name').__name__") == "mixed_case_name"
        assert await value(second, "__import__('tinyd').__name__") == "tinyd"
    finally:
        first.stop_channels()
        second.stop_channels()


@pytest.mark.slow
async def test_read_only_commands_help_and_errors(jp_fetch, jp_serverapp, kernel_env):
    client = await open_kernel(
        jp_fetch, jp_serverapp, "shared-demo/r.ipynb", kernel_env.kernel_name
    )
    try:
        listing = await execute(client, "%dep list")
        assert listing.ok and "tinya" in listing.text and "<table" in listing.html
        status = await execute(client, "%dep status")
        assert status.ok and "in-sync" in status.text
        helped = await execute(client, "%dep --help")
        assert helped.ok and "%dep add SPEC" in helped.stdout
        bad = await execute(client, "%dep add 'not a valid spec ((('")
        assert not bad.ok
        assert bad.error["ename"] == "UsageError"
        assert "UsageError" in bad.stderr and "not a valid spec" in bad.stderr
        assert "Traceback" not in bad.text and "jupyter_envlock" not in bad.stderr
        unknown = await execute(client, "%dep frobnicate")
        assert not unknown.ok and unknown.error["ename"] == "UsageError"
        nothing = await execute(client, "%dep add tinyq-does-not-exist")
        assert not nothing.ok and "tinyq-does-not-exist" in nothing.stderr
        assert "Traceback" not in nothing.text
        assert "tinyq" not in (kernel_env.project / "pyproject.toml").read_text()
    finally:
        client.stop_channels()


@pytest.mark.slow
async def test_pip_install_works_but_warns(jp_fetch, jp_serverapp, kernel_env):
    project, kernel_name = own_project(kernel_env, jp_serverapp, "magic-pip")
    client = await open_kernel(jp_fetch, jp_serverapp, "magic-pip/nb.ipynb", kernel_name)
    try:
        run = await execute(
            client, f"%pip install --index-url {kernel_env.settings['UV_DEFAULT_INDEX']} tinyd"
        )
        assert run.ok, run.error or run.text
        assert "not recorded" in run.stderr
        assert "%dep add tinyd" in run.stderr
        assert await value(client, "__import__('tinyd').__name__") == "tinyd"
        assert "tinyd" not in dependencies(project)
    finally:
        client.stop_channels()
