"""Markdown from partners and students becomes safe HTML: no script, raw HTML or unsafe URLs."""

from __future__ import annotations

from html.parser import HTMLParser
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from lti_app.markdown import ALLOWED_TAGS, ALLOWED_URL_SCHEMES, render_markdown


class _Elements(HTMLParser):
    """Collects the real elements of the output (escaped text is not an element)."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))


def assert_only_safe_markup(html: str) -> None:
    parser = _Elements()
    parser.feed(html)
    for tag, attrs in parser.elements:
        assert tag in ALLOWED_TAGS, (tag, html)
        for name, value in attrs:
            assert not name.startswith("on") and name != "style", (name, html)
            if name == "href":
                scheme = (value or "").split(":", 1)[0].strip().lower()
                assert ":" not in (value or "") or scheme in ALLOWED_URL_SCHEMES, (value, html)


def test_formatting_survives() -> None:
    html = render_markdown("# Brief\n\nBuild a **landing page** with *care*.\n\n- one\n- two")
    assert isinstance(html, Markup)
    assert "<h1>Brief</h1>" in html
    assert "<strong>landing page</strong>" in html
    assert "<em>care</em>" in html
    assert "<li>one</li>" in html


def heading_levels(html: str) -> list[int]:
    parser = _Elements()
    parser.feed(html)
    return [int(tag[1]) for tag, _ in parser.elements if tag in {f"h{n}" for n in range(1, 7)}]


def test_headings_continue_the_outline_of_the_section_they_are_placed_in() -> None:
    html = render_markdown("# Top\n\n###### Deep", heading_offset=2)
    assert "<h3>Top</h3>" in html
    assert "<h4>Deep</h4>" in html


def test_a_brief_starting_at_h2_is_not_demoted_twice() -> None:
    """The case axe reported: an author's ``## Goal`` under the page's h2 became an h4."""
    html = render_markdown("## Goal\n\nText.\n\n### Scope\n\n## Timeline", heading_offset=2)
    assert heading_levels(html) == [3, 4, 3]


def test_skipped_levels_are_closed_up_and_siblings_stay_siblings() -> None:
    source = "# Brief\n\n### Goal\n\n##### Detail\n\n### Scope\n\n## Contacts\n\n# Annex"
    assert heading_levels(render_markdown(source, heading_offset=2)) == [3, 4, 5, 4, 4, 3]


def test_a_heading_higher_than_the_first_stays_inside_the_section() -> None:
    assert heading_levels(render_markdown("### Goal\n\n# Annex", heading_offset=3)) == [4, 4]


def test_headings_never_go_past_h6() -> None:
    source = "# a\n## b\n### c\n#### d\n##### e"
    assert heading_levels(render_markdown(source, heading_offset=3)) == [4, 5, 6, 6, 6]


@settings(max_examples=200)
@given(
    levels=st.lists(st.integers(min_value=1, max_value=6), min_size=1, max_size=12),
    offset=st.integers(min_value=0, max_value=5),
)
def test_any_headings_follow_the_page_without_skipping(levels: list[int], offset: int) -> None:
    source = "\n\n".join(f"{'#' * level} Heading {index}" for index, level in enumerate(levels))
    result = heading_levels(render_markdown(source, heading_offset=offset))
    assert len(result) == len(levels)
    assert result[0] == offset + 1
    for before, after in pairwise([offset, *result]):
        assert offset < after <= min(before + 1, 6)
    # The nesting the author wrote is kept: deeper stays deeper, shallower stays shallower.
    for (written_a, written_b), (new_a, new_b) in zip(
        pairwise(levels), pairwise(result), strict=True
    ):
        if written_b > written_a:
            assert new_b >= new_a
        if written_b < written_a:
            assert new_b <= new_a


def test_links_keep_safe_schemes_and_get_rel() -> None:
    html = render_markdown("[site](https://example.com) and [mail](mailto:a@example.com)")
    assert 'href="https://example.com"' in html
    assert 'href="mailto:a@example.com"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
        '<img src=x onerror="alert(1)">',
        '<a href="javascript:alert(1)">click</a>',
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](  javascript:alert(1))",
        "[click](java&#115;cript:alert(1))",
        "[click](vbscript:msgbox(1))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "![x](javascript:alert(1))",
        '<iframe src="https://evil.example"></iframe>',
        '<div style="background:url(javascript:alert(1))">x</div>',
        "<svg onload=alert(1)>",
        "[x]: javascript:alert(1)\n\n[click][x]",
    ],
)
def test_dangerous_input_never_becomes_markup(source: str) -> None:
    assert_only_safe_markup(str(render_markdown(source)))


def test_empty_input_is_empty_markup() -> None:
    assert render_markdown("") == Markup("")
    assert render_markdown(None) == Markup("")
    assert render_markdown("   \n") == Markup("")


@settings(max_examples=300)
@given(st.text(alphabet=st.sampled_from(list("<>\"'=/:[]()!#*&; \nabcjsvrptoneEl")), max_size=80))
def test_no_generated_text_produces_active_content(source: str) -> None:
    assert_only_safe_markup(str(render_markdown(source)))
