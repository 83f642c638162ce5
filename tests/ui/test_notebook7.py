"""The extension in Jupyter Notebook 7 (issue 12, item 10), with the same harness: `jupyter
notebook` on a free port, the project's notebook opened at /notebooks/... as a user does.

Notebook 7 has no status bar: the project's state and the build progress show in the notebook's
toolbar. The panel opens from View › Right Sidebar; the restart prompt offers restart-and-run (the
command exists there too) and the missing-import button works as in JupyterLab. The steps build
on each other (``STORY``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from panel_helpers import (
    ACTION_TIMEOUT,
    BUILD_TIMEOUT,
    PROJECT,
    UI_TIMEOUT,
    assert_counts_never_overflow,
    cell_output,
    cells,
    dep_row,
    panel,
    run_cell,
    seen,
    wait_for_kernel_started,
    write_project,
)
from playwright.sync_api import expect

STORY = True
RESTART_AND_RUN = "notebook:restart-and-run-to-selected"


@pytest.fixture(scope="module")
def panel_root(offline_env: None, tmp_path_factory: Any) -> Path:
    root = tmp_path_factory.mktemp("nb7-root")
    write_project(
        root, deps=("tinyd",), sources=("import tinyd\nprint('tinyd', tinyd.__version__)", "")
    )
    return root


@pytest.fixture
def page(notebook7_page: Any) -> Any:
    return notebook7_page


def toolbar_item(page: Any) -> Any:
    return page.locator(".jp-NotebookPanel-toolbar").get_by_test_id("envlock-toolbar")


def test_the_toolbar_shows_the_state_and_the_build(page: Any, doc_shot: Any) -> None:
    item = toolbar_item(page)
    expect(item).to_be_visible(timeout=UI_TIMEOUT)
    expect(item).to_have_text(f"envlock: {PROJECT} · in-sync", timeout=BUILD_TIMEOUT)
    wait_for_kernel_started(page, timeout=BUILD_TIMEOUT)
    expect(page.get_by_test_id("envlock-statusbar")).to_have_count(0)  # no status bar here
    shown = seen(page)["items"]
    # the kernel start built the env: the item said so while it ran, then in-sync
    working = [t for t in shown if not t.endswith(("in-sync", "no-lock", "unknown"))]
    assert working, shown
    assert_counts_never_overflow(shown)
    page.mouse.move(1, 1)
    doc_shot(page.locator(".jp-NotebookPanel-toolbar"), "notebook7-toolbar.png")


def test_the_panel_opens_from_view_right_sidebar(page: Any, doc_shot: Any) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^View$")).click()
    page.locator(".lm-Menu-itemLabel", has_text="Right Sidebar").click()
    page.locator(".lm-Menu-itemLabel", has_text="Show Project environment (envlock)").click()
    expect(panel(page)).to_be_visible(timeout=UI_TIMEOUT)
    expect(panel(page).get_by_test_id("envlock-project-name")).to_have_text(PROJECT)
    expect(dep_row(page, "tinyd").get_by_test_id("envlock-dep-locked")).to_have_text("1.1.0")
    page.mouse.move(1, 1)
    doc_shot(page, "notebook7-panel.png")


def test_the_restart_prompt_restarts_and_runs(page: Any, doc_shot: Any) -> None:
    assert page.evaluate("id => window.jupyterapp.commands.hasCommand(id)", RESTART_AND_RUN)
    cell = run_cell(page, 0)
    expect(cell_output(cell)).to_have_text("tinyd 1.1.0", timeout=ACTION_TIMEOUT)

    panel(page).get_by_test_id("envlock-remove-tinyd").click()
    expect(dep_row(page, "tinyd")).to_have_count(0, timeout=ACTION_TIMEOUT)
    prompt = panel(page).get_by_test_id("envlock-restart-prompt")
    expect(prompt).to_be_visible(timeout=UI_TIMEOUT)
    page.mouse.move(1, 1)
    doc_shot(prompt, "notebook7-restart.png")
    prompt.get_by_test_id("envlock-restart-and-run").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_be_visible(timeout=UI_TIMEOUT)
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    expect(prompt).to_be_hidden(timeout=UI_TIMEOUT)
    # a new kernel ran the cells up to the selected one: tinyd is gone now, so the hint shows
    failed = cells(page).nth(0)
    expect(failed.get_by_test_id("envlock-missing-import")).to_be_visible(timeout=ACTION_TIMEOUT)
    expect(cell_output(failed).filter(has_text="ModuleNotFoundError")).to_have_count(1)


def test_the_missing_import_button(page: Any) -> None:
    failed = cells(page).nth(0)
    button = failed.get_by_test_id("envlock-missing-import-action")
    expect(button).to_have_text("Add tinyd to the project")
    button.click()
    expect(dep_row(page, "tinyd")).to_be_visible(timeout=ACTION_TIMEOUT)
    # the cell ran again: the hint and the error are replaced by what it prints
    expect(failed.get_by_test_id("envlock-missing-import")).to_have_count(0, timeout=ACTION_TIMEOUT)
    expect(cell_output(failed)).to_have_text("tinyd 1.1.0", timeout=ACTION_TIMEOUT)
    expect(toolbar_item(page)).to_have_text(f"envlock: {PROJECT} · in-sync", timeout=UI_TIMEOUT)
