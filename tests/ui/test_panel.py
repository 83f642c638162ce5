"""The Environment panel in a real JupyterLab, as a user meets it.

One story on one server, one page and one notebook (the tests run in file order and build on each
other): the launcher shows the project kernel; opening the project's notebook starts its kernel,
which builds the env with live progress; dependencies are added from the panel and from a cell,
one is removed (restart prompt, kernel restart); a hand edit of pyproject.toml shows as drift and
is fixed from the panel; the panel follows the light and dark themes.

Everything installs from the session's local index (tiny wheels + real ipykernel wheels): no
internet. Screenshots go to ``<repo>/test-artifacts/`` (names in ``SHOTS``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.isolation import isolate, offline_settings

playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect

PROJECT = "sales"
KERNEL = f"envlock-{PROJECT}"
DISPLAY_NAME = f"Python ({PROJECT})"
NOTEBOOK = "analysis.ipynb"

# Waits (ms): generous, but bounded so a hang fails with a screenshot instead of a CI timeout.
BUILD_TIMEOUT = 120_000  # first kernel start: lock + create the env + install ipykernel
ACTION_TIMEOUT = 60_000  # one add / remove / sync against the local index
DRIFT_TIMEOUT = 15_000  # the panel polls every 3 s
UI_TIMEOUT = 15_000


# Records, from before the notebook opens, what the user could see change: toast texts and the
# panel's state badge (a MutationObserver misses nothing, however fast a build is).
RECORDER_JS = """() => {
  if (window.__envlockSeen) { return; }
  const seen = (window.__envlockSeen = { toasts: [], states: [], kernel: [], events: [] });
  const t0 = performance.now();
  const stamp = () => Math.round(performance.now() - t0);
  const events = window.jupyterapp.serviceManager.events;
  if (events) {
    events.stream.connect((_, e) => {
      if (String(e.schema_id || '').includes('env-build')) {
        seen.events.push([stamp(), e.state, e.phase, e.done, e.total, e.message]);
      }
    });
  }
  const record = () => {
    for (const toast of document.querySelectorAll('.Toastify__toast')) {
      const text = (toast.textContent || '').trim();
      if (text && !seen.toasts.includes(text)) { seen.toasts.push(text); }
    }
    const badge = document.querySelector('[data-testid="envlock-state"]');
    const state = badge ? badge.dataset.state : null;
    if (state && (seen.states[seen.states.length - 1] || [])[1] !== state) {
      seen.states.push([stamp(), state]);
    }
    const indicator = document.querySelector(
      '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator'
    );
    const kernel = indicator ? indicator.dataset.status : null;
    if (kernel && (seen.kernel[seen.kernel.length - 1] || [])[1] !== kernel) {
      seen.kernel.push([stamp(), kernel]);
    }
  };
  new MutationObserver(record).observe(document.body, {
    subtree: true, childList: true, characterData: true, attributes: true,
    attributeFilter: ['data-state', 'data-status', 'class']
  });
  record();
}"""


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def offline_env(
    local_index: Any, uv_cache_dir: Path, pyenv_pythons: dict[str, Path], tmp_path_factory: Any
) -> Iterator[None]:
    """``envlock_env`` for a whole module: scrubbed pip/uv settings, the local index only.

    The lab server subprocess (and through it uv and the kernels) inherits these.
    """
    with pytest.MonkeyPatch.context() as mp:
        cache = tmp_path_factory.mktemp("envlock-cache")
        isolate(mp, offline_settings(local_index.url, uv_cache_dir, cache, pyenv_pythons))
        yield


@pytest.fixture(scope="module")
def panel_root(tmp_path_factory: Any) -> Path:
    """The server root: one project, ``sales/``, with no lock and no env yet, and a notebook
    whose metadata asks for the project kernel."""
    root = tmp_path_factory.mktemp("lab-root")
    project = root / PROJECT
    project.mkdir()
    (project / "pyproject.toml").write_text(
        "[project]\n"
        f'name = "{PROJECT}"\n'
        'version = "0.1.0"\n'
        'requires-python = ">=3.10"\n'
        "dependencies = []\n"
    )
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": "first",
                "metadata": {},
                "outputs": [],
                "source": [],
            }
        ],
        "metadata": {
            "kernelspec": {"name": KERNEL, "display_name": DISPLAY_NAME, "language": "python"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (project / NOTEBOOK).write_text(json.dumps(notebook, indent=1))
    return root


@pytest.fixture(scope="module")
def panel_server(
    offline_env: None, panel_root: Path, lab_harness: Any, tmp_path_factory: Any
) -> Iterator[Any]:
    """One ``jupyter lab`` for the module (starting one costs seconds)."""
    with lab_harness.run_lab_server(
        panel_root, tmp_path_factory.mktemp("lab-server"), "test_panel"
    ) as server:
        yield server


@pytest.fixture(scope="module")
def page(browser: Any, panel_server: Any, lab_harness: Any) -> Iterator[Any]:
    """One JupyterLab page for the whole story; the recorder is installed before anything opens."""
    console: list[str] = []
    with lab_harness.open_lab_page(browser, panel_server, console, "test_panel") as lab_page:
        lab_page.evaluate(RECORDER_JS)
        try:
            yield lab_page
        finally:  # what the user saw, with times (ms): for the failure of a step
            try:
                observed = lab_page.evaluate("() => window.__envlockSeen")
            except Exception as error:  # noqa: BLE001 - must not mask the test's outcome
                observed = {"error": str(error)}
            (lab_harness.ARTIFACTS / "test_panel.seen.json").write_text(
                json.dumps(observed, indent=1)
            )


@pytest.fixture(scope="module")
def shots(lab_harness: Any) -> Path:
    """Where the named screenshots go."""
    lab_harness.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return lab_harness.ARTIFACTS


@pytest.fixture(autouse=True)
def _stop_after_a_failure(request: pytest.FixtureRequest) -> None:
    """The tests are one story: once a step failed, the later ones would only fail confusingly.
    (``STORY`` makes the conftest record the failed step on the module.)"""
    failed = getattr(request.module, "failed_step", None)
    if failed:
        pytest.skip(f"an earlier step failed: {failed}")


STORY = True


# --------------------------------------------------------------------------- helpers


def panel(page: Any) -> Any:
    return page.get_by_test_id("envlock-panel")


def state_badge(page: Any) -> Any:
    return panel(page).get_by_test_id("envlock-state")


def dep_row(page: Any, name: str) -> Any:
    return panel(page).locator(f'[data-testid="envlock-dep-row"][data-name="{name}"]')


def open_panel(page: Any) -> None:
    """Click the Environment tab of the right sidebar (if the panel is not shown already)."""
    if not panel(page).is_visible():
        page.locator(
            '.jp-SideBar.jp-mod-right .lm-TabBar-tab[data-id="jupyter-envlock:panel"]'
        ).click()
    expect(panel(page)).to_be_visible(timeout=UI_TIMEOUT)


def cells(page: Any) -> Any:
    return page.locator(".jp-NotebookPanel:visible .jp-Notebook .jp-Cell")


def run_in_new_cell(page: Any, code: str) -> Any:
    """Type ``code`` into the notebook's last cell as a user would and run it with Shift+Enter;
    returns that cell (JupyterLab then adds an empty cell below)."""
    index = cells(page).count() - 1
    cell = cells(page).nth(index)  # pinned: `.last` would move to the cell Shift+Enter adds
    editor = cell.locator(".cm-content")
    editor.click()
    expect(cell).to_have_class(re.compile(r"\bjp-mod-active\b"), timeout=UI_TIMEOUT)
    page.keyboard.type(code)
    expect(editor).to_have_text(code, timeout=UI_TIMEOUT)
    page.keyboard.press("Shift+Enter")
    return cell


def cell_output(cell: Any) -> Any:
    return cell.locator(".jp-OutputArea-output")


def seen(page: Any) -> dict[str, list[Any]]:
    return page.evaluate("() => window.__envlockSeen")


def state_mark(page: Any) -> int:
    """A bookmark in the recorded badge states (see ``states_since``)."""
    return len(seen(page)["states"])


def states_since(page: Any, mark: int) -> list[str]:
    """The badge states shown since ``mark``, in order, without repeats."""
    return [state for _, state in seen(page)["states"][mark:]]


def assert_no_flash(states: list[str]) -> None:
    """An action or build shows ``building`` and then its outcome, never the state from before it
    or the server's ``busy`` (another command holding the lock) as if it were drift."""
    assert set(states) <= {"building", "in-sync"}, states


