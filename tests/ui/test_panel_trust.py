"""A colleague's repository, not trusted yet, opened in a real JupyterLab (issue 9).

The `sales` project is not in the user's trust store. Opening its notebook starts its kernel by
itself; envlock refuses that start before anything is built or run. The panel shows the trust
card (what building would do, a "Trust and build" button, the terminal command), the badge says
`untrusted`, and a toast offers to review it. Clicking "Trust and build" trusts the project,
builds its env with the usual progress and starts the notebook's kernel. Screenshots:
test-artifacts/trust-card.png (and docs/images/trust-card.png with ENVLOCK_DOCS_IMAGES=1). One
story (``STORY``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from panel_helpers import (
    BUILD_TIMEOUT,
    PROJECT,
    UI_TIMEOUT,
    kernel_status,
    layout_problems,
    open_notebook,
    open_panel,
    panel,
    seen,
    state_badge,
    wait_for_kernel_started,
    write_project,
)
from playwright.sync_api import expect

from jupyter_envlock.core import operations

STORY = True


@pytest.fixture(scope="module")
def panel_root(offline_env: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server root with the `sales` project as a clone brings it: its lock committed, not
    trusted here."""
    root = tmp_path_factory.mktemp("lab-root")
    write_project(root, trusted=False)
    operations.lock(root / PROJECT)
    return root


def trust_card(page: Any) -> Any:
    return panel(page).get_by_test_id("envlock-trust-card")


def test_opening_the_notebook_of_an_untrusted_project_builds_nothing(
    page: Any, panel_root: Path
) -> None:
    open_panel(page)
    open_notebook(page)  # JupyterLab starts the kernel the notebook names, by itself
    # JupyterLab says the start failed, with envlock's reason
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_be_visible(timeout=BUILD_TIMEOUT)
    expect(dialog).to_contain_text("not trusted", timeout=UI_TIMEOUT)
    expect(dialog).to_contain_text("jupyter envlock trust --project")
    dialog.locator(".jp-Dialog-button").last.click()
    # ... then offers another kernel: the user declines, and turns to the panel
    select = page.locator(".jp-Dialog", has_text="Select Kernel")
    expect(select).to_be_visible(timeout=UI_TIMEOUT)
    select.get_by_role("button", name="No Kernel").click()
    expect(page.locator(".jp-Dialog")).to_have_count(0, timeout=UI_TIMEOUT)
    # the toast says why the kernel did not start, and offers to review it
    toast = page.locator(".Toastify__toast", has_text=f"Project {PROJECT} is not trusted")
    expect(toast).to_be_visible(timeout=UI_TIMEOUT)
    expect(toast.get_by_role("button", name="Review")).to_be_visible()
    # nothing was built: no env in envlock's cache
    envs = Path(os.environ["JUPYTER_ENVLOCK_CACHE_DIR"]) / "envs"
    assert not envs.exists() or not any(envs.iterdir())


def test_the_trust_card_shows_what_building_would_do(page: Any, doc_shot: Any) -> None:
    card = trust_card(page)
    expect(card).to_be_visible(timeout=UI_TIMEOUT)
    expect(state_badge(page)).to_have_attribute("data-state", "untrusted", timeout=UI_TIMEOUT)
    expect(page.get_by_test_id("envlock-statusbar")).to_have_text(f"envlock: {PROJECT} · untrusted")
    expect(card).to_contain_text("This project is not trusted yet")
    plan = card.get_by_test_id("envlock-trust-plan")
    expect(plan).to_have_text(
        re.compile(r"^Installs \d+ packages from http://127\.0\.0\.1:\d+/simple$")
    )
    expect(card).to_contain_text("jupyter envlock trust --project")
    expect(card.get_by_test_id("envlock-trust")).to_be_enabled()
    # the actions that would build are off until then
    expect(panel(page).get_by_test_id("envlock-sync")).to_be_disabled()
    expect(panel(page).get_by_test_id("envlock-add-button")).to_be_disabled()
    expect(panel(page).get_by_test_id("envlock-fix")).to_have_count(0)
    # the card's long URL and path wrap between folders, nothing is clipped or overflows
    assert layout_problems(card) == {"split": [], "clipped": [], "overflow": False}
    page.wait_for_timeout(500)  # let the toast settle for the picture
    doc_shot(page, "trust-card.png")


def test_trust_and_build_builds_with_progress_and_starts_the_kernel(
    page: Any, panel_server: Any
) -> None:
    trust_card(page).get_by_test_id("envlock-trust").click()
    # the usual progress: the kernel start builds the env, a toast follows its phases
    progress = page.locator(
        ".jp-Notification-Toast-in-progress", has_text=f"Environment {PROJECT}:"
    )
    expect(progress).to_be_visible(timeout=BUILD_TIMEOUT)
    wait_for_kernel_started(page, timeout=BUILD_TIMEOUT)
    expect(kernel_status(page)).to_have_attribute("data-status", "idle", timeout=UI_TIMEOUT)
    expect(state_badge(page)).to_have_attribute("data-state", "in-sync", timeout=BUILD_TIMEOUT)
    expect(trust_card(page)).to_have_count(0)
    expect(panel(page).get_by_test_id("envlock-sync")).to_be_enabled()
    toasts = "\n".join(seen(page)["toasts"])
    assert f"Environment {PROJECT} is ready" in toasts, toasts
    details = panel_server.api("GET", f"jupyter-envlock/project?path={PROJECT}")
    assert details["status"]["trust"]["source"] == "user"
