"""binder/: what mybinder.org runs works, step for step, in a fresh venv and without the internet.

repo2docker installs binder/requirements.txt (this repository, built from source) into the server's
environment, then runs binder/postBuild from the repository root. Here the repository is the wheel
built by `python -m build` (see test_packaging.py), installed into a fresh venv that has Jupyter
but not jupyter_envlock; postBuild then runs for real, with `python` being that venv's, against a
copy of examples/weather-analysis whose dependencies are tiny wheels from the local test index (the
real example's lock points at PyPI). Afterwards the env exists and matches the lock, the notebook's
kernel name resolves both as an installed spec and as the server's project kernel, and the kernel
starts in the env with the %dep magics working.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import tomlkit
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from support.server_process import ServerProcess
from test_packaging import (
    HostPython,
    build_distributions,
    install_wheel,
    make_host_python,
    skip_unless_buildable,
)

REPO = Path(__file__).resolve().parents[1]
BINDER = REPO / "binder"
EXAMPLE = REPO / "examples" / "weather-analysis"
KERNEL = "envlock-weather-analysis"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server_python(tmp_path_factory: pytest.TempPathFactory) -> HostPython:
    """binder/requirements.txt's "." step: the repository installed into a fresh Jupyter venv."""
    skip_unless_buildable()
    dists = build_distributions(tmp_path_factory.getbasetemp() / "envlock-dists")
    host = make_host_python(tmp_path_factory.mktemp("binder") / "venv")
    assert not host.has_module("jupyter_envlock")
    install_wheel(host, dists.wheel)
    return host


@pytest.fixture
def repository(tmp_path: Path, server_python: HostPython, envlock_env) -> Path:
    """A repository root holding a copy of the example: same name, notebook and settings, but
    depending on tiny wheels, and locked against the local index (as the real one is against
    PyPI) before postBuild runs."""
    root = tmp_path / "repo"
    copy = root / "examples" / "weather-analysis"
    copy.mkdir(parents=True)
    for notebook in EXAMPLE.glob("*.ipynb"):
        shutil.copy2(notebook, copy / notebook.name)
    manifest = tomlkit.parse((EXAMPLE / "pyproject.toml").read_text(encoding="utf-8"))
    deps = tomlkit.array()
    deps.append("tinyb")  # pulls in tinya>=1.1
    manifest["project"]["dependencies"] = deps
    (copy / "pyproject.toml").write_text(tomlkit.dumps(manifest), encoding="utf-8")
    server_python.run("-m", "jupyter_envlock", "lock", "--project", str(copy), "--quiet")
    lock = (copy / "pylock.toml").read_text(encoding="utf-8")
    assert envlock_env.index_url.split("/simple")[0] in lock  # locked against the local index
    return root


def test_requirements_install_this_repository_and_fit_the_image():
    lines = [
        line.split("#", 1)[0].strip()
        for line in (BINDER / "requirements.txt").read_text(encoding="utf-8").splitlines()
    ]
    lines = [line for line in lines if line]
    # "." is the repository root (pip resolves it against repo2docker's working directory, the
    # root); being a local path, it also makes repo2docker copy the repository before installing.
    assert "." in lines
    for line in lines:
        if line != ".":
            Requirement(line)  # valid PEP 508, no options or URLs
    runtime = (BINDER / "runtime.txt").read_text(encoding="utf-8").strip()
    match = re.fullmatch(r"python-(3\.\d+)", runtime)
    assert match, runtime
    for project in (REPO, EXAMPLE):
        manifest = tomlkit.parse((project / "pyproject.toml").read_text(encoding="utf-8"))
        assert SpecifierSet(manifest["project"]["requires-python"]).contains(match[1] + ".0")
    post_build = BINDER / "postBuild"
    assert post_build.stat().st_mode & 0o111, "postBuild must be executable"
    assert post_build.read_text(encoding="utf-8").startswith("#!/bin/bash\n")


def test_the_real_example_is_locked_for_binder():
    """What postBuild will sync on mybinder.org: a current lock, files from PyPI only."""
    lock = (EXAMPLE / "pylock.toml").read_text(encoding="utf-8")
    urls = re.findall(r'url = "([^"]+)"', lock)
    assert urls and all(u.startswith("https://files.pythonhosted.org/") for u in urls)
    notebook = json.loads((EXAMPLE / "weather.ipynb").read_text(encoding="utf-8"))
    assert notebook["metadata"]["kernelspec"] == {
        "name": KERNEL,
        "display_name": "Python (weather-analysis)",
        "language": "python",
    }
    from jupyter_envlock.core import operations

    assert operations.status(EXAMPLE).lock == "in-sync"  # pylock.toml matches pyproject.toml