def kernel_status(page: Any) -> Any:
    """The notebook toolbar's kernel status: what a user watches while a kernel starts."""
    return page.locator(".jp-NotebookPanel:visible .jp-Notebook-ExecutionIndicator")


# --------------------------------------------------------------------------- the story


def test_launcher_shows_the_project_kernel(page: Any, shots: Path) -> None:
    launcher = page.locator(".jp-Launcher:visible")
    card = launcher.locator(f'.jp-LauncherCard[data-category="Notebook"][title="{DISPLAY_NAME}"]')
    expect(card).to_be_visible(timeout=UI_TIMEOUT)
    expect(card).to_contain_text(DISPLAY_NAME)
    logo = card.locator(".jp-LauncherCard-icon img")
    expect(logo).to_have_attribute("src", re.compile(rf"kernelspecs/{KERNEL}/logo"))
    # the logo is the project kernel's own resource and it loaded (not a broken image)
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=logo.element_handle(), timeout=UI_TIMEOUT
    )
    launcher.screenshot(path=str(shots / "launcher.png"))


def test_opening_the_notebook_builds_the_env_with_progress(page: Any, shots: Path) -> None:
    open_panel(page)
    expect(panel(page).get_by_test_id("envlock-no-project")).to_be_visible(timeout=UI_TIMEOUT)

    # open sales/analysis.ipynb from the file browser
    listing = page.locator(".jp-DirListing-content")
    listing.get_by_text(PROJECT, exact=True).dblclick()
    listing.get_by_text(NOTEBOOK, exact=True).dblclick()
    expect(page.locator(".jp-NotebookPanel:visible")).to_be_visible(timeout=UI_TIMEOUT)

    # the kernel start builds the env: a progress notification names the project and the phase
    progress = page.locator(
        ".jp-Notification-Toast-in-progress", has_text=f"Environment {PROJECT}:"
    )
    expect(progress).to_be_visible(timeout=BUILD_TIMEOUT)
    page.screenshot(path=str(shots / "build-progress.png"))

    # ... then success (the same toast turns into "is ready"), and the panel shows the project
    page.wait_for_function(
        "text => window.__envlockSeen.toasts.some(t => t.includes(text))",
        arg=f"Environment {PROJECT} is ready",
        timeout=BUILD_TIMEOUT,
    )
    expect(state_badge(page)).to_have_attribute("data-state", "in-sync", timeout=ACTION_TIMEOUT)
    expect(panel(page).get_by_test_id("envlock-project-name")).to_have_text(PROJECT)
    expect(panel(page).get_by_test_id("envlock-kernel-name")).to_have_text(KERNEL)
    expect(panel(page).get_by_test_id("envlock-python")).to_have_text(re.compile(r"^3\.\d+\.\d+"))
    expect(page.get_by_test_id("envlock-statusbar")).to_have_text(f"envlock: {PROJECT} · in-sync")
    expect(kernel_status(page)).to_have_attribute("data-status", "idle", timeout=ACTION_TIMEOUT)

    observed = seen(page)
    toasts = "\n".join(observed["toasts"])
    # while it ran: the phase, e.g. "Environment sales: install — Installing packages ..."
    assert re.search(rf"Environment {PROJECT}: (resolve|create|install)\b", toasts), toasts
    # at the end: how many packages, e.g. "Environment sales is ready: ... (install 30/30)" (uv
    # reports them as it finishes, within milliseconds: the live toast may skip the counts)
    ready = re.search(rf"Environment {PROJECT} is ready: .*\(install (\d+)/(\d+)\)", toasts)
    assert ready, toasts
    assert ready[1] == ready[2] and int(ready[1]) > 5, toasts  # ipykernel and its dependencies
    states = states_since(page, 0)
    assert states[0] == "no-lock", states  # the notebook's project, before its kernel started
    assert states[1] == "building", states
    assert_no_flash(states[1:])
    assert states[-1] == "in-sync", states
    page.screenshot(path=str(shots / "kernel-ready.png"))


