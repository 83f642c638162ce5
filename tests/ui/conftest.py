"""Browser harness for the JupyterLab extension (pytest + python playwright + Debian chromium).

Every test in this folder is marked ``ui``. What a test gets:

- ``lab_root``: the server's root folder (``tmp_path``); populate it before the server starts by
  requesting your fixtures before ``lab_server`` or by overriding ``lab_setup`` in a module.
- ``lab_server``: a real ``jupyter lab`` subprocess on 127.0.0.1 with a random token, its own
  JUPYTER_CONFIG_DIR / JUPYTER_RUNTIME_DIR, and announcements disabled. It inherits
  ``os.environ`` at start, so ``envlock_env`` (root conftest) reaches it when requested first.
- ``browser``: headless Debian chromium (``/usr/bin/chromium``; never ``playwright install``).
- ``lab_page``: a page with JupyterLab loaded and ready (splash gone, ``window.jupyterapp``
  restored, launcher visible). On teardown a screenshot, the browser console and the server log
  are written to ``<repo>/test-artifacts/``.

Needs: ``apt-get install -y chromium`` and the extension installed (``pip install -e .``), or
its folder on ``JUPYTER_PATH``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
ARTIFACTS = Path(os.environ.get("ENVLOCK_TEST_ARTIFACTS") or REPO / "test-artifacts")
CHROMIUM = os.environ.get("ENVLOCK_CHROMIUM") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
SERVER_START_TIMEOUT = 90.0
LAB_READY_TIMEOUT_MS = 90_000


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark everything collected from this folder as ``ui``."""
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(HERE):
            item.add_marker(pytest.mark.ui)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _artifact_stem(node: pytest.Item) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", node.nodeid.split("::", 1)[-1]).strip("_")[:120]


@dataclass
class LabServer:
    """A running ``jupyter lab`` subprocess."""

    url: str  # ends with "/"
    token: str
    root: Path
    log_path: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    def lab_url(self, path: str = "lab") -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.url}{path}{sep}token={self.token}"

    def api(self, method: str, endpoint: str, body: Any = None, timeout: float = 120) -> Any:
        """Call ``<url><endpoint>`` with the token (e.g. ``jupyter-envlock/projects``)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + endpoint.lstrip("/"),
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            text = response.read().decode()
        return json.loads(text) if text else None

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"


@pytest.fixture
def lab_root(tmp_path: Path) -> Path:
    """The server's root folder; projects for a test go here."""
    return tmp_path


@pytest.fixture
def lab_setup() -> None:
    """Override in a test module to prepare ``lab_root`` / the environment before the server starts."""
    return None


@pytest.fixture
def lab_server_args() -> list[str]:
    """Extra ``jupyter lab`` command-line arguments; override in a module to add some."""
    return []


@pytest.fixture
def lab_server(
    lab_setup: None,
    lab_server_args: list[str],
    lab_root: Path,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[LabServer]:
    """A ``jupyter lab`` on a free port of 127.0.0.1, isolated config and runtime dirs."""
    base = tmp_path_factory.mktemp("lab-server")
    config_dir = base / "config"
    runtime_dir = base / "runtime"
    workspaces_dir = base / "workspaces"
    for folder in (config_dir / "labconfig", runtime_dir, workspaces_dir):
        folder.mkdir(parents=True, exist_ok=True)
    (config_dir / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    token = secrets.token_hex(16)
    port = _free_port()
    env = dict(os.environ)
    env.update(
        {
            "JUPYTER_CONFIG_DIR": str(config_dir),
            "JUPYTER_RUNTIME_DIR": str(runtime_dir),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.pop("JUPYTER_TOKEN", None)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / f"{_artifact_stem(request.node)}.server.log"
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={lab_root}",
        f"--LabApp.workspaces_dir={workspaces_dir}",
        "--LabApp.expose_app_in_browser=True",
        "--ServerApp.allow_root=True",
        *lab_server_args,
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603
            command, cwd=str(lab_root), env=env, stdout=log, stderr=subprocess.STDOUT
        )
    server = LabServer(
        url=f"http://127.0.0.1:{port}/",
        token=token,
        root=lab_root,
        log_path=log_path,
        process=process,
    )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"jupyter lab exited with {process.returncode}:\n{server.log_tail()}")
            try:
                with urllib.request.urlopen(  # noqa: S310
                    f"{server.url}api/status?token={token}", timeout=2
                ) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"jupyter lab did not answer in {SERVER_START_TIMEOUT}s:\n{server.log_tail()}"
                )
            time.sleep(0.25)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian chromium through python playwright (session-wide)."""
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} not found: apt-get install -y chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def browser_console() -> list[str]:
    """Console messages and page errors of ``lab_page``, in order."""
    return []


@pytest.fixture
def lab_page(
    browser: Any,
    lab_server: LabServer,
    browser_console: list[str],
    request: pytest.FixtureRequest,
) -> Iterator[Any]:
    """A playwright page with JupyterLab loaded and ready to be clicked."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.on("console", lambda msg: browser_console.append(f"[{msg.type}] {msg.text}"))
    page.on("pageerror", lambda err: browser_console.append(f"[pageerror] {err}"))
    stem = _artifact_stem(request.node)
    try:
        page.goto(lab_server.lab_url(), wait_until="domcontentloaded")
        page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=LAB_READY_TIMEOUT_MS)
        page.wait_for_function("() => !!window.jupyterapp", timeout=LAB_READY_TIMEOUT_MS)
        page.evaluate("() => window.jupyterapp.restored")
        # Clicking the sidebars before the launcher shows kept it from ever opening.
        page.wait_for_selector(".jp-Launcher", state="visible", timeout=LAB_READY_TIMEOUT_MS)
        yield page
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        try:
            page.screenshot(path=str(ARTIFACTS / f"{stem}.png"), full_page=True)
        except Exception as error:  # noqa: BLE001 - an artifact must not mask the test's outcome
            browser_console.append(f"[harness] screenshot failed: {error}")
        (ARTIFACTS / f"{stem}.console.log").write_text("\n".join(browser_console) + "\n")
        context.close()
