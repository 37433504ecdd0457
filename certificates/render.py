"""CertificateData -> HTML -> tagged PDF/A-3b, with everything costly prepared once per batch.

Issuing runs in background jobs that render hundreds of certificates at the end of a
term, so the Jinja template, the parsed CSS and WeasyPrint's FontConfiguration live on
a CertificateRenderer and are reused; only the per-certificate HTML is new each time.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import jinja2
import segno
import weasyprint
from babel.dates import format_date
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations
from markupsafe import Markup
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError

from certificates.codes import format_code
from certificates.data import CertificateData, InstitutionLogo, PageSize, certificate_payload
from certificates.fetcher import ASSET_PREFIX, CertificateAssetFetcher, load_assets

DEFAULT_TEMPLATE_DIR: Final = Path(__file__).resolve().parent.parent / "templates" / "certificates"
# The application's catalogs (read as files: this package imports nothing from lti_app).
DEFAULT_TRANSLATIONS_DIR: Final = (
    Path(__file__).resolve().parent.parent / "lti_app" / "translations"
)
# English dates day-month-year ("3 December 2026"), unambiguous on both sides of the Atlantic.
_DATE_VARIANTS: Final = {"en": "en_GB"}
TEMPLATE_NAME: Final = "certificate.html"
STYLESHEET_NAME: Final = "certificate.css"
ASSETS_FOLDER: Final = "assets"
PDF_VARIANT: Final = "pdf/a-3b"
# Tagged PDF (a structure tree, /MarkInfo, /Lang from <html lang>, the <title> shown as the
# window title): a screen reader then reads headings, lists and the link, not just a stream of
# glyphs. It keeps the PDF/A-3b mark rather than claiming PDF/A-3a or PDF/UA-1, which would need
# a validator (veraPDF, PAC) that the tests do not run.
PDF_TAGS: Final = True
ATTACHMENT_NAME: Final = "certificate.json"

# Landscape in both cases: the institution chooses the paper its registrar prints on.
_PAGE_CSS: Final[Mapping[PageSize, str]] = {
    "A4": "@page { size: A4 landscape; margin: 0 }",
    "Letter": "@page { size: letter landscape; margin: 0 }",
}
# WeasyPrint keeps decoded images in this cache across documents; a worker that renders
# for many institutions must not grow it without bound.
_IMAGE_CACHE_LIMIT: Final = 64


class CertificateRenderingError(RuntimeError):
    """The certificate could not be rendered as designed; nothing should be issued."""


class CertificateRenderer:
    """Holds the compiled template, parsed CSS and fonts for a whole batch of certificates.

    Not thread-safe (WeasyPrint's FontConfiguration is not); use one per worker process.
    """

    def __init__(
        self,
        template_dir: Path = DEFAULT_TEMPLATE_DIR,
        translations_dir: Path = DEFAULT_TRANSLATIONS_DIR,
    ) -> None:
        self._environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(template_dir),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            extensions=["jinja2.ext.i18n"],
        )
        self._translations_dir = translations_dir
        self._catalogs: dict[str, NullTranslations] = {}
        self._template = self._environment.get_template(TEMPLATE_NAME)
        self.fetcher = CertificateAssetFetcher(load_assets(template_dir / ASSETS_FOLDER))
        self.font_config = FontConfiguration()
        stylesheet_text = (template_dir / STYLESHEET_NAME).read_text(encoding="utf-8")
        self._stylesheet = self._parse_css(stylesheet_text)
        self._page_stylesheets = {
            size: self._parse_css(css_text) for size, css_text in _PAGE_CSS.items()
        }
        self._image_cache: dict[str, Any] = {}

    def _parse_css(self, css_text: str) -> weasyprint.CSS:
        with _refusals_as_errors():
            return weasyprint.CSS(
                string=css_text, font_config=self.font_config, url_fetcher=self.fetcher
            )

    def stylesheets_for(self, page_size: PageSize) -> list[weasyprint.CSS]:
        return [self._stylesheet, self._page_stylesheets[page_size]]

    def _catalog(self, locale: str) -> NullTranslations:
        """The certificate language's compiled catalog, loaded once per renderer."""
        if locale not in self._catalogs:
            self._catalogs[locale] = Translations.load(str(self._translations_dir), [locale])
        return self._catalogs[locale]

    def render_html(self, data: CertificateData) -> str:
        """The certificate as HTML; public so previews and the benchmark can reuse it."""
        # gettext as Flask-Babel gives it (``_("... %(name)s", name=x)``), in the certificate's
        # language rather than the request's: the course's language, fixed at issue time.
        self._environment.install_gettext_translations(  # type: ignore[attr-defined]
            self._catalog(data.locale), newstyle=True
        )
        return self._template.render(
            certificate=data,
            language=data.locale,
            display_code=format_code(data.code),
            hours=_format_amount(data.hours_confirmed, data.locale),
            credits=_format_amount(data.credits, data.locale),
            issue_date_text=_format_date(data.issue_date, data.locale),
            issue_date_iso=data.issue_date.isoformat(),
            qr_svg=Markup(qr_svg(data.verification_url)),  # noqa: S704 - segno output, no user markup
            logo_src=_logo_data_url(data.logo) if data.logo else None,
            name_length_class=_length_class(data.student_name, long=28, very_long=44),
            title_length_class=_length_class(data.project_title, long=60, very_long=110),
            skills_length_class=(
                "long" if len(" · ".join(data.skills_demonstrated)) > 220 else "regular"
            ),
            asset_prefix=ASSET_PREFIX,
        )

    def html_to_pdf(self, html: str, data: CertificateData) -> bytes:
        """Lay out HTML already made for `data`; split out so the benchmark can time it alone."""
        if len(self._image_cache) > _IMAGE_CACHE_LIMIT:
            self._image_cache.clear()
        refusals_before = self.fetcher.refusal_count
        with _refusals_as_errors():
            document = weasyprint.HTML(string=html, url_fetcher=self.fetcher)
            pdf = document.write_pdf(
                stylesheets=self.stylesheets_for(data.page_size),
                font_config=self.font_config,
                pdf_variant=PDF_VARIANT,
                pdf_tags=PDF_TAGS,
                attachments=[self._json_attachment(data)],
                cache=self._image_cache,
                finisher=_deduplicate_associated_files,
            )
        if self.fetcher.refusal_count != refusals_before:
            # Reached only when WeasyPrint swallowed the refusal (inside an SVG image):
            # the file was not read, but the certificate is not what was designed.
            raise CertificateRenderingError(
                f"refused to fetch {self.fetcher.refused[-1][:200]!r} while rendering"
            )
        assert isinstance(pdf, bytes)
        return pdf

    def render(self, data: CertificateData) -> bytes:
        """Tagged PDF/A-3b bytes; identical data gives identical bytes, so the hash is stable."""
        return self.html_to_pdf(self.render_html(data), data)

    def render_many(self, certificates: Iterable[CertificateData]) -> Iterator[bytes]:
        """Lazily, so a batch never holds every PDF in memory at once."""
        for data in certificates:
            yield self.render(data)

    def _json_attachment(self, data: CertificateData) -> weasyprint.Attachment:
        # Dates come from the certificate, not the clock, so re-rendering is reproducible.
        issued_at = datetime(
            data.issue_date.year, data.issue_date.month, data.issue_date.day, tzinfo=UTC
        )
        return weasyprint.Attachment(
            string=certificate_json_bytes(data),
            name=ATTACHMENT_NAME,
            description="Machine-readable certificate data",
            created=issued_at,
            modified=issued_at,
            relationship="Data",
            url_fetcher=self.fetcher,
        )


@contextmanager
def _refusals_as_errors() -> Iterator[None]:
    """FatalURLFetchingError derives from BaseException; job runners and `except
    Exception` handlers would not see it, so it leaves here as an ordinary error."""
    try:
        yield
    except FatalURLFetchingError as error:
        raise CertificateRenderingError(f"{error}: {error.__cause__}") from error


def _deduplicate_associated_files(_document: Any, pdf: Any) -> None:
    """WeasyPrint 70 lists an attachment twice in the catalog's /AF for PDF/A-3.

    It adds it once from the EmbeddedFiles name tree and once as a Filespec object;
    archive validators may flag the duplicate, and it costs nothing to drop.
    """
    associated = pdf.catalog.get("AF")
    if associated:
        unique = list(dict.fromkeys(associated))
        associated.clear()
        associated.extend(unique)


def certificate_json_bytes(data: CertificateData) -> bytes:
    return json.dumps(
        certificate_payload(data), ensure_ascii=False, indent=2, sort_keys=True
    ).encode("utf-8")


def sha256_hex(pdf: bytes) -> str:
    """The fingerprint stored at issue time, so a verifier can tell a PDF was not edited."""
    return hashlib.sha256(pdf).hexdigest()


@lru_cache(maxsize=1024)
def qr_svg(url: str) -> str:
    """Inline SVG QR code (sized by CSS); cached because a re-render reuses the same URL."""
    qr_code = segno.make(url, error="m", micro=False)
    svg: str = qr_code.svg_inline(
        border=4,
        dark="#1b1b1b",
        light="#ffffff",
        omitsize=True,
        svgclass="qr",
        lineclass=None,
        title="Verification QR code",
    )
    return svg


@lru_cache(maxsize=16)
def _logo_data_url(logo: InstitutionLogo) -> str:
    encoded = base64.b64encode(logo.content).decode("ascii")
    return f"data:{logo.mime_type};base64,{encoded}"


def _format_amount(amount: Decimal, locale: str) -> str:
    """12.50 hours reads as 12.5 (12,5 in German), 3.0 credits as 3; never an exponent."""
    return str(
        format_decimal(
            amount.normalize(),
            format="0.################",
            locale=locale,
            group_separator=False,
        )
    )


def _format_date(day: date, locale: str) -> str:
    """Day, month name, year as the language writes them: 3 December 2026, 3. Dezember 2026."""
    return str(format_date(day, format="long", locale=_DATE_VARIANTS.get(locale, locale)))


def _length_class(text: str, *, long: int, very_long: int) -> str:
    if len(text) > very_long:
        return "very-long"
    if len(text) > long:
        return "long"
    return "regular"