def test_add_from_the_panel(page: Any) -> None:
    add_posts: list[str] = []
    page.on(
        "request",
        lambda request: (
            add_posts.append(request.post_data or "")
            if request.method == "POST"
            and request.url.split("?")[0].endswith("jupyter-envlock/project/add")
            else None
        ),
    )
    field = panel(page).get_by_test_id("envlock-add-input")
    button = panel(page).get_by_test_id("envlock-add-button")

    # an invalid requirement: the inline error says why, nothing is sent
    field.fill("tinyd ==")
    button.click()
    invalid = panel(page).get_by_test_id("envlock-add-invalid")
    expect(invalid).to_be_visible(timeout=UI_TIMEOUT)
    expect(invalid).to_contain_text("version specifier")
    expect(field).to_have_attribute("aria-invalid", "true")
    # typing again clears the message
    field.fill("tinyd")
    expect(invalid).to_be_hidden()

    # a double click sends one request: the action is disabled while it runs
    mark = state_mark(page)
    button.dblclick()
    row = dep_row(page, "tinyd")
    expect(row).to_be_visible(timeout=ACTION_TIMEOUT)
    expect(row.get_by_test_id("envlock-dep-locked")).to_have_text("1.1.0")
    expect(row).to_have_attribute("data-group", "")
    expect(field).to_have_value("")
    expect(state_badge(page)).to_have_attribute("data-state", "in-sync", timeout=ACTION_TIMEOUT)
    expect(panel(page).get_by_test_id("envlock-report")).to_contain_text("tinyd 1.1.0")
    assert len(add_posts) == 1, add_posts
    assert_no_flash(states_since(page, mark))
    assert json.loads(add_posts[0])["specs"] == ["tinyd"]
    expect(panel(page).get_by_test_id("envlock-error")).to_have_count(0)


