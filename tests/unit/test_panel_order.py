"""Every panel of a page has its own place: equal orders would leave the layout to import order."""

from __future__ import annotations

from collections import Counter

from lti_app import panels


def test_panel_orders_are_unique_per_page(app):
    # The app fixture imports every feature, so every panel is registered.
    for page, registered in panels._panels.items():
        orders = Counter(panel.order for panel in registered.values())
        clashes = {order: n for order, n in orders.items() if n > 1}
        assert not clashes, f"{page} panels share an order: {clashes}"
