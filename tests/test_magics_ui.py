"""Issue 12 in real project kernels: the missing-import hint, %dep outdated / upgrade, locking as
of a date, progress in place, and the project named in every answer.

Each test works on a renamed copy of the session's shared project (its own kernel and env) and
publishes package names of its own on the session's local index.
"""

from __future__ import annotations

from typing import Any

import pytest
from kernel_support import execute, open_kernel, value
from support.index import publish_wheels
from support.server_config import kernel_world_root_dir as jp_root_dir  # noqa: F401 -- a fixture
from support.wheels import build_wheel
from test_magics import dependencies, locked, own_project

from jupyter_envlock.kernel_side.envlock_kernel.missing import MIME

pytestmark = pytest.mark.slow

MAY, JULY = "2026-05-01T00:00:00Z", "2026-07-01T00:00:00Z"


def hints(run: Any) -> list[dict[str, Any]]:
    return [d[MIME] for d in run.data if MIME in d]


async def test_a_missing_import_gets_the_add_line_and_nothing_is_installed(
    jp_fetch, jp_serverapp, kernel_env, local_index
):
    # A distribution whose module is named otherwise, as scikit-learn's is sklearn.
    wheel = build_wheel(
        local_index.wheel_dir, "scikit-learn", "1.5.0", extra_files={"sklearn/__init__.py": ""}
    )
    publish_wheels(local_index.root, [wheel])
    project, kernel_name = own_project(kernel_env, jp_serverapp, "hint-add")
    client = await open_kernel(jp_fetch, jp_serverapp, "hint-add/nb.ipynb", kernel_name)
    try:
        failed = await execute(client, "import sklearn")
        assert failed.error["ename"] == "ModuleNotFoundError"
        assert hints(failed) == [
            {
                "module": "sklearn",
                "distribution": "scikit-learn",
                "action": "add",
                "command": "%dep add scikit-learn",
                "project": ".",
                "kernel_name": kernel_name,
            }
        ]
        assert "scikit-learn provides sklearn: %dep add scikit-learn" in failed.text
        assert "scikit-learn" not in dependencies(project)  # nothing without the click

        same_name = await execute(client, "from tinyd import thing")
        assert [h["command"] for h in hints(same_name)] == ["%dep add tinyd"]
        assert "tinyd is on the project's package index: %dep add tinyd" in same_name.text
        unknown = await execute(client, "import tinyq_nowhere_to_be_found")
        assert unknown.error["ename"] == "ModuleNotFoundError" and hints(unknown) == []
        wrong_name = await execute(client, "from tinya import no_such_name")
        assert wrong_name.error["ename"] == "ImportError" and hints(wrong_name) == []

        added = await execute(client, "%dep add scikit-learn")  # what the button runs
        assert added.ok, added.text
        assert await value(client, "__import__('sklearn').__name__") == "sklearn"
        assert dependencies(project)[-1] == "scikit-learn>=1.5.0"
    finally:
        client.stop_channels()


async def test_a_locked_but_uninstalled_module_says_sync(jp_fetch, jp_serverapp, kernel_env):
    project, kernel_name = own_project(kernel_env, jp_serverapp, "hint-sync")
    client = await open_kernel(jp_fetch, jp_serverapp, "hint-sync/nb.ipynb", kernel_name)
    try:
        gone = await execute(client, "%pip uninstall -y tinya")
        assert gone.ok, gone.text
        failed = await execute(client, "import tinya")
        assert [(h["action"], h["command"]) for h in hints(failed)] == [("sync", "%dep sync")]
        assert "tinya (which provides tinya) is locked but not installed" in failed.text
        synced = await execute(client, "%dep sync")
        assert synced.ok, synced.text
        assert await value(client, "__import__('tinya').__version__") == "2.0.0"
    finally:
        client.stop_channels()