def test_add_from_a_cell_shows_in_the_panel(page: Any) -> None:
    mark = state_mark(page)
    cell = run_in_new_cell(page, "%dep add tinya")
    expect(cell_output(cell).first).to_contain_text("tinya", timeout=ACTION_TIMEOUT)
    # the panel follows without a reload
    row = dep_row(page, "tinya")
    expect(row).to_be_visible(timeout=DRIFT_TIMEOUT)
    expect(row.get_by_test_id("envlock-dep-locked")).to_have_text("2.0.0")
    expect(dep_row(page, "tinyd")).to_be_visible()
    expect(state_badge(page)).to_have_attribute("data-state", "in-sync", timeout=ACTION_TIMEOUT)
    # while %dep held the project's lock the server said "busy": shown as building, not drift
    assert_no_flash(states_since(page, mark))

    # ... and the kernel imports it in the next cell
    cell = run_in_new_cell(page, "import tinya; print('tinya', tinya.__version__)")
    expect(cell_output(cell)).to_have_text("tinya 2.0.0", timeout=ACTION_TIMEOUT)


def test_remove_from_the_panel_prompts_a_restart(page: Any, shots: Path) -> None:
    mark = state_mark(page)
    panel(page).get_by_test_id("envlock-remove-tinyd").click()
    expect(dep_row(page, "tinyd")).to_have_count(0, timeout=ACTION_TIMEOUT)
    prompt = panel(page).get_by_test_id("envlock-restart-prompt")
    expect(prompt).to_be_visible(timeout=UI_TIMEOUT)
    expect(state_badge(page)).to_have_attribute("data-state", "in-sync", timeout=ACTION_TIMEOUT)
    page.mouse.move(1, 1)
    panel(page).screenshot(path=str(shots / "restart-prompt.png"))

    restart = prompt.get_by_test_id("envlock-restart-kernel")
    expect(restart).to_be_enabled()
    kernel_mark = len(seen(page)["kernel"])
    restart.click()
    expect(prompt).to_be_hidden(timeout=UI_TIMEOUT)
    # the toolbar's kernel indicator goes through restarting and back to idle
    page.wait_for_function(
        """mark => {
          const after = window.__envlockSeen.kernel.slice(mark).map(([, status]) => status);
          return after.includes('restarting') && after[after.length - 1] === 'idle';
        }""",
        arg=kernel_mark,
        timeout=ACTION_TIMEOUT,
    )

    # a fresh kernel: nothing imported before, execution counts start again
    cell = run_in_new_cell(page, "print('tinya' in globals())")
    expect(cell_output(cell)).to_have_text("False", timeout=ACTION_TIMEOUT)
    expect(cell.locator(".jp-InputPrompt")).to_have_text("[1]:")
    assert_no_flash(states_since(page, mark))


