"""The first open of a project notebook in a real JupyterLab, as a user meets it.

The launcher shows the project kernel; the panel asks the server only while it is shown; opening
the project's notebook starts its kernel, which builds the env (no lock, no env yet) with live
progress, and the panel follows. The tests run in file order: the notebook opens last. Everything
installs from the session's local index (tiny wheels + real ipykernel wheels): no internet.
Screenshots go to ``<repo>/test-artifacts/``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from panel_helpers import (
    ACTION_TIMEOUT,
    BUILD_TIMEOUT,
    DISPLAY_NAME,
    KERNEL,
    PROJECT,
    UI_TIMEOUT,
    assert_no_flash,
    kernel_status,
    open_notebook,
    open_panel,
    panel,
    panel_tab,
    seen,
    state_badge,
    states_since,
)
from playwright.sync_api import expect

POLL_INTERVAL_MS = 3000  # model.ts POLL_INTERVAL
WINDOW_MS = POLL_INTERVAL_MS + 1500  # long enough for one poll, short of two


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


def test_the_poll_runs_only_while_the_panel_is_shown(page: Any) -> None:
    """Before the notebook opens there is no project and no status bar item, so only the panel
    looks: while it is shown, each poll (every 3 s) re-reads the project list to find one."""
    calls: list[str] = []

    def record(request: Any) -> None:
        if "/jupyter-envlock/" in request.url:
            calls.append(request.url)

    page.on("request", record)
    try:
        page.wait_for_timeout(1000)  # the project list is read once at start
        calls.clear()
        page.wait_for_timeout(WINDOW_MS)
        assert calls == [], calls

        open_panel(page)
        page.wait_for_timeout(WINDOW_MS)
        assert len(calls) == 1 and "/jupyter-envlock/projects" in calls[0], calls

        panel_tab(page).click()
        expect(panel(page)).to_be_hidden(timeout=UI_TIMEOUT)
        page.wait_for_timeout(500)  # a request sent just before the click
        calls.clear()
        page.wait_for_timeout(WINDOW_MS)
        assert calls == [], calls
    finally:
        page.remove_listener("request", record)


def test_opening_the_notebook_builds_the_env_with_progress(page: Any, shots: Path) -> None:
    open_panel(page)
    expect(panel(page).get_by_test_id("envlock-no-project")).to_be_visible(timeout=UI_TIMEOUT)

    open_notebook(page)

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
