"""Checking uploaded files: size limit and type by content, never by name or browser claim.

A file's name and the content type the browser sends prove nothing, so the type is read from
the bytes (puremagic for the signature, then a look inside ZIP containers, because .docx, .xlsx,
.pptx and plain .zip files all start with the same ``PK`` bytes). The name the student gave is
kept only for display and for the download's ``Content-Disposition``; the file is stored under
a generated name (see ``lti_app.storage``).

Refusals are whole sentences in the uploader's language, the file's name a placeholder, so a
translator can put it (and its quotation marks) where the language wants them.
"""

from __future__ import annotations

import io
import os
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import BinaryIO, TypeAlias

import puremagic
from flask import current_app, has_app_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

DEFAULT_MAX_UPLOAD_MB = 25
SNIFF_BYTES = 8192

# Content types Stint accepts, with the extension it gives a file of that type.
OFFICE_TYPES = {
    "word/": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ".docx",
        _l("Word document"),
    ),
    "xl/": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ".xlsx",
        _l("Excel spreadsheet"),
    ),
    "ppt/": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ".pptx",
        _l("PowerPoint presentation"),
    ),
}
OPENDOCUMENT_TYPES = {
    "application/vnd.oasis.opendocument.text": (".odt", _l("OpenDocument text")),
    "application/vnd.oasis.opendocument.spreadsheet": (".ods", _l("OpenDocument spreadsheet")),
    "application/vnd.oasis.opendocument.presentation": (
        ".odp",
        _l("OpenDocument presentation"),
    ),
}
IMAGE_TYPES = {
    "image/png": (".png", _l("PNG image")),
    "image/jpeg": (".jpg", _l("JPEG image")),
    "image/gif": (".gif", _l("GIF image")),
    "image/webp": (".webp", _l("WebP image")),
}
MARKDOWN_EXTENSIONS = {".md", ".markdown"}
ACCEPTED_DESCRIPTION = _l(
    "PDF, Word, Excel or PowerPoint (.docx, .xlsx, .pptx), OpenDocument, PNG, JPEG, GIF or WebP "
    "images, ZIP archives, Markdown and plain text"
)
Description: TypeAlias = str | LazyString
Kind: TypeAlias = tuple[str, str, Description]  # content type, extension, what people call it


class UploadRejected(ValueError):  # noqa: N818 -- reads as what happened
    """A file Stint will not keep; the message is meant for the person who uploaded it."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        """``message`` is already in the uploader's language (built with ``gettext``)."""
        super().__init__(message)
        self.message = message
        self.too_large = too_large


@dataclass(frozen=True)
class CheckedUpload:
    """An accepted file: its bytes, a display name safe to show, and the type read from it."""

    data: bytes
    display_name: str
    content_type: str
    description: Description

    def stream(self) -> BinaryIO:
        return io.BytesIO(self.data)


def max_upload_bytes() -> int:
    """Per-file limit from ``STINT_MAX_UPLOAD_MB`` (config, then environment; default 25)."""
    configured = (
        current_app.config.get("STINT_MAX_UPLOAD_MB") if has_app_context() else None
    ) or os.environ.get("STINT_MAX_UPLOAD_MB")
    try:
        megabytes = float(configured) if configured else DEFAULT_MAX_UPLOAD_MB
    except ValueError:
        megabytes = DEFAULT_MAX_UPLOAD_MB
    return int(megabytes * 1024 * 1024)


def safe_display_name(name: str | None) -> str:
    """The last path component, without control characters, at most 200 characters.

    Browsers may send a full path (``C:\\Users\\...\\report.pdf``) and attackers send
    ``../../etc/passwd``; neither is used to store anything, but the name is shown and goes
    into a download header, so it must be plain.
    """
    raw = (name or "").replace("\\", "/").split("/")[-1]
    cleaned = "".join(
        ch for ch in unicodedata.normalize("NFC", raw) if unicodedata.category(ch)[0] != "C"
    ).strip()
    cleaned = cleaned.lstrip(".").strip() or "file"
    if len(cleaned) > 200:
        stem, ext = os.path.splitext(cleaned)
        cleaned = stem[: 200 - len(ext[:20])] + ext[:20]
    return cleaned


