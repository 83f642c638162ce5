"""Kernels of uv and Poetry projects in a real server, and the kernel layer (issue 10).

The project env is the user's tool's (uv's .venv, Poetry's env) and lists no ipykernel: the
kernel gets it from a layer in envlock's cache that the bootstrap appends after the project's
site-packages. The manifest, lock and env stay the user's: their next `uv sync`/`poetry sync`
changes nothing and removes nothing the kernel needs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import tomllib
from kernel_support import execute, open_kernel, start_session, value
from support.cli import install_kernel_specs
from support.isolation import forbid_processes
from support.notebooks import run_notebook

from jupyter_envlock.core import kernel_layer, operations
from jupyter_envlock.core.environment import installed_distributions
from jupyter_envlock.core.kernel_layer import KernelLayerConflict
from jupyter_envlock.core.runner import POETRY_VARIABLE

pytestmark = pytest.mark.slow


def layers(envlock_env: Any) -> Path:
    return envlock_env.envlock_cache_dir / "layers"


# ------------------------------------------------------------------ the layer, in the core


def test_layer_gives_ipykernel_without_touching_the_env(make_uv_project, envlock_env, monkeypatch):
    project = make_uv_project("layered", deps=["tinya", "tornado==6.5.10"], sync=True)
    env = project / ".venv"
    before = installed_distributions(env)
    assert "ipykernel" not in before
    site = kernel_layer.prepare(env)
    assert site is not None and site.is_relative_to(layers(envlock_env))
    assert (site / "ipykernel").is_dir()
    assert not (site / "tornado").exists()  # the project's tornado 6.5.10 serves, not 6.6.1
    assert not (site / "tinya").exists()
    assert installed_distributions(env) == before
    operations.sync(project)  # the first start after a terminal's `uv sync` asks uv once

    forbid_processes(monkeypatch, "a known layer")
    assert operations.sync(project).sync.noop
    assert kernel_layer.prepare(env) == site


def test_a_project_with_its_own_ipykernel_gets_no_layer(make_uv_project, envlock_env):
    project = make_uv_project("own-kernel", deps=["tinyd"], dev=["ipykernel"], sync=True)
    assert kernel_layer.prepare(project / ".venv") is None
    assert not layers(envlock_env).exists()


def test_a_pin_no_ipykernel_fits_is_refused_clearly(make_uv_project, envlock_env, local_index):
    local_index.add_wheel("comm", "0.0.1")  # ipykernel needs comm>=0.1.1
    project = make_uv_project("pinned-comm", deps=["comm==0.0.1"], sync=True)
    with pytest.raises(KernelLayerConflict) as caught:
        kernel_layer.prepare(project / ".venv")
    assert "uv add --dev ipykernel" in caught.value.message
    assert "comm" in caught.value.details
    assert not any(layers(envlock_env).glob("*/lib"))  # nothing half-built left


# ------------------------------------------------------------------ real kernels


async def test_uv_project_kernel(jp_fetch, jp_serverapp, jp_root_dir, make_uv_project, envlock_env):
    project = make_uv_project("uvk", folder=jp_root_dir / "uvk", deps=["tinya<2"])
    jp_serverapp.kernel_spec_manager.refresh()
    client = await open_kernel(jp_fetch, jp_serverapp, "uvk/nb.ipynb", "envlock-uvk")
    try:
        env = project / ".venv"
        assert await value(client, "__import__('sys').prefix") == str(env)
        assert (await value(client, "__import__('tinya').__file__")).startswith(str(env))
        kernel_file = await value(client, "__import__('ipykernel').__file__")
        assert kernel_file.startswith(str(layers(envlock_env)))
        shell = await execute(client, "!python -c 'import ipykernel'")
        assert "No module named 'ipykernel'" in shell.text  # the layer is the kernel's alone
        assert (
            await value(client, "'JUPYTER_ENVLOCK_KERNEL_LAYER' in __import__('os').environ")
            == "False"
        )

        run = await execute(client, "%dep add tinyd")
        assert run.ok, run.error or run.text
        imported = await execute(client, "import tinyd; print(tinyd.__file__)")
        assert imported.ok and imported.stdout.strip().startswith(str(env))
    finally:
        client.stop_channels()
    manifest = tomllib.loads((project / "pyproject.toml").read_text())
    assert manifest["project"]["dependencies"] == ["tinya<2", "tinyd>=1.1.0"]
    assert "ipykernel" not in installed_distributions(env)
    assert not (project / "pylock.toml").exists()
    envlock_env.run_uv("lock", "--check", cwd=project)
    synced = envlock_env.run_uv("sync", "--locked", cwd=project)
    assert "Uninstalled" not in synced.stderr and "Installed" not in synced.stderr


async def test_poetry_project_kernel(
    jp_fetch, jp_serverapp, jp_root_dir, poetry, make_poetry_project, monkeypatch
):
    monkeypatch.setenv(POETRY_VARIABLE, str(poetry.exe))
    project = make_poetry_project(
        "poetk",
        folder=jp_root_dir / "analysis",
        style="classic",
        deps=["tinya"],
        package_folder=False,
    )
    jp_serverapp.kernel_spec_manager.refresh()
    client = await open_kernel(jp_fetch, jp_serverapp, "analysis/nb.ipynb", "envlock-poetk")
    try:
        env = poetry.env_path(project)
        assert env is not None
        assert await value(client, "__import__('sys').prefix") == str(env)
        assert await value(client, "__import__('tinya').__name__") == "tinya"
        run = await execute(client, "%dep add 'tinyd>=1'")
        assert run.ok, run.error or run.text
        assert (await execute(client, "import tinyd")).ok
    finally:
        client.stop_channels()
    poetry.run("check", "--lock", cwd=project)
    out = poetry.run("sync", "--dry-run", "--no-root", cwd=project).stdout
    assert "0 installs, 0 updates, 0 removals" in out or "No dependencies" in out, out


async def test_missing_poetry_fails_the_start_with_the_install_command(
    jp_fetch, jp_serverapp, jp_root_dir, poetry, make_poetry_project, monkeypatch, tmp_path
):
    make_poetry_project(
        "nopoetry", folder=jp_root_dir / "nopoetry", style="classic", deps=["tinya"]
    )
    monkeypatch.delenv(POETRY_VARIABLE, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    jp_serverapp.kernel_spec_manager.refresh()
    code, body = await start_session(jp_fetch, "nopoetry/nb.ipynb", "envlock-nopoetry")
    assert code == 500
    assert "Poetry is not installed" in body["message"]
    assert "pipx install poetry" in body["message"]


# ------------------------------------------------------------------ the panel's REST calls


async def rest(
    jp_fetch, method: str, *parts: str, body: Any = None, **params: str
) -> tuple[int, Any]:
    response = await jp_fetch(
        "jupyter-envlock", *parts, method=method, params=params or None,
        body=json.dumps(body) if body is not None else None, raise_error=False,
        request_timeout=120,
    )  # fmt: skip
    return response.code, json.loads(response.body or b"{}")


async def test_panel_sees_managers_and_folders_that_are_not_projects_yet(
    jp_fetch, jp_serverapp, jp_root_dir, make_uv_project, make_requirements_folder, envlock_env
):
    make_uv_project("uvp", folder=jp_root_dir / "uvp", deps=["tinyd"])
    reqs = make_requirements_folder(["tinya<2  # pinned"], folder=jp_root_dir / "analysis")
    code, body = await rest(jp_fetch, "GET", "projects")
    assert code == 200
    by_path = {p["path"]: p for p in body["projects"]}
    assert by_path["analysis"]["state"] == "not-a-project"
    assert by_path["analysis"]["kind"] == "requirements"
    assert "jupyter envlock init" in by_path["analysis"]["message"]
    assert by_path["analysis"]["kernel_name"] is None
    code, details = await rest(jp_fetch, "GET", "project", path="uvp")
    assert code == 200 and details["status"]["project"]["manager"] == "uv"

    code, report = await rest(jp_fetch, "POST", "project", "init", body={"path": "analysis"})
    assert code == 200, report
    assert report["project"]["kernel_name"] == "envlock-analysis"
    assert '"tinya<2",  # pinned' in (reqs / "pyproject.toml").read_text()
    code, body = await rest(jp_fetch, "GET", "projects")
    entry = {p["path"]: p for p in body["projects"]}["analysis"]
    assert entry["kernel_name"] == "envlock-analysis" and entry["state"] == "no-env"
    specs = json.loads((await jp_fetch("api", "kernelspecs")).body)["kernelspecs"]
    assert "envlock-analysis" in specs

    code, error = await rest(jp_fetch, "POST", "project", "init", body={"path": "analysis"})
    assert code == 400 and "a project already" in error["error"]["message"]
    code, error = await rest(jp_fetch, "POST", "project", "init", body={"path": "../x"})
    assert code == 403


# ------------------------------------------------------------------ headless: nbclient, argv


def run_headless(
    project: Path, kernel: str, tmp_path: Path, monkeypatch: Any, code: list[str]
) -> list[str]:
    """`kernels install` into a prefix on JUPYTER_PATH, then nbclient runs a notebook naming the
    kernel, as a CI job does; the cells' text outputs."""
    monkeypatch.setenv("JUPYTER_PATH", str(install_kernel_specs(project, tmp_path / "prefix")))
    nb = run_notebook(project, kernel, code)
    return [
        "".join(o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in cell.outputs)
        for cell in nb.cells
    ]


def test_nbclient_runs_a_uv_projects_notebook(make_uv_project, envlock_env, tmp_path, monkeypatch):
    project = make_uv_project("headless-uv", deps=["tinya<2"])
    out = run_headless(project, "envlock-headless-uv", tmp_path, monkeypatch, [
        "import sys, tinya; print(sys.prefix)", "import ipykernel; print(ipykernel.__file__)",
    ])  # fmt: skip
    assert out[0].strip() == str(project / ".venv")
    assert out[1].strip().startswith(str(layers(envlock_env)))
    envlock_env.run_uv("sync", "--locked", "--dry-run", cwd=project)


def test_nbclient_runs_a_poetry_projects_notebook(
    poetry, make_poetry_project, envlock_env, tmp_path, monkeypatch
):
    monkeypatch.setenv(POETRY_VARIABLE, str(poetry.exe))
    project = make_poetry_project(
        "headless-poetry", style="pep621", deps=["tinya"], package_mode=False
    )
    out = run_headless(project, "envlock-headless-poetry", tmp_path, monkeypatch, [
        "import sys, tinya; print(sys.prefix)",
    ])  # fmt: skip
    assert out[0].strip() == str(poetry.env_path(project))
    poetry.run("check", "--lock", cwd=project)