def test_hand_edit_of_the_manifest_shows_drift_and_the_fix(
    page: Any, panel_root: Path, shots: Path
) -> None:
    manifest = panel_root / PROJECT / "pyproject.toml"
    text = manifest.read_text()
    edited, count = re.subn(r"(?m)^dependencies = \[", 'dependencies = ["tinyb", ', text)
    assert count == 1, text
    manifest.write_text(edited)  # as a git pull would

    expect(state_badge(page)).to_have_attribute(
        "data-state", "lock-out-of-date", timeout=DRIFT_TIMEOUT
    )
    statusbar = page.get_by_test_id("envlock-statusbar")
    expect(statusbar).to_have_attribute("data-state", "lock-out-of-date", timeout=DRIFT_TIMEOUT)
    expect(statusbar).to_contain_text("lock-out-of-date")
    fix = panel(page).get_by_test_id("envlock-fix")
    expect(fix).to_have_text("Re-lock and sync")
    page.screenshot(path=str(shots / "drift.png"))

    mark = state_mark(page)
    fix.click()
    expect(state_badge(page)).to_have_attribute("data-state", "in-sync", timeout=ACTION_TIMEOUT)
    expect(statusbar).to_have_attribute("data-state", "in-sync", timeout=UI_TIMEOUT)
    expect(dep_row(page, "tinyb").get_by_test_id("envlock-dep-locked")).to_have_text("1.0.0")
    expect(fix).to_be_hidden()
    expect(panel(page).get_by_test_id("envlock-report")).to_contain_text("tinyb 1.0.0")
    assert_no_flash(states_since(page, mark))
    expect(panel(page).get_by_test_id("envlock-error")).to_have_count(0)


def _background(page: Any) -> str:
    return panel(page).evaluate("node => getComputedStyle(node).backgroundColor")


def _set_theme(page: Any, theme: str, light: bool) -> None:
    page.evaluate(
        "theme => window.jupyterapp.commands.execute('apputils:change-theme', {theme})", theme
    )
    page.wait_for_function(
        "light => document.body.dataset.jpThemeLight === String(light)",
        arg=light,
        timeout=UI_TIMEOUT,
    )


def test_light_and_dark_themes(page: Any, shots: Path) -> None:
    expect(state_badge(page)).to_have_attribute("data-state", "in-sync")
    light = _background(page)
    page.mouse.move(1, 1)  # no hover highlight in the pictures
    panel(page).screenshot(path=str(shots / "panel-light.png"))
    try:
        _set_theme(page, "JupyterLab Dark", light=False)
        page.wait_for_function(
            "([node, before]) => getComputedStyle(node).backgroundColor !== before",
            arg=[panel(page).element_handle(), light],
            timeout=UI_TIMEOUT,
        )
        dark = _background(page)
        panel(page).screenshot(path=str(shots / "panel-dark.png"))
    finally:
        _set_theme(page, "JupyterLab Light", light=True)
    assert dark != light

    def luminance(css: str) -> float:
        r, g, b = (int(v) for v in re.findall(r"\d+", css)[:3])
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    assert luminance(dark) < luminance(light), (light, dark)
    page.wait_for_function(
        "([node, before]) => getComputedStyle(node).backgroundColor === before",
        arg=[panel(page).element_handle(), light],
        timeout=UI_TIMEOUT,
    )
