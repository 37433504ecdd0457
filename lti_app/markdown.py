"""Markdown written by people (project briefs, statements, answers) turned into HTML safe to show.

Two layers, because each catches what the other might miss: markdown-it-py runs with raw HTML
disabled (``<script>`` stays text) and refuses unsafe link schemes, then nh3 (Ammonia) cleans the
HTML against an allow-list of tags, attributes and URL schemes. Anything written by a partner or
a student is shown to others, so it never reaches a page without passing through here.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

__all__ = ["ALLOWED_TAGS", "ALLOWED_URL_SCHEMES", "render_markdown"]

ALLOWED_TAGS = frozenset(
    {
        "a", "p", "br", "hr", "em", "strong", "del", "s", "code", "pre", "blockquote",
        "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
        "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})

# "js-default" = CommonMark with raw HTML off and linkify/typographer off; tables help briefs.
_parser = MarkdownIt("js-default").enable("table")


def render_markdown(text: str | None, *, heading_offset: int = 0) -> Markup:
    """Return sanitised HTML for ``text``; empty input gives empty markup.

    ``heading_offset`` demotes headings (``# Title`` becomes ``<h3>`` with offset 2) so a brief
    shown inside a page keeps the page's heading order, which screen-reader users navigate by.
    """
    if not text or not text.strip():
        return Markup("")
    html = _parser.render(text)
    if heading_offset:
        html = _demote_headings(html, heading_offset)
    cleaned = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return Markup(cleaned)  # noqa: S704  (cleaned by nh3 against an allow-list just above)


def _demote_headings(html: str, offset: int) -> str:
    for level in range(6, 0, -1):
        new = min(level + offset, 6)
        html = html.replace(f"<h{level}>", f"<h{new}>").replace(f"</h{level}>", f"</h{new}>")
    return html