def read_limited(stream: BinaryIO, limit: int, name: str = "file") -> bytes:
    """Read at most ``limit`` bytes; refuse as soon as one more byte arrives."""
    chunks: list[bytes] = []
    total = 0
    while chunk := stream.read(min(1024 * 1024, limit + 1 - total)):
        total += len(chunk)
        if total > limit:
            raise UploadRejected(
                _(
                    "“%(name)s” is larger than the %(size)s MB limit.",
                    name=name,
                    size=limit // (1024 * 1024),
                ),
                too_large=True,
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _zip_kind(data: bytes, name: str) -> Kind:
    """Tell Office documents, OpenDocument files and plain ZIP archives apart by their entries."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                declared = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
                if declared in OPENDOCUMENT_TYPES:
                    ext, description = OPENDOCUMENT_TYPES[declared]
                    return declared, ext, description
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, RuntimeError) as exc:
        raise UploadRejected(
            _("“%(name)s” looks like a ZIP file but cannot be opened.", name=name)
        ) from exc
    if "[Content_Types].xml" in names:
        for prefix, (content_type, ext, description) in OFFICE_TYPES.items():
            if any(name.startswith(prefix) for name in names):
                if any(name.lower().endswith("vbaproject.bin") for name in names):
                    raise UploadRejected(
                        _(
                            "“%(name)s” contains macros; save it without macros (.docx, .xlsx, "
                            ".pptx) or as PDF.",
                            name=name,
                        )
                    )
                return content_type, ext, description
    return "application/zip", ".zip", _l("ZIP archive")


def _text_kind(data: bytes, display_name: str) -> Kind | None:
    if b"\x00" in data:
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    ext = os.path.splitext(display_name)[1].lower()
    if ext in MARKDOWN_EXTENSIONS:
        return "text/markdown; charset=utf-8", ext, _l("Markdown text")
    if ext == ".csv":
        return "text/csv; charset=utf-8", ext, _l("CSV text")
    return "text/plain; charset=utf-8", ".txt", _l("Plain text")


def identify(data: bytes, display_name: str) -> Kind:
    """(content type, extension, description) read from the bytes, or ``UploadRejected``."""
    if not data:
        raise UploadRejected(_("“%(name)s” is empty.", name=display_name))
    head = data[:SNIFF_BYTES]
    try:
        matches = puremagic.magic_string(head)
    except (puremagic.PureError, ValueError):
        matches = []
    mimes = {match.mime_type for match in matches if match.mime_type}
    if b"%PDF-" in head[:1024]:
        return "application/pdf", ".pdf", _l("PDF document")
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data, display_name)
    for mime in sorted(mimes):
        if mime in IMAGE_TYPES:
            ext, description = IMAGE_TYPES[mime]
            return mime, ext, description
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp", ".webp", IMAGE_TYPES["image/webp"][1]
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise UploadRejected(
            _(
                "“%(name)s” is an old-style Office file (.doc, .xls, .ppt); save it as .docx, "
                ".xlsx, .pptx or PDF and upload that.",
                name=display_name,
            )
        )
    text = _text_kind(data, display_name)
    if text and not matches:
        return text
    raise UploadRejected(
        _(
            "“%(name)s” is not a type Stint accepts. Accepted: %(types)s.",
            name=display_name,
            types=ACCEPTED_DESCRIPTION,
        )
    )


def check_upload(
    filename: str | None, stream: BinaryIO, *, limit: int | None = None
) -> CheckedUpload:
    """Read, size-check and type-check one uploaded file (raises ``UploadRejected``)."""
    display_name = safe_display_name(filename)
    data = read_limited(stream, max_upload_bytes() if limit is None else limit, display_name)
    content_type, ext, description = identify(data, display_name)
    stem, current_ext = os.path.splitext(display_name)
    if current_ext.lower() != ext and not (ext == ".jpg" and current_ext.lower() == ".jpeg"):
        # The name should not promise a type the content does not have.
        display_name = (stem or "file") + ext
    return CheckedUpload(data, display_name, content_type, description)
