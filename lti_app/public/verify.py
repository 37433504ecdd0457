"""Public certificate verification: by code (page or JSON), by uploading the PDF, no login.

Only what the student consented to show is answered; a hidden certificate is "not found",
exactly like a code Stint never issued, so hiding reveals nothing. An uploaded file verifies
only if its SHA-256 is that of a PDF Stint stored, so one changed byte fails.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.wrappers import Response

from certificates import normalize_code
from lti_app.certificate_downloads import pdf_download
from lti_app.extensions import limiter
from lti_app.models import Certificate
from lti_app.services.certificates.passback import FILE_LINK_PATH, certificate_from_file_token
from lti_app.services.certificates.rules import CertificateError
from lti_app.services.certificates.verify import (
    find_by_code,
    find_by_pdf,
    public_dates,
    public_record,
)

bp = Blueprint("verify", __name__)

MAX_PDF_BYTES = 10 * 1024 * 1024
NOT_FOUND = lazy_gettext(
    "No certificate with this code can be shown. Check the code, or ask the holder: "
    "they may have chosen not to show it publicly."
)
TYPO = lazy_gettext(
    "This is not a valid certificate code: a character is wrong or missing. Codes have "
    "13 characters, printed in groups like %(example)s.",
    example="7K3M-9QX2-ZP4A-U",
)


def _lookup_limit() -> str:
    return str(current_app.config.get("STINT_VERIFY_RATE_LIMIT", "120/minute"))


def _upload_limit() -> str:
    return str(current_app.config.get("STINT_VERIFY_UPLOAD_RATE_LIMIT", "30/minute"))


class UploadForm(FlaskForm):
    pdf = FileField(
        lazy_gettext("Certificate PDF"),
        validators=[FileRequired(message=lazy_gettext("Choose the PDF file to check."))],
    )


def _no_store(response: Response) -> Response:
    # A revocation must be visible at once, never hidden behind a cached "valid".
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/verify")
@limiter.limit(_lookup_limit)
def index() -> Any:
    """The form; a code typed into it arrives as ?code= and goes to its page."""
    typed = (request.args.get("code") or "").strip()
    if typed:
        code = normalize_code(typed)
        if code is None:
            return render_template(
                "public/verify/index.html", form=UploadForm(), typed=typed, error=TYPO
            ), 404
        return redirect(url_for(".show", code=code), code=303)
    return render_template("public/verify/index.html", form=UploadForm(), typed="", error=None)


@bp.get("/verify/")
def index_with_slash() -> Any:
    """``/verify/``, as people type it and some mail clients rewrite it, is the same page."""
    query = request.query_string.decode("latin-1")
    return redirect(url_for(".index") + (f"?{query}" if query else ""), code=308)


@bp.post("/verify")
@limiter.limit(_upload_limit)
def upload() -> Any:
    """Compare an uploaded PDF with the files Stint issued, byte for byte (by SHA-256)."""
    form = UploadForm()
    if not form.validate_on_submit():
        errors = [message for messages in form.errors.values() for message in messages]
        return render_template(
            "public/verify/index.html",
            form=form,
            typed="",
            error=" ".join(str(e) for e in errors) or _("Choose the PDF file to check."),
        ), 400
    content = form.pdf.data.stream.read(MAX_PDF_BYTES + 1)
    if len(content) > MAX_PDF_BYTES or not content.startswith(b"%PDF-"):
        return render_template(
            "public/verify/index.html",
            form=UploadForm(formdata=None),
            typed="",
            error=_(
                "That file is not a certificate PDF (at most %(size)s MB, starting with "
                "%(magic)s).",
                size=10,
                magic="%PDF-",
            ),
        ), 400
    certificate = find_by_pdf(content)
    return _no_store(
        make_response(
            render_template(
                "public/verify/file_result.html",
                record=public_record(certificate) if certificate else None,
                dates=public_dates(certificate) if certificate else None,
                filename=form.pdf.data.filename or _("the file"),
            )
        )
    )


@bp.get("/verify/<code>.json")
@limiter.limit(_lookup_limit)
def show_json(code: str) -> Any:
    certificate = _visible_or_404(code)
    return _no_store(jsonify(public_record(certificate)))


@bp.get("/verify/<code>")
@limiter.limit(_lookup_limit)
def show(code: str) -> Any:
    certificate = _visible_or_404(code)
    record = public_record(certificate)
    return _no_store(
        make_response(
            render_template(
                "public/verify/show.html",
                record=record,
                dates=public_dates(certificate),
                json_url=url_for(".show_json", code=certificate.code),
            )
        )
    )


@bp.get(FILE_LINK_PATH + "<token>")
def certificate_file(token: str) -> Any:
    """The signed, expiring link an LMS (Canvas) fetches the PDF from; no session needed."""
    try:
        certificate = certificate_from_file_token(token)
    except CertificateError as error:
        abort(error.status, description=str(error))
    return pdf_download(certificate, max_age=0)


def _visible_or_404(code: str) -> Certificate:
    if normalize_code(code) is None:
        abort(404, description=TYPO)
    certificate = find_by_code(code)
    if certificate is None:
        abort(404, description=NOT_FOUND)
    return certificate