def test_post_build_builds_the_env_and_the_kernel_resolves(
    repository: Path, server_python: HostPython, envlock_env, tmp_path: Path
):
    host = server_python
    example = repository / "examples" / "weather-analysis"
    proc = subprocess.run(
        [str(BINDER / "postBuild")],  # its shebang, its defaults: `python` is first on PATH
        cwd=repository,
        env=host.environ(PATH=os.pathsep.join([str(host.bin), os.environ["PATH"]])),
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "==> ready" in output
    assert f"weather.ipynb: kernel {KERNEL} (Python (weather-analysis))" in output

    # The environment exists, under envlock's cache, exactly as locked.
    status = json.loads(
        host.run("-m", "jupyter_envlock", "status", "--json", "--project", str(example)).stdout
    )
    assert status["state"] == "in-sync", status
    assert Path(status["env_path"]).is_relative_to(envlock_env.envlock_cache_dir)
    env_python = host.run("-m", "jupyter_envlock", "python", "--project", str(example)).stdout
    versions = subprocess.run(
        [
            env_python.strip(),
            "-c",
            "import tinya, tinyb; print(tinya.__version__, tinyb.__version__)",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert versions == ["2.0.0", "1.0.0"]

    # The kernel name resolves as an installed spec (headless tools) ...
    installed = host.root / "share" / "jupyter" / "kernels" / KERNEL / "kernel.json"
    assert json.loads(installed.read_text())["metadata"]["envlock"]["project"] == str(example)
    # ... and as the server's project kernel, the way JupyterLab on Binder sees it.
    resolved = host.run("-c", _SERVER_SPEC, str(repository), KERNEL).stdout.strip()
    assert Path(resolved) == example

    # Opening the notebook starts the kernel in the env, with %dep working.
    outputs = host.run("-c", _RUN_IN_KERNEL, KERNEL, cwd=example).stdout
    assert f"prefix={status['env_path']}" in outputs
    assert re.search(r"^tinyb\s+1\.0\.0\s*$", outputs, re.MULTILINE), outputs  # the %dep table

    # The image's own projects are trusted by its server (nobody on mybinder.org is asked):
    # postBuild merged binder/jupyter_server_config.json into the server Python's config.
    config = host.root / "etc" / "jupyter" / "jupyter_server_config.json"
    assert json.loads(config.read_text())["EnvlockApp"] == {"trust_all_projects": True}
    assert status["trust"]["trusted"] is False  # not in the user's trust store
    server = ServerProcess(repository, tmp_path / "binder-server.log",
                           command=[str(host.python), "-m", "jupyter_server"],
                           env=host.environ(PATH=os.pathsep.join([str(host.bin), os.environ["PATH"]])))  # fmt: skip
    try:
        code, body = server.start_session("examples/weather-analysis", KERNEL)
        assert code == 201, (body, server.log_tail())
        code, details = server.request(
            "GET", "/jupyter-envlock/project?path=examples/weather-analysis"
        )
        assert details["status"]["trust"]["source"] == "server", details
    finally:
        server.close()


# The server's view: the kernel spec manager the extension installs, rooted where Binder starts.
_SERVER_SPEC = """
import sys
from jupyter_envlock.kernelspecs import EnvlockKernelSpecManager

ksm = EnvlockKernelSpecManager(root_dir=sys.argv[1])
try:
    spec = ksm.get_kernel_spec(sys.argv[2])
    print(spec.metadata["kernel_provisioner"]["config"]["project_path"])
finally:
    ksm.stop()
"""

# What a notebook client does: start the kernel by name, run cells, collect what they print.
_RUN_IN_KERNEL = """
import sys
from jupyter_client.manager import start_new_kernel

km, kc = start_new_kernel(kernel_name=sys.argv[1], startup_timeout=120)
texts = []

def keep(msg):
    content = msg["content"]
    if msg["msg_type"] == "stream":
        texts.append(content["text"])
    elif msg["msg_type"] in ("display_data", "execute_result"):
        texts.append(content["data"].get("text/plain", ""))
    elif msg["msg_type"] == "error":
        texts.append("ERROR " + content["ename"] + ": " + content["evalue"])

try:
    for code in ("import sys, tinyb; print('prefix=' + sys.prefix)", "%dep list"):
        reply = kc.execute_interactive(code, timeout=120, output_hook=keep)
        assert reply["content"]["status"] == "ok", (code, reply["content"], texts)
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
print("\\n".join(texts))
"""
