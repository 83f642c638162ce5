"""Which project, at any width, with progress that reads like progress: the Environment panel in a
real JupyterLab (issue 12, items 7, 8 and 11).

The server root holds the project ``quickstart-analysis`` (the name that wrapped as "quickst art")
and a folder ``other/`` with only a requirements.txt, whose notebook asks for the project's kernel,
as the notebook of a new user did. Opening the project's notebook first builds the env, with the
panel open; the steps build on each other (``STORY``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from panel_helpers import (
    ACTION_TIMEOUT,
    BUILD_TIMEOUT,
    UI_TIMEOUT,
    assert_counts_never_overflow,
    browse_to_root,
    dep_row,
    layout_problems,
    open_notebook,
    open_panel,
    panel,
    seen,
    set_right_sidebar_width,
    state_badge,
    wait_for_kernel_started,
    write_notebook,
    write_project,
)
from playwright.sync_api import expect

STORY = True
NAME = "quickstart-analysis"
KERNEL = f"envlock-{NAME}"
NO_PROBLEMS = {"split": [], "clipped": [], "overflow": False}


@pytest.fixture(scope="module")
def panel_root(offline_env: None, tmp_path_factory: Any) -> Path:
    root = tmp_path_factory.mktemp("lab-root")
    write_project(root, name=NAME, deps=("tinyb", "Mixed_Case.Name"))
    other = root / "other"
    other.mkdir()
    (other / "requirements.txt").write_text("tinya\n")
    write_notebook(other / "look.ipynb", kernel=KERNEL, display_name=f"Python ({NAME})")
    return root


def test_build_progress_reads_like_progress(page: Any, doc_shot: Any) -> None:
    open_panel(page)
    open_notebook(page, NAME, "analysis.ipynb")
    label = panel(page).get_by_test_id("envlock-progress-label")
    expect(label).to_be_visible(timeout=BUILD_TIMEOUT)
    page.mouse.move(1, 1)
    doc_shot(panel(page), "panel-progress.png")
    expect(state_badge(page)).to_have_attribute("data-state", "in-sync", timeout=BUILD_TIMEOUT)
    wait_for_kernel_started(page, timeout=BUILD_TIMEOUT)

    observed = seen(page)
    assert observed["progress"], observed
    # one short label: the phase and, when known, its counts ("install 12/30")
    for text in observed["progress"]:
        assert re.fullmatch(r"[a-z][\w-]*( \d+(/\d+)?)?", text), observed["progress"]
    # what the panel, the status bar and the toasts said never counts more done than total
    assert_counts_never_overflow(observed["progress"] + observed["items"] + observed["toasts"])
    assert any(re.search(rf"envlock: {NAME} · \w", t) for t in observed["items"]), observed


def test_the_folder_is_the_project_seen_from_the_notebook(page: Any) -> None:
    path = panel(page).get_by_test_id("envlock-project-path")
    expect(path).to_have_text(".")
    expect(path).to_have_attribute("title", re.compile(rf"{NAME} from the server root"))
    expect(panel(page).get_by_test_id("envlock-outside-warning")).to_have_count(0)


def test_the_panel_at_narrow_and_wide_widths(page: Any, doc_shot: Any) -> None:
    expect(dep_row(page, "mixed-case-name")).to_be_visible(timeout=UI_TIMEOUT)
    panel(page).get_by_test_id("envlock-tree-toggle").click()
    expect(panel(page).get_by_test_id("envlock-package-row").first).to_be_visible(
        timeout=UI_TIMEOUT
    )
    panel(page).get_by_test_id("envlock-outdated-check").click()
    expect(panel(page).get_by_test_id("envlock-outdated-summary")).to_be_visible(
        timeout=ACTION_TIMEOUT
    )
    page.mouse.move(1, 1)
    for width, shot in ((200, "panel-narrow.png"), (520, "panel-wide.png"), (300, None)):
        set_right_sidebar_width(page, width)
        page.wait_for_timeout(300)  # the layout settles after the drag
        box = panel(page).bounding_box()
        assert box
        if width == 200:
            assert box["width"] <= 260, box  # as narrow as the panel allows (min-width 240px)
        else:
            assert abs(box["width"] - width) < 30, box
        problems = layout_problems(panel(page))
        assert problems == NO_PROBLEMS, (width, problems)
        if shot:
            doc_shot(panel(page), shot)
    # the project's name is never cut mid-word: whole, or ellipsized with a tooltip
    name = panel(page).get_by_test_id("envlock-project-name")
    expect(name).to_have_attribute("title", NAME)
    panel(page).get_by_test_id("envlock-tree-toggle").click()


def test_a_notebook_outside_its_kernels_project_is_warned(page: Any, doc_shot: Any) -> None:
    browse_to_root(page)
    open_notebook(page, "other", "look.ipynb")
    warning = panel(page).get_by_test_id("envlock-outside-warning")
    expect(warning).to_be_visible(timeout=ACTION_TIMEOUT)
    expect(warning).to_contain_text(f"not inside project {NAME}")
    expect(warning).to_contain_text(KERNEL)
    expect(warning).to_contain_text(f"../{NAME}/pyproject.toml")
    expect(panel(page).get_by_test_id("envlock-project-name")).to_have_text(NAME)
    expect(panel(page).get_by_test_id("envlock-project-path")).to_have_text(f"../{NAME}")
    set_right_sidebar_width(page, 200)
    page.wait_for_timeout(300)
    assert layout_problems(panel(page)) == NO_PROBLEMS
    page.mouse.move(1, 1)
    doc_shot(panel(page), "panel-outside.png")
    set_right_sidebar_width(page, 300)
