"""A project in sync in the Environment panel: the panel follows JupyterLab's light and dark
themes, and a hand edit of pyproject.toml (as a git pull makes) shows as drift in the panel and
the status bar, fixed with one click.

Starts from the project's notebook open with its env in sync (``notebook_in_sync``). The two
tests do not depend on each other; the theme test changes nothing of the project and comes
first, the drift test edits it and comes last.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from panel_helpers import (
    ACTION_TIMEOUT,
    DRIFT_TIMEOUT,
    PROJECT,
    UI_TIMEOUT,
    assert_no_flash,
    dep_row,
    panel,
    state_badge,
    state_mark,
    states_since,
)
from playwright.sync_api import expect

pytestmark = pytest.mark.usefixtures("notebook_in_sync")


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
