"""Which origins may frame Stint, per registered platform, kept per process.

Cost: one query for all platforms every 30 seconds per process, plus one small query the first
time a process sees a course in those 30 seconds; a launch records its course's platform, so the
pages that follow it need none.

A platform's origins are its issuer, its login URL and the LMS page origins learnt from its
launches. An LMS whose pages come from many hosts (Canvas cloud: every school on its own
``*.instructure.com`` subdomain) adds its adapter's ``extra_frame_origins`` only until a launch
has shown the platform's own origin: from then on one Canvas school cannot frame another's
users' pages.

Memos keyed by id must not outlive the row: SQLite reuses the id of a removed platform (and of
its courses), and a new platform must not inherit the old one's origins. Registering, changing
or removing a platform (or removing a course) forgets every memo of this process when the
transaction ends and writes a new *generation* token into the shared cache; every process reads
that token once per request that needs a policy and forgets its memos when it changed (one cache
read; while the cache is unreachable the memos are not trusted at all).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from cachelib import BaseCache, FileSystemCache
from flask import current_app, g, has_app_context, has_request_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction

from lti_app.extensions import db
from lti_app.lms.registry import adapter_for_kind
from lti_app.models import Course, Platform

log = logging.getLogger(__name__)

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
# The shared generation token these memos were built under (see the module docstring).
_GENERATION_KEY = "frame-origins-generation"
_REQUEST_CHECKED = "stint_frame_generation_checked"
_seen_generation: str | None = None


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
        if not platform.frame_origins:  # nothing learnt yet: the LMS's whole family of hosts
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
    _follow_other_processes()
    by_platform, every = _platform_cache()
    if platform_id is None:
        return " ".join(every)
    if platform_id not in by_platform:
        # Registered since this process last loaded the list (by the CLI or another worker):
        # its launch must be framed now, not after the next reload.
        by_platform, every = _platform_cache(reload=True)
    return " ".join(by_platform.get(platform_id, ()))


def platform_of_course(course_id: int) -> int | None:
    _follow_other_processes()
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


def _shared_cache() -> BaseCache | None:
    if not has_app_context():
        return None
    cache: BaseCache | None = current_app.extensions.get("stint_cache")
    return cache


def _new_token() -> str:
    return os.urandom(8).hex()


def _follow_other_processes() -> None:
    """Forget this process's memos if any process changed or removed a platform since.

    Read once per request (the policy asks twice: the course's platform, then its origins).
    """
    global _seen_generation
    if has_request_context():
        if g.get(_REQUEST_CHECKED):
            return
        setattr(g, _REQUEST_CHECKED, True)
    cache = _shared_cache()
    if cache is None:
        return
    try:
        generation = _read_generation(cache)
        if generation is None:  # first start, or the cache was wiped: every process resets
            cache.add(_GENERATION_KEY, _new_token(), timeout=0)
            generation = _read_generation(cache)
    except Exception:  # the cache is down: no process can announce a change, trust nothing
        generation = None
    if generation is None or generation != _seen_generation:
        forget_origins()
        _seen_generation = generation


# The generation token as last read from the file cache, with the identity of the file it was
# read from: (inode, mtime in ns, size) -> token.
_file_memo: tuple[tuple[int, int, int], Any] | None = None


def _read_generation(cache: BaseCache) -> Any:
    """The shared generation token, as ``cache.get`` would return it.

    The file cache keeps it in a file that every change replaces (a new file moved into place:
    a new modification time), and the token never expires: while ``stat`` finds the same file
    as at the last read, the token read then is still the one. A ``stat`` costs a fraction of
    the open, read and unpickle of ``get``, which every framed page (the login and the launch
    among them) paid. A file written in the last second is read every time: file times are
    coarse (a few ms), and a freed inode can be reused, so two changes within one tick could
    otherwise look alike. Redis is asked every time, as before.
    """
    global _file_memo
    if not isinstance(cache, FileSystemCache):
        return cache.get(_GENERATION_KEY)
    try:
        found = os.stat(cache._get_filename(_GENERATION_KEY))
    except FileNotFoundError:
        return None
    identity = (found.st_ino, found.st_mtime_ns, found.st_size)
    memo = _file_memo
    if memo is not None and memo[0] == identity and time.time() - found.st_mtime > 1.0:
        return memo[1]
    token = cache.get(_GENERATION_KEY)  # stat first: a file replaced meanwhile is read again
    _file_memo = (identity, token)
    return token


def _announce_change() -> None:
    """Forget here, and tell every other process to forget (a new generation token)."""
    global _seen_generation
    forget_origins()
    cache = _shared_cache()
    if cache is None:
        return
    token = _new_token()
    try:
        cache.set(_GENERATION_KEY, token, timeout=0)
    except Exception:  # the others reload within 30 s, and trust nothing while it is down
        log.warning("frame origins generation not replaced", exc_info=True)
        return
    _seen_generation = token


_FORGET_KEY = "stint_forget_frame_origins"


def forget_after_transaction() -> None:
    """Forget the memos in every process once the current transaction ends: for a bulk
    ``DELETE`` of courses or platforms, which the flush hook below cannot see."""
    db.session.info[_FORGET_KEY] = True


def _before_flush(session: Session, _context: UOWTransaction, _instances: Any) -> None:
    """A platform added, changed or removed, or a course removed: every process forgets its
    memos once the transaction ends (not earlier: a request of this process could reload the
    old list before the change is committed and keep it for 30 seconds)."""
    changed = (
        any(isinstance(obj, (Platform, Course)) for obj in session.deleted)
        or any(isinstance(obj, Platform) for obj in session.new)
        or any(isinstance(obj, Platform) for obj in session.dirty)
    )
    if changed:
        session.info[_FORGET_KEY] = True


def _on_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and session.info.pop(_FORGET_KEY, False):
        _announce_change()


def install() -> None:
    """Listen on every session's flushes and transaction ends (idempotent); by create_app."""
    if not event.contains(Session, "after_transaction_end", _on_transaction_end):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_transaction_end", _on_transaction_end)
