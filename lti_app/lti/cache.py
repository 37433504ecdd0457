"""Server-side store for OIDC state, nonces and launch data.

pylti1p3 keeps these in Flask's cookie session by default and never removes them; the cookie
outgrows the browser's 4 KB limit after a few launches and relies on third-party cookies. Here they
live in cachelib (files by default, Redis in production) and are shared by every app server.
"""

from __future__ import annotations

import os
from typing import Any

from cachelib import BaseCache, FileSystemCache, RedisCache


def make_cache(redis_url: str | None, cache_dir: str) -> BaseCache:
    """Redis when configured (several machines), else a folder (one machine, many workers)."""
    if redis_url:
        import redis

        client = redis.Redis.from_url(redis_url)
        return RedisCache(host=client, key_prefix="stint:", default_timeout=3600)
    os.makedirs(cache_dir, exist_ok=True)
    return FileSystemCache(cache_dir, threshold=0, default_timeout=3600)


def consume(cache: BaseCache, key: str) -> Any:
    """Read a value and remove it so that only one caller ever gets it.

    Used for nonces and OIDC state: a replayed ``id_token`` finds nothing. cachelib's own
    ``delete`` reports success for missing keys, so the backends are handled explicitly; both
    removals are atomic (Redis ``GETDEL``, the ``unlink`` of a file).
    """
    if isinstance(cache, RedisCache):
        raw = cache._write_client.getdel(cache._get_prefix() + key)
        return None if raw is None else cache.load_object(raw)
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
