"""Fixtures and helpers shared by the kernel tests (server kernels, magics, headless, conformance).

A project env costs 1-2 s to build from the local index, so one "shared" project is built once
per session in its own env cache and reused by every test that only reads it; tests that change a
project get their own copy (and pay for one build). Test modules load this file as a plugin:
``pytest_plugins = ["kernel_support"]`` (the tests folder is on sys.path, see conftest).
PYTEST_DONT_REWRITE: the modules also import helpers from here, before pytest would rewrite it.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from support.isolation import isolate, offline_settings, trust_project

from jupyter_envlock.core import operations

SHARED_PROJECT = "shared-demo"


@dataclass
class KernelWorld:
    """A server root holding one project whose env is already built."""

    root: Path
    project: Path
    cache_dir: Path
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def kernel_name(self) -> str:
        return "envlock-" + SHARED_PROJECT

    def env_dir(self) -> Path:
        report = operations.sync(self.project)
        assert report.sync is not None
        return report.sync.path


def write_project(folder: Path, name: str, deps: tuple[str, ...] = ()) -> Path:
    """A project of the user's own: written, and trusted in the test's trust store (a kernel
    start from the server needs that)."""
    folder.mkdir(parents=True, exist_ok=True)
    listed = "".join(f'    "{d}",\n' for d in deps)
    (folder / "pyproject.toml").write_text(
        "[project]\n"
        f'name = "{name}"\n'
        'version = "0.1.0"\n'
        'requires-python = ">=3.10"\n'
        f"dependencies = [\n{listed}]\n"
    )
    trust_project(folder)
    return folder


@pytest.fixture(scope="session")
def kernel_world(
    local_index: Any,
    uv_cache_dir: Path,
    pyenv_pythons: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[KernelWorld]:
    """The shared project (depends on tinya), env built once for the session."""
    base = tmp_path_factory.mktemp("kernel-world")
    root = base / "root"
    settings = offline_settings(
        local_index.url, uv_cache_dir, base / "envlock-cache", pyenv_pythons
    )
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, settings)  # its trust store too: kernel_env's tests see the project trusted
        project = write_project(root / SHARED_PROJECT, SHARED_PROJECT, ("tinya",))
        operations.sync(project)
    yield KernelWorld(
        root=root, project=project, cache_dir=base / "envlock-cache", settings=settings
    )


@pytest.fixture
def kernel_env(
    kernel_world: KernelWorld, envlock_env: Any, monkeypatch: pytest.MonkeyPatch
) -> KernelWorld:
    """`envlock_env`, but with the env cache that holds the shared project's env."""
    isolate(monkeypatch, kernel_world.settings)
    return kernel_world


def copy_project(source: Path, destination: Path, name: str | None = None) -> Path:
    """A copy of a project's files (manifest and lock only: envs are per path), optionally
    renamed so that it gets a kernel name of its own; trusted like the original."""
    destination.mkdir(parents=True, exist_ok=True)
    for file in ("pyproject.toml", "pylock.toml"):
        if (source / file).exists():
            shutil.copy2(source / file, destination / file)
    if name is not None:
        manifest = destination / "pyproject.toml"
        text = manifest.read_text()
        old = next(line for line in text.splitlines() if line.startswith("name = "))
        manifest.write_text(text.replace(old, f'name = "{name}"', 1))
    trust_project(destination)
    return destination


async def start_session(fetch: Any, path: str, kernel_name: str) -> tuple[int, dict[str, Any]]:
    """POST /api/sessions as JupyterLab does when a notebook opens: (status, JSON body)."""
    response = await fetch(
        "api",
        "sessions",
        method="POST",
        body=json.dumps({"path": path, "type": "notebook", "kernel": {"name": kernel_name}}),
        raise_error=False,
        request_timeout=180,
    )
    return response.code, json.loads(response.body or b"{}")


async def connect(serverapp: Any, kernel_id: str) -> Any:
    """An AsyncKernelClient on a kernel the server started, ready for requests."""
    client = serverapp.kernel_manager.get_kernel(kernel_id).client()
    client.start_channels()
    await client.wait_for_ready(timeout=60)
    return client


async def open_kernel(fetch: Any, serverapp: Any, path: str, kernel_name: str) -> Any:
    """Start a session over REST and connect to its kernel."""
    code, model = await start_session(fetch, path, kernel_name)
    assert code == 201, model
    return await connect(serverapp, model["kernel"]["id"])


# ------------------------------------------------------------------ talking to a kernel


@dataclass
class Execution:
    """What one execute request produced."""

    reply: dict[str, Any]
    stdout: str = ""
    stderr: str = ""
    data: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.reply["content"]["status"] == "ok"

    @property
    def text(self) -> str:
        plain = "\n".join(d.get("text/plain", "") for d in self.data)
        return "\n".join([self.stdout, self.stderr, plain])

    @property
    def html(self) -> str:
        return "\n".join(d.get("text/html", "") for d in self.data)


async def execute(client: Any, code: str, timeout: float = 120) -> Execution:
    """Run `code` through the kernel protocol (AsyncKernelClient); collect its outputs."""
    result = Execution(reply={})

    def hook(msg: dict[str, Any]) -> None:
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            if content["name"] == "stdout":
                result.stdout += content["text"]
            else:
                result.stderr += content["text"]
        elif kind in ("display_data", "execute_result"):
            result.data.append(content["data"])
        elif kind == "error":
            result.error = content

    result.reply = await client.execute_interactive(code, output_hook=hook, timeout=timeout)
    if result.error is None and result.reply["content"]["status"] == "error":
        result.error = result.reply["content"]  # e.g. UsageError: shown on stderr, no error msg
    return result


async def value(client: Any, expression: str) -> str:
    """`print(expression)` in the kernel; its stdout, stripped."""
    run = await execute(client, f"print({expression})")
    assert run.ok, run.error
    return run.stdout.strip()


async def wait_for(predicate: Any, timeout: float = 30, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)