async def test_outdated_and_upgrade_in_the_notebook(
    jp_fetch, jp_serverapp, kernel_env, local_index
):
    local_index.add_wheel("tinykout", "1.0.0")
    project, kernel_name = own_project(kernel_env, jp_serverapp, "nb-outdated")
    client = await open_kernel(jp_fetch, jp_serverapp, "nb-outdated/nb.ipynb", kernel_name)
    try:
        assert (await execute(client, "%dep add tinykout")).ok
        assert (await execute(client, "import tinykout")).ok
        local_index.add_wheel("tinykout", "1.1.0")  # published while the notebook is open

        listed = await execute(client, "%dep outdated")
        assert listed.ok, listed.text
        assert "tinykout" in listed.text and "1.1.0" in listed.text and "<table" in listed.html

        upgraded = await execute(client, "%dep upgrade tinykout")
        assert upgraded.ok, upgraded.text
        assert locked(project)["tinykout"] == "1.1.0"
        assert "tinykout 1.0.0 -> 1.1.0" in upgraded.text
        assert "Restart the kernel" in upgraded.stderr and "tinykout" in upgraded.stderr
        assert locked(project)["tinya"] == "2.0.0"  # only the named package moved
        again = await execute(client, "%dep outdated")
        assert "Every direct dependency is at the newest version" in again.text
    finally:
        client.stop_channels()


async def test_lock_as_of_a_date_in_the_notebook(jp_fetch, jp_serverapp, kernel_env, local_index):
    local_index.add_wheel("tinykasof", "1.0.0", upload_time=MAY)
    local_index.add_wheel("tinykasof", "2.0.0", upload_time=JULY)
    project, kernel_name = own_project(kernel_env, jp_serverapp, "nb-asof")
    client = await open_kernel(jp_fetch, jp_serverapp, "nb-asof/nb.ipynb", kernel_name)
    try:
        assert (await execute(client, "%dep add 'tinykasof>=1'")).ok
        assert locked(project)["tinykasof"] == "2.0.0"

        run = await execute(client, "%dep lock --exclude-newer 2026-06-01")

        assert run.ok, run.text
        assert "tinykasof 2.0.0 -> 1.0.0" in run.text  # July's release is not "as of June"
        assert locked(project)["tinykasof"] == "1.0.0"
        assert await value(client, "__import__('tinykasof').__version__") == "1.0.0"
        lock = (project / "pylock.toml").read_text()
        assert 'exclude-newer = "2026-06-01"' in lock
    finally:
        client.stop_channels()


async def test_progress_updates_in_place_and_every_answer_names_its_project(
    jp_fetch, jp_serverapp, kernel_env
):
    project, kernel_name = own_project(kernel_env, jp_serverapp, "nb-progress")
    elsewhere = kernel_env.root / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    client = await open_kernel(jp_fetch, jp_serverapp, "nb-progress/nb.ipynb", kernel_name)
    outside = await open_kernel(jp_fetch, jp_serverapp, "elsewhere/nb.ipynb", kernel_name)
    try:
        messages: list[dict[str, Any]] = []
        reply = await client.execute_interactive(
            "%dep add tinyd", output_hook=messages.append, timeout=120
        )
        assert reply["content"]["status"] == "ok"
        shown = [m for m in messages if m["msg_type"] in ("display_data", "update_display_data")]
        ids = {
            m["content"]["transient"].get("display_id")
            for m in shown
            if m["content"].get("transient")
        }
        assert len(ids) == 1  # one line, updated in place
        updates = [m for m in shown if m["msg_type"] == "update_display_data"]
        assert len(updates) >= 2
        plain = [m["content"]["data"]["text/plain"] for m in updates]
        assert any("install" in p and "/" in p for p in plain), plain  # a counted step
        assert plain[-1].startswith("Done in ")  # then a short summary ...
        assert "<details" in updates[-1]["content"]["data"]["text/html"]  # ... the log folded
        result = [m["content"]["data"] for m in shown if m["msg_type"] == "display_data"][-1]
        assert result["text/plain"].startswith("Project: . (nb-progress)\n")
        assert result["text/html"].startswith("<div>Project: . (nb-progress)")

        far = await execute(outside, "%dep list")
        assert far.ok, far.text
        assert "Project: ../nb-progress (nb-progress)" in far.text
        assert "Warning: this notebook's folder" in far.text and "outside" in far.text
    finally:
        client.stop_channels()
        outside.stop_channels()
