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

The Environment panel's stories (``test_panel_*.py``) each get their own server, root and page
from the module-scoped fixtures at the end of this file (``panel_server``, ``page``,
``notebook_in_sync``), so a failure in one story leaves the others to run; what they share for
driving the panel is in ``panel_helpers.py``. Inside a module with ``STORY = True`` the steps
build on each other, and the rest are skipped after the first failure.

Needs: ``apt-get install -y chromium`` and the extension installed (``pip install -e .``). The
server loads the frontend built in this tree (``jupyter_envlock/labextension``, the output of
``jlpm build:prod``) ahead of the installed copy, so a rebuild is tested without reinstalling.
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
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # `import panel_helpers` whatever the import mode

from panel_helpers import (  # noqa: E402
    ACTION_TIMEOUT,
    BUILD_TIMEOUT,
    PROJECT,
    RECORDER_JS,
    UI_TIMEOUT,
    kernel_status,
    open_notebook,
    open_panel,
    state_badge,
    wait_for_kernel_started,
    write_project,
)
from playwright.sync_api import expect, sync_playwright  # noqa: E402
from support.isolation import isolate, offline_settings  # noqa: E402

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
# The frontend as built in this tree; set ENVLOCK_UI_INSTALLED_EXTENSION=1 to test the installed one.
BUILT_EXTENSION = REPO / "jupyter_envlock" / "labextension"
USE_INSTALLED = "ENVLOCK_UI_INSTALLED_EXTENSION"
SERVER_START_TIMEOUT = 90.0
LAB_READY_TIMEOUT_MS = 90_000
_LOADED_AT = time.time()  # before any test of this run: its screenshots are newer


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark everything collected from this folder as ``ui``."""
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(HERE):
            item.add_marker(pytest.mark.ui)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """In a module with ``STORY = True`` (steps that build on each other), remember the first
    failed step as ``module.failed_step`` so the module can skip the rest."""
    outcome = yield
    report = outcome.get_result()
    module = getattr(item, "module", None)
    if (
        report.failed
        and getattr(module, "STORY", False)
        and not getattr(module, "failed_step", None)
    ):
        module.failed_step = item.name  # type: ignore[union-attr]


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """List the screenshots this run wrote, so a CI log points at them."""
    if not ARTIFACTS.is_dir():
        return
    shots = sorted(p for p in ARTIFACTS.glob("*.png") if p.stat().st_mtime >= _LOADED_AT)
    if shots:
        terminalreporter.write_sep("-", "browser screenshots")
        for path in shots:
            terminalreporter.write_line(str(path))


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


# The Jupyter applications the harness starts: module and the class its page options belong to.
APPS = {"lab": ("jupyterlab", "LabApp"), "notebook": ("notebook", "JupyterNotebookApp")}


@contextmanager
def run_lab_server(
    root: Path,
    base: Path,
    stem: str,
    extra_args: list[str] | tuple[str, ...] = (),
    app: str = "lab",
) -> Iterator[LabServer]:
    """Start ``jupyter lab`` (or, ``app="notebook"``, Jupyter Notebook 7) on a free port of
    127.0.0.1 serving ``root``; stop it on exit.

    ``base`` is an empty folder for its config, runtime and workspaces dirs; the server log goes
    to ``<artifacts>/<stem>.server.log``. The process inherits ``os.environ`` as it is now.
    """
    module, app_class = APPS[app]
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
    if (BUILT_EXTENSION / "package.json").is_file() and not os.environ.get(USE_INSTALLED):
        # Serve this tree's build (`jlpm build:prod` output), not the copy an install made:
        # the first labextensions folder on the Jupyter path wins.
        data_dir = base / "data"
        (data_dir / "labextensions").mkdir(parents=True, exist_ok=True)
        link = data_dir / "labextensions" / "jupyter-envlock"
        if not link.exists():
            link.symlink_to(BUILT_EXTENSION, target_is_directory=True)
        env["JUPYTER_PATH"] = os.pathsep.join(
            filter(None, [str(data_dir), env.get("JUPYTER_PATH")])
        )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / f"{stem}.server.log"
    command = [
        sys.executable,
        "-m",
        module,
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--{app_class}.workspaces_dir={workspaces_dir}",
        f"--{app_class}.expose_app_in_browser=True",
        "--ServerApp.allow_root=True",
        *extra_args,
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603
            command, cwd=str(root), env=env, stdout=log, stderr=subprocess.STDOUT
        )
    server = LabServer(
        url=f"http://127.0.0.1:{port}/",
        token=token,
        root=root,
        log_path=log_path,
        process=process,
    )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"jupyter {app} exited with {process.returncode}:\n{server.log_tail()}")
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
                    f"jupyter {app} did not answer in {SERVER_START_TIMEOUT}s:\n{server.log_tail()}"
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


@pytest.fixture
def lab_server(
    lab_setup: None,
    lab_server_args: list[str],
    lab_root: Path,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[LabServer]:
    """A ``jupyter lab`` on a free port of 127.0.0.1, isolated config and runtime dirs."""
    with run_lab_server(
        lab_root,
        tmp_path_factory.mktemp("lab-server"),
        _artifact_stem(request.node),
        lab_server_args,
    ) as server:
        yield server


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> Iterator[None]:
    """Shadow pytest-jupyter's autouse fixture of the same name for the browser tests.

    In a full run the plugin is loaded (the server tests need it) and its fixture closes the
    current event loop after each test; under Playwright's sync API that loop is Playwright's
    own and still running, so every UI test errored at teardown. These tests need no loop."""
    yield None


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> Iterator[None]:
    """Shadow pytest-jupyter's in-process server cleanup: the browser tests run JupyterLab as a
    separate process (as users do), so there is no in-process ServerApp to clean up."""
    yield


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian chromium through python playwright (session-wide)."""
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} not found: apt-get install -y chromium")
    with sync_playwright() as playwright:
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


