"""Serving files and exports to browsers: the one place a download's headers are decided.

The student's work page, the instructor's placement review and the supervisor's review link all
hand out the same submitted files; each view checks who is asking, then answers through here, so
a file is always an attachment with the type read at upload, never rendered inline.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask import Response, send_file, stream_with_context

from lti_app.models import SubmissionFile
from lti_app.storage import storage


def submission_file(file: SubmissionFile) -> Response:
    """Serve a stored file as an attachment with the type read at upload, never inline."""
    response = send_file(
        storage().open(file.storage_key),
        mimetype=file.content_type,
        as_attachment=True,
        download_name=file.original_name,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def activity_slug(title: str) -> str:
    """An activity's title as a file-name part: ASCII letters, digits and hyphens."""
    return re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-").lower() or "activity"


def csv_attachment(body: str | Iterable[str], filename: str) -> Response:
    """A CSV export as an attachment that no cache keeps; an iterable body is streamed."""
    content = body if isinstance(body, str) else stream_with_context(iter(body))
    return Response(
        content,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
