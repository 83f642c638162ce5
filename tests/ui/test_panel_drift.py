"""A hand edit of pyproject.toml (as a git pull makes) shows as drift in the Environment panel
and the status bar, and the panel's one-click fix brings the project back in sync.

Starts from the project's notebook open with its env in sync (``notebook_in_sync``).
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