@contextmanager
def open_lab_page(
    browser: Any,
    server: LabServer,
    console: list[str],
    stem: str,
    path: str = "lab",
    ready: str = ".jp-Launcher",
    early_js: str | None = None,
) -> Iterator[Any]:
    """A new browser context and page with JupyterLab (or the Notebook 7 page at ``path``)
    loaded and ready to be clicked: ``ready`` is visible. ``early_js`` runs as soon as
    ``window.jupyterapp`` exists, before the app is restored (and a notebook's kernel starts).

    On exit a full-page screenshot and the browser console go to ``<artifacts>/<stem>.*``.
    """
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.on("console", lambda msg: console.append(f"[{msg.type}] {msg.text}"))
    page.on("pageerror", lambda err: console.append(f"[pageerror] {err}"))
    try:
        page.goto(server.lab_url(path), wait_until="domcontentloaded")
        page.wait_for_function("() => !!window.jupyterapp", timeout=LAB_READY_TIMEOUT_MS)
        if early_js:
            page.evaluate(early_js)
        page.wait_for_selector("#jupyterlab-splash", state="detached", timeout=LAB_READY_TIMEOUT_MS)
        page.evaluate("() => window.jupyterapp.restored")
        # Clicking the sidebars before the launcher shows kept it from ever opening.
        page.wait_for_selector(ready, state="visible", timeout=LAB_READY_TIMEOUT_MS)
        yield page
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        try:
            page.screenshot(path=str(ARTIFACTS / f"{stem}.png"), full_page=True)
        except Exception as error:  # noqa: BLE001 - an artifact must not mask the test's outcome
            console.append(f"[harness] screenshot failed: {error}")
        (ARTIFACTS / f"{stem}.console.log").write_text("\n".join(console) + "\n")
        context.close()


@pytest.fixture
def lab_page(
    browser: Any,
    lab_server: LabServer,
    browser_console: list[str],
    request: pytest.FixtureRequest,
) -> Iterator[Any]:
    """A playwright page with JupyterLab loaded and ready to be clicked."""
    with open_lab_page(browser, lab_server, browser_console, _artifact_stem(request.node)) as page:
        yield page


# --------------------------------------------------------------------------- panel stories


@pytest.fixture(scope="module")
def offline_env(
    local_index: Any, uv_cache_dir: Path, pyenv_pythons: dict[str, Path], tmp_path_factory: Any
) -> Iterator[None]:
    """``envlock_env`` for a whole story: scrubbed pip/uv settings, the local index only.

    The lab server subprocess (and through it uv and the kernels) inherits these.
    """
    with pytest.MonkeyPatch.context() as mp:
        cache = tmp_path_factory.mktemp("envlock-cache")
        isolate(mp, offline_settings(local_index.url, uv_cache_dir, cache, pyenv_pythons))
        yield


