"""Dependencies from the Environment panel and from a cell, in a real JupyterLab.

One story, starting from the project's notebook open with its env in sync
(``notebook_in_sync``): a dependency is added from the panel, another from a cell (the panel
follows, the kernel imports it), and the first is removed from the panel (restart prompt,
kernel restart). The steps build on each other (``STORY``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from panel_helpers import (
    ACTION_TIMEOUT,
    DRIFT_TIMEOUT,
    UI_TIMEOUT,
    assert_no_flash,
    cell_output,
    dep_row,
    panel,
    run_in_new_cell,
    seen,
    state_badge,
    state_mark,
    states_since,
)
from playwright.sync_api import expect

pytestmark = pytest.mark.usefixtures("notebook_in_sync")
STORY = True


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
