"""File storage behind a small interface: a local folder today, an object store later.

Files are stored under generated names (never the uploader's), outside the web root, and are
served only through views that check who may read them.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import current_app

KEY_PATTERN = re.compile(r"[0-9a-f]{2}/[A-Za-z0-9_-]{1,120}")


@dataclass(frozen=True)
class StoredFile:
    key: str
    size: int
    sha256: str


class Storage(Protocol):
    def save(self, stream: BinaryIO, *, prefix: str = "") -> StoredFile: ...

    def open(self, key: str) -> BinaryIO: ...

    def path(self, key: str) -> Path: ...

    def delete(self, key: str) -> None: ...


class LocalStorage:
    """Files in a folder; keys are random and sharded by their first two characters."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        if not KEY_PATTERN.fullmatch(key):
            raise ValueError("invalid storage key")
        return self.root / key

    def save(self, stream: BinaryIO, *, prefix: str = "") -> StoredFile:
        name = (prefix + "-" if prefix else "") + secrets.token_hex(16)
        key = f"{name[-2:]}/{name}"
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        tmp = target.with_suffix(".part")
        with open(tmp, "wb") as out:
            while chunk := stream.read(1024 * 1024):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        os.replace(tmp, target)
        return StoredFile(key=key, size=size, sha256=digest.hexdigest())

    def open(self, key: str) -> BinaryIO:
        return open(self.path(key), "rb")

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)


def storage() -> LocalStorage:
    """The app's storage (``UPLOAD_DIR``)."""
    return LocalStorage(current_app.config["UPLOAD_DIR"])
