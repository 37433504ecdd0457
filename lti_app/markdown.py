"""Markdown written by people (project briefs, statements, answers) turned into HTML safe to show.

Two layers, because each catches what the other might miss: markdown-it-py runs with raw HTML
disabled (``<script>`` stays text) and refuses unsafe link schemes, then nh3 (Ammonia) cleans the
HTML against an allow-list of tags, attributes and URL schemes. Anything written by a partner or
a student is shown to others, so it never reaches a page without passing through here.
"""

from __future__ import annotations

from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
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

    ``heading_offset`` is the level of the page heading the markup is placed under (2 for a
    brief inside an ``<h2>`` section). Screen-reader users move through a page by its heading
    outline, so the author's headings are re-levelled to continue it: the first becomes
    ``offset + 1`` and each deeper one only one level further, whatever the author typed
    (``## Goal`` then ``#### Detail`` under an ``<h2>`` become ``<h3>`` and ``<h4>``).
    """
    if not text or not text.strip():
        return Markup("")
    env: dict[str, Any] = {}
    tokens = _parser.parse(text, env)
    _relevel_headings(tokens, heading_offset)
    html = _parser.renderer.render(tokens, _parser.options, env)
    cleaned = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return Markup(cleaned)  # noqa: S704  (cleaned by nh3 against an allow-list just above)


def _relevel_headings(tokens: list[Token], parent_level: int) -> None:
    """Renumber heading tokens in place so they never skip a level below ``parent_level``.

    The author's levels only say which heading is inside which: a stack of the open
    (author level, new level) pairs is kept, a heading closes every open one at its level or
    deeper, and lands one below the heading still open above it (or at ``parent_level + 1``).
    Levels past 6 stay at 6, which HTML has no deeper level for.
    """
    open_headings: list[tuple[int, int]] = []
    level = 0
    for token in tokens:
        if token.type == "heading_open":
            written = int(token.tag[1:])
            while open_headings and open_headings[-1][0] >= written:
                open_headings.pop()
            level = (open_headings[-1][1] if open_headings else parent_level) + 1
            open_headings.append((written, level))
            token.tag = f"h{min(level, 6)}"
        elif token.type == "heading_close":
            token.tag = f"h{min(level, 6)}"
