"""Which adapter serves a platform: by its recorded kind, Canvas cloud also by its issuer."""

from __future__ import annotations

from lti_app.lms.base import LmsAdapter
from lti_app.lms.canvas import CanvasAdapter
from lti_app.lms.generic import GenericAdapter
from lti_app.lms.moodle import MoodleAdapter
from lti_app.models import Platform

_ADAPTERS: dict[str, LmsAdapter] = {
    adapter.kind: adapter for adapter in (CanvasAdapter(), MoodleAdapter(), GenericAdapter())
}


def adapter_for(platform: Platform) -> LmsAdapter:
    """The platform's adapter; a Canvas cloud issuer is Canvas whatever kind was recorded."""
    if "instructure.com" in platform.issuer:
        return _ADAPTERS["canvas"]
    return _ADAPTERS.get(platform.lms, _ADAPTERS["other"])


def adapter_for_kind(kind: str) -> LmsAdapter:
    return _ADAPTERS.get(kind, _ADAPTERS["other"])
