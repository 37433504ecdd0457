"""Time zones: the one place a zone name is checked and a datetime moves between zones.

Stint stores every datetime in UTC. A course has a time zone (an IANA name such as
``Europe/Berlin``: the one its LMS sent, else the one its instructor chose); dates are typed
and shown in it. This module is pure (stdlib ``zoneinfo``), so services, views and jobs share it.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DEFAULT_ZONE = "UTC"
# IANA names are at most a few dozen characters; a longer value is not one.
MAX_ZONE_NAME = 64


def valid_zone(name: str | None) -> str | None:
    """The IANA zone ``name`` names, or None (empty, unknown, a path, or too long)."""
    name = (name or "").strip()
    if not name or len(name) > MAX_ZONE_NAME or name.startswith(("/", ".")) or ".." in name:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def zone(name: str | None) -> tzinfo:
    """The zone of that name, UTC when it is not a valid one."""
    checked = valid_zone(name)
    return ZoneInfo(checked) if checked else UTC


def zone_names() -> list[str]:
    """Every IANA zone this machine knows, sorted (for the course setting's choices)."""
    return sorted(n for n in available_timezones() if "/" in n or n == "UTC")


def to_utc(local: datetime, zone_name: str | None) -> datetime:
    """A date typed in ``zone_name`` (naive, wall-clock) as an aware UTC datetime.

    A wall-clock time that a daylight-saving change skips or repeats is read with ``fold=0``
    (the earlier offset), as ``zoneinfo`` does: the choice every calendar makes.
    """
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    return local.replace(tzinfo=zone(zone_name)).astimezone(UTC)


def to_local(moment: datetime, zone_name: str | None) -> datetime:
    """A stored datetime (UTC; naive is read as UTC) in ``zone_name``, aware."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone(zone_name))
