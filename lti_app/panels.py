"""Sections of the instructor dashboard and the student page, contributed by each feature.

Each feature registers a function that renders its panel for (viewer, activity); the page view
renders them in order. Features stay in their own modules and templates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from markupsafe import Markup

if TYPE_CHECKING:
    from lti_app.auth import Viewer
    from lti_app.models import Activity

PanelRenderer = Callable[["Viewer", "Activity"], str | Markup | None]


@dataclass(frozen=True)
class Panel:
    order: int
    name: str
    render: PanelRenderer


_panels: dict[str, dict[str, Panel]] = {"instructor": {}, "student": {}}


def register_panel(page: str, name: str, order: int) -> Callable[[PanelRenderer], PanelRenderer]:
    """Decorator: add a panel to the ``instructor`` dashboard or the ``student`` page."""

    def decorator(fn: PanelRenderer) -> PanelRenderer:
        _panels[page][name] = Panel(order, name, fn)
        return fn

    return decorator


def render_panels(page: str, viewer: Viewer, activity: Activity) -> list[Markup]:
    rendered = []
    for panel in sorted(_panels[page].values(), key=lambda p: p.order):
        html = panel.render(viewer, activity)
        if html:
            # Panels are rendered by Jinja templates with autoescaping on.
            rendered.append(Markup(html))  # noqa: S704
    return rendered
