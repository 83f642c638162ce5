"""The Environment panel follows JupyterLab's light and dark themes (theme variables only).

Starts from the project's notebook open with its env in sync (``notebook_in_sync``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from panel_helpers import UI_TIMEOUT, panel, state_badge
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
