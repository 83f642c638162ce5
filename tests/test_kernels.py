"""Project kernels in a real Jupyter server: specs over REST, env built at start, events, errors.

The server runs in-process (pytest-jupyter, token auth, base_url "/a%40b/") with the extension
enabled as `pip install` enables it; kernels are real processes started over REST and driven
through the kernel protocol. Async tests run on pytest-jupyter's own loop (no asyncio mark), as in
the REST tests: pytest-asyncio stays strict and never owns the server's loop.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from kernel_support import SHARED_PROJECT as SHARED
from kernel_support import (
    connect,
    copy_project,
    execute,
    start_session,
    value,
    write_project,
)
from support.server_config import kernel_world_root_dir as jp_root_dir  # noqa: F401 -- a fixture

from jupyter_envlock import provisioner
from jupyter_envlock.kernelspecs import EnvlockKernelSpecManager

pytestmark = pytest.mark.slow


@pytest.fixture
def events(jp_serverapp: Any) -> list[dict[str, Any]]:
    """Every env-build event the server emits during the test."""
    seen: list[dict[str, Any]] = []

    async def listener(logger: Any, schema_id: str, data: dict[str, Any]) -> None:
        seen.append(dict(data))

    jp_serverapp.event_logger.add_listener(schema_id=provisioner.SCHEMA_ID, listener=listener)
    return seen


async def test_kernelspecs_lists_project_kernels_and_keeps_python3(
    jp_fetch, jp_serverapp, kernel_env
):
    assert isinstance(jp_serverapp.kernel_spec_manager, EnvlockKernelSpecManager)
    response = await jp_fetch("api", "kernelspecs")
    specs = json.loads(response.body)["kernelspecs"]
    assert "python3" in specs
    model = specs[kernel_env.kernel_name]
    assert model["spec"]["display_name"] == "Python (shared-demo)"
    assert model["spec"]["language"] == "python"
    metadata = model["spec"]["metadata"]
    assert metadata["envlock"]["project"] == "shared-demo"
    assert metadata["kernel_provisioner"] == {
        "provisioner_name": "envlock-provisioner",
        "config": {"project_path": str(kernel_env.project)},
    }
    assert set(model["resources"]) == {"logo-64x64", "logo-svg"}
    logo = await jp_fetch("kernelspecs", kernel_env.kernel_name, "logo-64x64.png")
    assert logo.body.startswith(b"\x89PNG")


async def test_session_runs_in_the_project_env(jp_fetch, jp_serverapp, kernel_env, events):
    code, model = await start_session(
        jp_fetch, "shared-demo/analysis.ipynb", kernel_env.kernel_name
    )
    assert code == 201, model
    client = await connect(jp_serverapp, model["kernel"]["id"])
    try:
        env_dir = kernel_env.env_dir()
        assert await value(client, "__import__('sys').prefix") == str(env_dir)
        assert await value(client, "__import__('os').environ['VIRTUAL_ENV']") == str(env_dir)
        path_head = await value(client, "__import__('os').environ['PATH'].split(':')[0]")
        assert path_head == str(env_dir / "bin")
        shell = await execute(client, "!python -c 'import sys; print(sys.prefix)'")
        assert shell.stdout.strip() == str(env_dir)  # `!python` and `!pip` reach the env
        assert await value(client, "__import__('tinya').__name__") == "tinya"
        # the server's packages do not leak in
        assert await value(client, "'PYTHONPATH' in __import__('os').environ") == "False"
        assert (
            await value(client, "__import__('importlib.util').util.find_spec('jupyter_server')")
            == "None"
        )
        # the notebook's folder is the working directory
        assert await value(client, "__import__('os').getcwd()") == str(kernel_env.project)
        assert await value(client, "'dep' in get_ipython().magics_manager.magics['line']") == "True"
    finally:
        client.stop_channels()
    states = [e["state"] for e in events]
    assert states[-1] == "success" and set(states) <= {"running", "success"}
    assert all(e["kernel_name"] == kernel_env.kernel_name for e in events)
    assert all(e["project"] == "shared-demo" for e in events)


async def test_unresolvable_dependency_is_a_readable_500(
    jp_fetch, jp_serverapp, kernel_env, events
):
    write_project(kernel_env.root / "broken", "broken", ("no-such-package-anywhere>=1",))
    jp_serverapp.kernel_spec_manager.refresh()
    code, body = await start_session(jp_fetch, "broken/x.ipynb", "envlock-broken")
    assert code == 500
    message = body["message"]
    assert message != "Unhandled error"
    assert "no-such-package-anywhere" in message
    assert "Traceback" not in message
    assert events[-1]["state"] == "error"
    assert events[-1]["project"] == "broken"
    assert "no-such-package-anywhere" in events[-1]["message"]
    assert not jp_serverapp.kernel_manager.list_kernel_ids()


async def test_restart_resyncs_and_relocks_a_hand_edited_manifest(
    jp_fetch, jp_serverapp, kernel_env, events, tmp_path
):
    project = copy_project(kernel_env.project, kernel_env.root / "edited")
    manifest = project / "pyproject.toml"
    manifest.write_text(manifest.read_text().replace(SHARED, "edited"))
    jp_serverapp.kernel_spec_manager.refresh()
    code, model = await start_session(jp_fetch, "edited/x.ipynb", "envlock-edited")
    assert code == 201, model
    kernel_id = model["kernel"]["id"]
    client = await connect(jp_serverapp, kernel_id)
    try:
        assert await value(client, "__import__('importlib.util').util.find_spec('tinyd')") == "None"
        # edited by hand (or pulled): the lock is stale now
        manifest.write_text(manifest.read_text().replace('"tinya",', '"tinya",\n    "tinyd",'))
        events.clear()
        response = await jp_fetch(
            "api", "kernels", kernel_id, "restart", method="POST", body="", request_timeout=180
        )
        assert response.code == 200
        await client.wait_for_ready(timeout=60)
        assert await value(client, "__import__('tinyd').__name__") == "tinyd"
    finally:
        client.stop_channels()
    assert "tinyd" in (project / "pylock.toml").read_text()
    relocked = [e for e in events if "re-locked" in e["message"]]
    assert relocked and "tinyd" in relocked[0]["message"]
    assert events[-1]["state"] == "success"


async def test_new_project_appears_without_restart(jp_fetch, jp_serverapp, kernel_env):
    write_project(kernel_env.root / "later" / "fresh", "fresh-one")
    jp_serverapp.kernel_spec_manager.refresh()
    response = await jp_fetch("api", "kernelspecs")
    specs = json.loads(response.body)["kernelspecs"]
    assert specs["envlock-fresh-one"]["spec"]["metadata"]["envlock"]["project"] == "later/fresh"


async def test_strict_project_refuses_a_stale_lock(jp_fetch, jp_serverapp, kernel_env, events):
    project = copy_project(kernel_env.project, kernel_env.root / "strict", name="strict")
    manifest = project / "pyproject.toml"
    text = manifest.read_text().replace('"tinya",', '"tinya",\n    "tinyd",')  # lock now stale
    manifest.write_text(text + '\n[tool.envlock]\non-stale-lock = "error"\n')
    jp_serverapp.kernel_spec_manager.refresh()
    code, body = await start_session(jp_fetch, "strict/x.ipynb", "envlock-strict")
    assert code == 500
    assert "out of date" in body["message"] and "jupyter envlock lock" in body["message"]
    assert events[-1]["state"] == "error"
    assert "tinyd" not in (project / "pylock.toml").read_text()


async def test_first_build_streams_progress_and_never_blocks_the_server(
    jp_fetch, jp_serverapp, kernel_env, events
):
    copy_project(kernel_env.project, kernel_env.root / "fresh-build", name="fresh-build")
    jp_serverapp.kernel_spec_manager.refresh()
    starting = asyncio.ensure_future(
        start_session(jp_fetch, "fresh-build/x.ipynb", "envlock-fresh-build")
    )
    latencies = []
    while not starting.done():
        began = time.perf_counter()
        response = await jp_fetch("api", "kernelspecs")
        latencies.append(time.perf_counter() - began)
        assert response.code == 200
        await asyncio.sleep(0.05)
    code, model = await starting
    assert code == 201, model
    assert len(latencies) >= 3 and max(latencies) < 1.0, latencies
    phases = [e["phase"] for e in events]
    assert phases[0] == "check" and "create" in phases and "install" in phases
    counted = [e for e in events if e["phase"] == "install" and e["total"]]
    assert counted and counted[-1]["done"] == counted[-1]["total"]
    assert [e["state"] for e in events][-1] == "success"
    assert {e["kernel_id"] for e in events} == {model["kernel"]["id"]}
