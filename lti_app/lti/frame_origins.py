"""Which origins may frame Stint, per registered platform, kept per process.

Cost: one query for all platforms every 30 seconds per process, plus one small query the first
time a process sees a course in those 30 seconds; a launch records its course's platform, so the
pages that follow it need none. Registering or changing a platform forgets everything at once.
"""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from lti_app.extensions import db
from lti_app.lms.registry import adapter_for_kind
from lti_app.models import Course, Platform

_CACHE_SECONDS = 30.0
_COURSE_CACHE_LIMIT = 100_000
_lock = threading.Lock()
# (time loaded, platform id -> its origins, every platform's origins)
_cached: tuple[float, dict[int, tuple[str, ...]], tuple[str, ...]] | None = None
# course id -> platform id. Emptied with the platform cache, so a removed platform's course ids
# (SQLite may reuse them) never keep another platform's origins.
_course_platform: dict[int, int] = {}
# (platform id, origin) pairs already stored, so repeat launches skip the platform query.
known_frame_origins: set[tuple[int, str]] = set()


def origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def _platform_cache(
    reload: bool = False,
) -> tuple[dict[int, tuple[str, ...]], tuple[str, ...]]:
    """Each platform's origins and all of them together, reloaded at most every 30 seconds
    (and when ``reload`` asks)."""
    global _cached
    now = time.monotonic()
    with _lock:
        if _cached and now - _cached[0] < _CACHE_SECONDS and not reload:
            return _cached[1], _cached[2]
    by_platform: dict[int, tuple[str, ...]] = {}
    for platform in db.session.scalars(select(Platform)):
        origins: set[str] = set()
        for url in (platform.issuer, platform.auth_login_url, *(platform.frame_origins or [])):
            origin = origin_of(url)
            if origin:
                origins.add(origin)
        origins.update(adapter_for_kind(platform.lms).extra_frame_origins)
        by_platform[platform.id] = tuple(sorted(origins))
    every = tuple(sorted({o for origins in by_platform.values() for o in origins}))
    with _lock:
        _cached = (now, by_platform, every)
        # A course never changes platform; only courses of a removed platform are forgotten
        # (their ids could be reused), so a refresh costs the next pages no query.
        for course_id, platform_id in list(_course_platform.items()):
            if platform_id not in by_platform:
                del _course_platform[course_id]
    return by_platform, every


def platform_origins(platform_id: int | None = None) -> str:
    """Space-separated origins allowed to frame Stint: one platform's, or (None) every one's."""
    by_platform, every = _platform_cache()
    if platform_id is None:
        return " ".join(every)
    if platform_id not in by_platform:
        # Registered since this process last loaded the list (by the CLI or another worker):
        # its launch must be framed now, not after the next reload.
        by_platform, every = _platform_cache(reload=True)
    return " ".join(by_platform.get(platform_id, ()))


def platform_of_course(course_id: int) -> int | None:
    with _lock:
        known = _course_platform.get(course_id)
    if known is not None:
        return known
    platform_id = db.session.scalar(select(Course.platform_id).where(Course.id == course_id))
    if platform_id is not None:
        remember_course_platform(course_id, platform_id)
    return platform_id


def remember_course_platform(course_id: int, platform_id: int) -> None:
    """Record a course's platform (a launch knows it), so its viewers' pages need no query."""
    with _lock:
        if len(_course_platform) >= _COURSE_CACHE_LIMIT:
            _course_platform.clear()
        _course_platform[course_id] = platform_id


def forget_origins() -> None:
    global _cached
    with _lock:
        _cached = None
        _course_platform.clear()
        known_frame_origins.clear()


_FORGET_KEY = "stint_forget_frame_origins"


def forget_after_transaction() -> None:
    """Forget the memo once the current transaction ends (a platform was added or changed).

    Forgetting earlier would let a request of this process reload the old list before the
    change is committed and keep it for 30 seconds; forgetting after a rollback costs a query.
    """
    db.session.info[_FORGET_KEY] = True


def _on_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and session.info.pop(_FORGET_KEY, False):
        forget_origins()


def install() -> None:
    """Listen on every session's transaction end (idempotent); called by create_app."""
    if not event.contains(Session, "after_transaction_end", _on_transaction_end):
        event.listen(Session, "after_transaction_end", _on_transaction_end)
