"""The shared cache (cachelib: files by default, Redis in production) and what goes wrong with it.

pylti1p3 keeps state, nonces and launch data in Flask's cookie session by default and never removes
them; the cookie outgrows the browser's 4 KB limit after a few launches and relies on third-party
cookies. Here deep-linking launches live in cachelib and are shared by every app server. The OIDC
state itself is signed, not stored (``oidc_state``); its first use is a row in the database
(``single_use``), so a cache restart cannot make a used launch usable again.

When Redis cannot be reached, every cache operation raises ``CacheUnavailableError``, one small
type that ``lti_app.errors`` turns into a 503 page ("try again in a minute"), never a traceback.
"""

from __future__ import annotations

import os
import struct
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from cachelib import BaseCache, FileSystemCache, RedisCache

try:  # the ``redis`` extra; a laptop install uses the file cache and may not have it
    import redis
    from redis.exceptions import ConnectionError as _RedisConnectionError
    from redis.exceptions import TimeoutError as _RedisTimeoutError

    REDIS_DOWN: tuple[type[Exception], ...] = (_RedisConnectionError, _RedisTimeoutError)
except ImportError:  # pragma: no cover - the test extras install redis
    redis = None  # type: ignore[assignment]
    REDIS_DOWN = ()

T = TypeVar("T")
# Seconds to wait for Redis before answering 503: a down host must not hang every worker.
REDIS_TIMEOUT_SECONDS = 2.0


class CacheUnavailableError(Exception):
    """The shared cache cannot be reached (Redis down, or the cache folder cannot be written)."""


def _guarded(method: Callable[..., T]) -> Callable[..., T]:
    @wraps(method)
    def call(*args: Any, **kwargs: Any) -> T:
        try:
            return method(*args, **kwargs)
        except REDIS_DOWN as exc:
            raise CacheUnavailableError(f"Redis is unreachable: {exc}") from exc

    return call


class GuardedRedisCache(RedisCache):
    """cachelib's RedisCache whose connection failures raise ``CacheUnavailableError``.

    Callers that can do without the cache (the dashboards' summaries, the roster guard) keep
    catching its errors; those that cannot (a deep-linking launch) let it reach the 503 page.
    """


for _name in (
    "get",
    "get_many",
    "get_dict",
    "set",
    "set_many",
    "add",
    "has",
    "delete",
    "delete_many",
    "inc",
    "dec",
    "clear",
):
    setattr(GuardedRedisCache, _name, _guarded(getattr(RedisCache, _name)))


def make_cache(redis_url: str | None, cache_dir: str) -> BaseCache:
    """Redis when configured (several machines), else a folder (one machine, many workers)."""
    if redis_url:
        if redis is None:  # pragma: no cover
            raise RuntimeError("REDIS_URL is set but the redis package is not installed")
        client = redis.Redis.from_url(
            redis_url,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
        )
        return GuardedRedisCache(host=client, key_prefix="stint:", default_timeout=3600)
    os.makedirs(cache_dir, exist_ok=True)
    return FileSystemCache(cache_dir, threshold=0, default_timeout=3600)


def store(cache: BaseCache, key: str, value: Any, timeout: int) -> None:
    """Set a value that must be kept (a launch the next request needs), or raise.

    cachelib's file cache reports a failed write (a full disk, a missing folder) by returning
    false; a lost deep-linking launch would surface later as "expired", so it is said now.
    """
    if not cache.set(key, value, timeout=timeout):
        raise CacheUnavailableError("the shared cache did not keep the value")


def consume(cache: BaseCache, key: str) -> Any:
    """Read a value and remove it so that only one caller ever gets it.

    Used for deep-linking launches: one response per launch. cachelib's own ``delete`` reports
    success for missing keys, so the backends are handled explicitly; both removals are atomic
    (Redis ``GETDEL``, the ``unlink`` of a file).
    """
    if isinstance(cache, RedisCache):
        name = cache._get_prefix() + key
        raw = _guarded(cache._write_client.getdel)(name)
        return None if raw is None else cache.serializer.loads(raw)
    if isinstance(cache, FileSystemCache):
        value = cache.get(key)
        if value is None:
            return None
        try:
            os.remove(cache._get_filename(key))
        except FileNotFoundError:
            return None
        return value
    value = cache.get(key)  # other backends: best effort
    if value is not None:
        cache.delete(key)
    return value


def sweep_expired_files(cache: BaseCache) -> int:
    """Delete expired entries of a file cache; returns how many were removed.

    The file cache is created without a size threshold (pruning on every write would cost each
    launch a directory scan), so abandoned entries are cleaned up here, by a periodic job.
    """
    if not isinstance(cache, FileSystemCache):
        return 0  # Redis expires keys by itself
    removed = 0
    now = time.time()
    for entry in os.scandir(cache._path):
        if not entry.is_file() or entry.name.endswith(cache._fs_transaction_suffix):
            continue
        try:
            with open(entry.path, "rb") as handle:
                expires = struct.unpack("I", handle.read(4))[0]
            if expires != 0 and expires < now:
                os.remove(entry.path)
                removed += 1
        except (OSError, struct.error):
            continue
    return removed
