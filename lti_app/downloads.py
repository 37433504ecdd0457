"""Serving stored files to browsers: the one place a download's headers are decided.

The student's work page, the instructor's placement review and the supervisor's review link all
hand out the same submitted files; each view checks who is asking, then answers through here, so
a file is always an attachment with the type read at upload, never rendered inline.
"""

from __future__ import annotations

from flask import Response, send_file

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
