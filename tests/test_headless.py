"""Headless runs: a notebook naming a project kernel executes with nbclient on another "machine".

The project (pyproject.toml + pylock.toml only) is copied to another folder, the env cache is empty,
and the only registration is `jupyter envlock kernels install` into a prefix on JUPYTER_PATH, as a
CI job or a colleague would do. nbclient knows nothing of the server's spec manager; the kernel name
in the notebook's metadata must resolve through the installed spec and the env must be rebuilt from
the lock exactly (no re-lock).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
import tomllib
from jupyter_client import BlockingKernelClient
from jupyter_client.connect import write_connection_file
from kernel_support import KernelWorld, copy_project
from support.cli import install_kernel_specs
from support.notebooks import run_notebook

pytestmark = pytest.mark.slow


@pytest.fixture
def elsewhere(kernel_world: KernelWorld, envlock_env, tmp_path: Path, monkeypatch) -> Path:
    """The shared project's files in a new folder, an empty env cache, the spec installed."""
    project = copy_project(kernel_world.project, tmp_path / "colleague" / "checkout" / "demo")
    assert not envlock_env.envlock_cache_dir.exists()
    monkeypatch.setenv("JUPYTER_PATH", str(install_kernel_specs(project, tmp_path / "prefix")))
    return project


def locked_version(project: Path, name: str) -> str:
    lock = tomllib.loads((project / "pylock.toml").read_text())
    return next(p["version"] for p in lock["packages"] if p["name"] == name)


def test_nbclient_runs_a_notebook_on_a_copy_with_an_empty_cache(elsewhere: Path, envlock_env):
    lock_before = (elsewhere / "pylock.toml").read_bytes()
    nb = run_notebook(elsewhere, "envlock-shared-demo", [
        "import sys, tinya, importlib.metadata as md\nprint(sys.prefix)",
        "print(md.version('tinya'))",
        "%dep list",
    ])  # fmt: skip
    prefix = nb.cells[0].outputs[0]["text"].strip()
    assert Path(prefix).is_relative_to(envlock_env.envlock_cache_dir)
    assert nb.cells[1].outputs[0]["text"].strip() == locked_version(elsewhere, "tinya")
    assert "tinya" in nb.cells[2].outputs[0]["data"]["text/plain"]
    assert (elsewhere / "pylock.toml").read_bytes() == lock_before


def test_installed_argv_works_for_tools_that_ignore_provisioners(
    elsewhere: Path, tmp_path: Path, envlock_env
):
    """VS Code and older clients run kernel.json's argv as is: it must sync and start too."""
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("envlock-shared-demo")
    connection_file = str(tmp_path / "kernel-conn.json")
    write_connection_file(connection_file)
    argv = [arg.replace("{connection_file}", connection_file) for arg in spec.argv]
    kernel = subprocess.Popen(argv, cwd=elsewhere, env=dict(os.environ))
    client = BlockingKernelClient()
    client.load_connection_file(connection_file)
    client.start_channels()
    try:
        # The env is built before the kernel binds its ports; a client not owned by a kernel
        # manager gives up on heartbeats after a few seconds, so ask again until it answers.
        deadline = time.monotonic() + 120
        while True:
            try:
                client.wait_for_ready(timeout=10)
                break
            except RuntimeError:
                assert kernel.poll() is None, "the kernel process exited"
                assert time.monotonic() < deadline, "no kernel_info reply"
                time.sleep(0.2)
        outputs: list[str] = []
        client.execute_interactive(
            "import sys; print(sys.prefix)",
            output_hook=lambda m: outputs.append(m["content"].get("text", "")),
            timeout=60,
        )
        assert Path("".join(outputs).strip()).is_relative_to(envlock_env.envlock_cache_dir)
    finally:
        client.shutdown()
        client.stop_channels()
        try:
            kernel.wait(timeout=20)
        except subprocess.TimeoutExpired:
            kernel.kill()


def test_kernel_side_runs_on_the_oldest_python(
    envlock_env, make_project, tmp_path: Path, monkeypatch
):
    """The bootstrap and the magics run inside the project env: they must work on Python 3.10."""
    if "3.10" not in envlock_env.pythons:
        pytest.skip("no Python 3.10 on this machine")
    project = make_project(name="old-python", deps=["tinyd"], requires_python="==3.10.*")
    monkeypatch.setenv("JUPYTER_PATH", str(install_kernel_specs(project, tmp_path / "prefix")))
    nb = run_notebook(project, "envlock-old-python", [
        "import sys, tinyd; print(sys.version_info[:2])",
        "%dep add tinya",
        "import tinya; print(tinya.__name__)",
    ])  # fmt: skip
    assert nb.cells[0].outputs[0]["text"].strip() == "(3, 10)"
    assert nb.cells[2].outputs[0]["text"].strip() == "tinya"
    assert "tinya" in (project / "pyproject.toml").read_text()
