"""The layout check the panel stories use (``panel_helpers.LAYOUT_CHECK_JS``) finds what it is
for: a word cut in two by a line break (seen in the panel: "quickst art"), text cut off without a
tooltip, and content wider than its box; and passes text that wraps between words. No server."""

from __future__ import annotations

from typing import Any

import pytest
from panel_helpers import layout_problems

ROW = (
    '<div id="root" style="width: 120px; font: 15px sans-serif">'
    '<div style="display: flex; gap: 8px">'
    '<span style="{name}">quickstartanalysis</span><span style="flex: none">in-sync</span>'
    "</div>{extra}</div>"
)


@pytest.fixture
def blank(browser: Any) -> Any:
    context = browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


def check(page: Any, name_style: str, extra: str = "") -> dict[str, Any]:
    page.set_content(ROW.format(name=name_style, extra=extra))
    return layout_problems(page.locator("#root"))


def test_a_word_broken_across_lines_is_found(blank: Any) -> None:
    problems = check(blank, "overflow-wrap: anywhere; min-width: 0")
    assert problems["split"] == ["quickstartanalysis"], problems


def test_ellipsis_needs_a_tooltip(blank: Any) -> None:
    clip = "min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap"
    assert check(blank, clip)["clipped"] == ["quickstartanalysis"]
    blank.locator("span").first.evaluate("node => node.title = 'quickstartanalysis'")
    assert layout_problems(blank.locator("#root")) == {
        "split": [],
        "clipped": [],
        "overflow": False,
    }


def test_sentences_and_paths_wrap_between_words(blank: Any) -> None:
    """What the panel's warnings do: words wrap at spaces, paths after each "/" (<wbr>)."""
    blank.set_content(
        '<p id="root" style="width: 120px; font: 15px sans-serif; overflow-wrap: break-word">'
        "adding here changes ../<wbr>quickstart-analysis/<wbr>pyproject.toml</p>"
    )
    assert layout_problems(blank.locator("#root")) == {
        "split": [],
        "clipped": [],
        "overflow": False,
    }
    # without the break opportunities the path is cut inside a word
    blank.set_content(
        '<p id="root" style="width: 120px; font: 15px sans-serif; overflow-wrap: break-word">'
        "adding here changes ../quickstartanalysis/pyproject.toml</p>"
    )
    assert layout_problems(blank.locator("#root"))["split"], "a cut word went unnoticed"


def test_content_wider_than_its_box_is_found(blank: Any) -> None:
    problems = check(blank, "white-space: nowrap; flex: none")
    assert problems["overflow"] is True
