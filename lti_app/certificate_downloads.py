"""The certificate PDF as an HTTP download, shared by the student's, instructor's and LMS's routes.

View-layer code: it opens the PDF through the certificates service (which renders a certificate
still pending rather than refusing it), commits what that rendering recorded, and answers with
the file, or with the service's refusal as an error page (409 when it could not be prepared).
"""

from __future__ import annotations

from typing import Any

from flask import abort, send_file
from werkzeug.wrappers import Response

from lti_app.extensions import db
from lti_app.models import Certificate
from lti_app.services.certificates.files import download_name, open_pdf
from lti_app.services.certificates.rules import CertificateError


def pdf_download(certificate: Certificate, **send_options: Any) -> Response:
    """The PDF as an attachment; a certificate that cannot be prepared is answered with the
    error's status (the person sees why) after its failed rendering is recorded."""
    name = download_name(certificate)
    try:
        stream = open_pdf(certificate)
    except CertificateError as error:
        db.session.commit()
        abort(error.status, description=str(error))
    db.session.commit()
    return send_file(
        stream,
        mimetype="application/pdf",
        as_attachment=True,
        download_name=name,
        **send_options,
    )
