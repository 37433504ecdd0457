"""Server-side store for spent OIDC states and deep-linking launch data.

pylti1p3 keeps state, nonces and launch data in Flask's cookie session by default and never removes
them; the cookie outgrows the browser's 4 KB limit after a few launches and relies on third-party
cookies. Here they live in cachelib (files by default, Redis in production) and are shared by every
app server. The OIDC state itself is signed, not stored (``oidc_state``): only its use is recorded.
"""

from __future__ import annotations

import os
import struct
import time
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


def claim(cache: BaseCache, key: str, timeout: int) -> bool:
    """Mark ``key`` used for ``timeout`` seconds; true only for the first caller, ever.

    Used to spend an OIDC state: of several launches presenting it, one wins. Atomic on both
    backends (Redis ``SET NX EX``, an ``O_EXCL`` file create); cachelib's own ``add`` is not on
    files (it checks, then writes). Keys must be single use: an expired marker not yet swept
    still answers false.
    """
    if isinstance(cache, RedisCache):
        value = cache.serializer.dumps(True)
        name = cache._get_prefix() + key
        return bool(cache._write_client.set(name, value, ex=timeout, nx=True))
    if isinstance(cache, FileSystemCache):
        try:
            fd = os.open(cache._get_filename(key), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return False
        # cachelib's file format (expiry, then the value), so get() and the sweep read it.
        with os.fdopen(fd, "wb") as handle:
            handle.write(struct.pack("I", int(time.time()) + timeout))
            cache.serializer.dump(True, handle)
        return True
    return bool(cache.add(key, True, timeout=timeout))  # other backends: best effort


def sweep_expired_files(cache: BaseCache) -> int:
    """Delete expired entries of a file cache; returns how many were removed.

    The file cache is created without a size threshold (pruning on every write would cost each
    launch a directory scan), so abandoned logins are cleaned up here, by a periodic job.
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
