"""The frame-origins generation token read through ``stat`` from the file cache
(lti_app/lti/frame_origins.py): a change written by another process is seen at the next read."""

from __future__ import annotations

import os
import time
from pathlib import Path

from cachelib import FileSystemCache, SimpleCache

from lti_app.lti.frame_origins import _GENERATION_KEY, _read_generation


def test_a_token_replaced_by_another_process_is_read_at_once(tmp_path: Path) -> None:
    ours, theirs = FileSystemCache(str(tmp_path), threshold=0), FileSystemCache(str(tmp_path))
    assert _read_generation(ours) is None  # no token yet: the caller writes the first
    theirs.set(_GENERATION_KEY, "first", timeout=0)
    assert _read_generation(ours) == "first"
    assert _read_generation(ours) == "first"  # the same file: no new read needed
    for token in ("second", "third", "first"):  # same size, written within the same instant
        theirs.set(_GENERATION_KEY, token, timeout=0)
        assert _read_generation(ours) == token
    theirs.delete(_GENERATION_KEY)  # the folder wiped: every process resets
    assert _read_generation(ours) is None


def test_a_file_unchanged_since_the_last_read_is_not_read_again(tmp_path: Path) -> None:
    cache = FileSystemCache(str(tmp_path), threshold=0)
    cache.set(_GENERATION_KEY, "token", timeout=0)
    path = cache._get_filename(_GENERATION_KEY)
    os.utime(path, ns=(time.time_ns() - 10**10, time.time_ns() - 10**10))  # written 10 s ago
    assert _read_generation(cache) == "token"
    # Garble the file in place, keeping its inode, size and time: only a read would notice.
    stamp = os.stat(path)
    with open(path, "r+b") as handle:
        handle.seek(stamp.st_size - 1)
        handle.write(b"\x00")
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert _read_generation(cache) == "token"  # from the memo
    # Just written: read every time, whatever the memo says.
    os.utime(path, ns=(time.time_ns(), stamp.st_mtime_ns))
    os.utime(path)
    assert _read_generation(cache) != "token"


def test_other_caches_are_asked_every_time() -> None:
    cache = SimpleCache()
    cache.set(_GENERATION_KEY, "a", timeout=0)
    assert _read_generation(cache) == "a"
    cache.set(_GENERATION_KEY, "b", timeout=0)
    assert _read_generation(cache) == "b"