@pytest.fixture(scope="module")
def panel_root(offline_env: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The story's server root: the ``sales`` project, no lock and no env yet (``write_project``),
    trusted as the user's own projects are (in the story's trust store, ``offline_env``'s)."""
    root = tmp_path_factory.mktemp("lab-root")
    write_project(root)
    return root


def _story_stem(request: pytest.FixtureRequest) -> str:
    """The artifact names of a story: its module's name (``test_panel_dependencies``...)."""
    return request.module.__name__.rsplit(".", 1)[-1]


@pytest.fixture(scope="module")
def panel_server(
    offline_env: None,
    panel_root: Path,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[LabServer]:
    """One ``jupyter lab`` for the story (starting one costs seconds)."""
    with run_lab_server(
        panel_root, tmp_path_factory.mktemp("lab-server"), _story_stem(request)
    ) as server:
        yield server


def _write_seen(page: Any, stem: str) -> None:
    """What the user saw, with times (ms), to ``<artifacts>/<stem>.seen.json``: for the failure
    of a step."""
    try:
        observed = page.evaluate("() => window.__envlockSeen")
    except Exception as error:  # noqa: BLE001 - must not mask the test's outcome
        observed = {"error": str(error)}
    (ARTIFACTS / f"{stem}.seen.json").write_text(json.dumps(observed, indent=1))


@pytest.fixture(scope="module")
def page(browser: Any, panel_server: LabServer, request: pytest.FixtureRequest) -> Iterator[Any]:
    """One JupyterLab page for the story; the recorder is installed before anything opens."""
    stem = _story_stem(request)
    console: list[str] = []
    with open_lab_page(browser, panel_server, console, stem) as lab_page:
        lab_page.evaluate(RECORDER_JS)
        try:
            yield lab_page
        finally:
            _write_seen(lab_page, stem)


@pytest.fixture(scope="module")
def shots() -> Path:
    """Where the named screenshots go."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


DOCS_IMAGES = REPO / "docs" / "images"
UPDATE_DOCS_IMAGES = "ENVLOCK_DOCS_IMAGES"


@pytest.fixture(scope="module")
def doc_shot(shots: Path) -> Any:
    """``doc_shot(page_or_locator, "name.png")``: a screenshot of a state the docs show, into
    ``test-artifacts/``; with ``ENVLOCK_DOCS_IMAGES=1`` also into ``docs/images/`` (so a test run
    never changes tracked files unless asked to)."""

    def take(target: Any, name: str) -> Path:
        path = shots / name
        target.screenshot(path=str(path))
        if os.environ.get(UPDATE_DOCS_IMAGES):
            shutil.copyfile(path, DOCS_IMAGES / name)
        return path

    return take


@pytest.fixture(scope="module")
def notebook_in_sync(page: Any, panel_server: LabServer) -> Any:
    """Where the stories after the first open start: the project's env built (through the REST
    API, as the panel's Sync does), its notebook open with an idle kernel, the panel showing
    ``in-sync``. Returns the page."""
    panel_server.api(
        "POST", "jupyter-envlock/project/sync", {"path": PROJECT}, timeout=BUILD_TIMEOUT / 1000
    )
    open_panel(page)
    open_notebook(page)
    wait_for_kernel_started(page, timeout=BUILD_TIMEOUT)
    expect(kernel_status(page)).to_have_attribute("data-status", "idle", timeout=UI_TIMEOUT)
    expect(state_badge(page)).to_have_attribute("data-state", "in-sync", timeout=ACTION_TIMEOUT)
    return page


@pytest.fixture(autouse=True)
def _stop_after_a_failure(request: pytest.FixtureRequest) -> None:
    """In a story (``STORY = True``), once a step failed the later ones would only fail
    confusingly: skip them (``pytest_runtest_makereport`` records the failed step)."""
    failed = getattr(request.module, "failed_step", None)
    if failed:
        pytest.skip(f"an earlier step failed: {failed}")


# --------------------------------------------------------------------------- Notebook 7


@pytest.fixture(scope="module")
def notebook7_server(
    offline_env: None,
    panel_root: Path,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[LabServer]:
    """One ``jupyter notebook`` (Notebook 7) for the story, serving ``panel_root``."""
    with run_lab_server(
        panel_root, tmp_path_factory.mktemp("nb7-server"), _story_stem(request), app="notebook"
    ) as server:
        yield server


@pytest.fixture(scope="module")
def notebook7_page(
    browser: Any, notebook7_server: LabServer, request: pytest.FixtureRequest
) -> Iterator[Any]:
    """The project's notebook (sales/analysis.ipynb) opened in Notebook 7 as a user opens it,
    at /notebooks/...; the recorder runs before its kernel starts."""
    stem = _story_stem(request)
    console: list[str] = []
    with open_lab_page(
        browser,
        notebook7_server,
        console,
        stem,
        path=f"notebooks/{PROJECT}/analysis.ipynb",
        ready=".jp-NotebookPanel",
        early_js=RECORDER_JS,
    ) as page:
        try:
            yield page
        finally:
            _write_seen(page, stem)
