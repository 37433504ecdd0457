"""Rendered certificates, checked the way a reader, an archive and a verifier see them."""

import dataclasses
import io
import json
import shutil
import struct
import subprocess
import sys
import zlib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pypdf
import pytest

from certificates import (
    CertificateData,
    CertificateRenderer,
    InstitutionLogo,
    format_code,
    sha256_hex,
)
from certificates.codes import check_symbol

REPO_ROOT = Path(__file__).resolve().parents[2]

needs_pdftoppm = pytest.mark.skipif(
    shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) is not installed"
)


def code_from(data_part):
    return data_part + check_symbol(data_part)


CODE = code_from("7K3M9QX2ZP4A")


def make_data(**changes):
    base = CertificateData(
        student_name="Zoë Ødegård",
        project_title="Accessible onboarding for a community clinic",
        partner_name="Harbor Health Co-op",
        supervisor_name="María José Núñez",
        instructor_of_record="Prof. Eleni Papadopoulou",
        course_title="BUS 390: Applied Micro-internship",
        institution_name="Northbridge State University",
        hours_confirmed=Decimal("42.50"),
        credits=Decimal("3.0"),
        skills_demonstrated=("User research", "Prototyping", "WCAG audits"),
        issue_date=date(2025, 5, 16),
        code=CODE,
        verification_url=f"https://stint.example.edu/verify/{CODE}",
    )
    return dataclasses.replace(base, **changes)


def extract_embedded_json(pdf_bytes):
    """certificate.json as a machine reading the archived PDF would find it (tests only)."""
    attachments = pypdf.PdfReader(io.BytesIO(pdf_bytes)).attachments
    if "certificate.json" not in attachments:
        return None
    (content,) = attachments["certificate.json"]
    return json.loads(content)


def page_text(pdf_bytes):
    reader = pypdf.PdfReader(io.BytesIO(pdf_bytes))
    return "\n".join(page.extract_text() for page in reader.pages)


def embedded_font_names(pdf_bytes):
    page = pypdf.PdfReader(io.BytesIO(pdf_bytes)).pages[0]
    fonts = page["/Resources"]["/Font"]
    return [str(font.get_object()["/BaseFont"]) for font in fonts.values()]


def grey_pixels(pdf_bytes, resolution=24):
    """Page 1 as 8-bit grey values through pdftoppm's PGM output; no imaging library."""
    result = subprocess.run(
        ["pdftoppm", "-gray", "-r", str(resolution), "-f", "1", "-l", "1", "-singlefile", "-"],
        input=pdf_bytes,
        capture_output=True,
        check=True,
    )
    pgm = result.stdout
    fields = []
    position = 0
    while len(fields) < 4:  # magic, width, height, maxval; comments start with '#'
        while pgm[position : position + 1].isspace():
            position += 1
        if pgm[position : position + 1] == b"#":
            position = pgm.index(b"\n", position)
            continue
        end = position
        while not pgm[end : end + 1].isspace():
            end += 1
        fields.append(pgm[position:end])
        position = end
    magic, width, height, maxval = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    assert magic == b"P5" and maxval == 255
    pixels = pgm[position + 1 : position + 1 + width * height]
    assert len(pixels) == width * height
    return width, height, pixels


def ink_fraction(pdf_bytes):
    _, _, pixels = grey_pixels(pdf_bytes)
    return sum(1 for value in pixels if value < 160) / len(pixels)


def tiny_png(width=8, height=4):
    """A valid RGB PNG built by hand, so the test needs no imaging library."""

    def chunk(kind, body):
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    rows = b"".join(b"\0" + b"\x20\x40\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def renderer():
    return CertificateRenderer()


@pytest.fixture(scope="module")
def default_pdf(renderer):
    return renderer.render(make_data())


@pytest.mark.parametrize(
    "student_name",
    [
        "Zoë Ødegård-Łukasiewicz",
        "Анна Петрова",
        "Ἀλέξανδρος Παπαδόπουλος",
        "Nguyễn Thị Minh Khai",
    ],
)
def test_names_in_any_script_appear_in_the_text(renderer, student_name):
    pdf = renderer.render(make_data(student_name=student_name))
    assert student_name in page_text(pdf)


def cjk_font_installed():
    if shutil.which("fc-list") is None:
        return False
    listing = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout
    return "CJK" in listing


@pytest.mark.skipif(not cjk_font_installed(), reason="no CJK font installed")
def test_cjk_name_falls_back_to_a_cjk_font(renderer):
    pdf = renderer.render(make_data(student_name="王小明", supervisor_name="山田 花子"))
    assert "王小明" in page_text(pdf)
    assert any("CJK" in name for name in embedded_font_names(pdf))


def test_document_metadata_names_student_and_institution(default_pdf):
    metadata = pypdf.PdfReader(io.BytesIO(default_pdf)).metadata
    assert "Zoë Ødegård" in metadata.title
    assert metadata.author == "Northbridge State University"
    assert format_code(CODE) in metadata.subject


def test_embedded_json_matches_the_data(default_pdf):
    data = make_data()
    embedded = extract_embedded_json(default_pdf)
    assert embedded is not None
    assert embedded["student_name"] == data.student_name
    assert embedded["code"] == data.code
    assert embedded["verification_url"] == data.verification_url
    assert Decimal(embedded["hours_confirmed"]) == data.hours_confirmed
    assert Decimal(embedded["credits"]) == data.credits
    assert tuple(embedded["skills_demonstrated"]) == data.skills_demonstrated
    assert date.fromisoformat(embedded["issue_date"]) == data.issue_date
    assert embedded["institution_name"] == data.institution_name


def test_is_marked_pdf_a_3b_with_an_associated_data_file(default_pdf):
    reader = pypdf.PdfReader(io.BytesIO(default_pdf))
    catalog = reader.trailer["/Root"]
    xmp = catalog["/Metadata"].get_object().get_data().decode("utf-8")
    assert 'pdfaid:part="3"' in xmp
    assert 'pdfaid:conformance="B"' in xmp
    assert catalog["/OutputIntents"][0]["/S"] == "/GTS_PDFA1"
    associated = [reference.get_object() for reference in catalog["/AF"]]
    assert len(associated) == 1
    assert associated[0]["/F"] == "certificate.json"
    assert associated[0]["/AFRelationship"] == "/Data"


def structure_elements(pdf_bytes):
    """Every element of the PDF's structure tree, depth first, as (type, dictionary)."""
    catalog = pypdf.PdfReader(io.BytesIO(pdf_bytes)).trailer["/Root"]
    found = []

    def walk(node):
        node = node.get_object()
        if isinstance(node, pypdf.generic.DictionaryObject) and "/S" in node:
            found.append((str(node["/S"]), node))
        kids = node.get("/K", []) if isinstance(node, pypdf.generic.DictionaryObject) else []
        if not isinstance(kids, pypdf.generic.ArrayObject):
            kids = [kids]
        for kid in kids:
            if isinstance(kid, pypdf.generic.IndirectObject | pypdf.generic.DictionaryObject):
                walk(kid)

    walk(catalog["/StructTreeRoot"])
    return found


def test_is_a_tagged_pdf_with_language_and_title(renderer):
    """What a screen reader needs: marked content, a structure tree, a language, a title."""
    logo = InstitutionLogo(content=tiny_png(), mime_type="image/png")
    pdf = renderer.render(make_data(logo=logo))
    catalog = pypdf.PdfReader(io.BytesIO(pdf)).trailer["/Root"]
    yes = pypdf.generic.BooleanObject(True)
    assert catalog["/MarkInfo"]["/Marked"] == yes
    assert catalog["/Lang"] == "en"
    assert catalog["/ViewerPreferences"]["/DisplayDocTitle"] == yes
    elements = structure_elements(pdf)
    kinds = [kind for kind, _ in elements]
    assert kinds[0] == "/Document"
    assert kinds.count("/H1") == 1 and "/H2" in kinds and "/Link" in kinds
    # Every figure (the logo and the QR code) has alternate text; the seal is an artifact.
    figures = [element for kind, element in elements if kind == "/Figure"]
    assert len(figures) == 2
    assert sorted(str(figure.get("/Alt")) for figure in figures) == [
        "Logo of Northbridge State University",
        "Verification QR code",
    ]


def test_tagging_reports_no_structure_error(renderer, caplog):
    """WeasyPrint logs an error for an image without alt text or a page without lang."""
    logo = InstitutionLogo(content=tiny_png(), mime_type="image/png")
    with caplog.at_level("WARNING", logger="weasyprint"):
        renderer.render(make_data(logo=logo))
    assert [r.getMessage() for r in caplog.records if r.levelname in {"WARNING", "ERROR"}] == []


@pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="pdfinfo (poppler-utils) missing")
def test_poppler_sees_a_tagged_pdf(default_pdf):
    info = subprocess.run(
        ["pdfinfo", "-"], input=default_pdf, capture_output=True, check=True
    ).stdout.decode("utf-8")
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    assert fields["Tagged"].strip() == "yes"
    assert fields["Title"].strip() == "Certificate of micro-internship – Zoë Ødegård"


def test_pdf_without_attachment_yields_no_embedded_json():
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=100, height=100)
    buffer = io.BytesIO()
    writer.write(buffer)
    assert extract_embedded_json(buffer.getvalue()) is None


def test_shows_code_for_reading_aloud_and_links_to_verification(default_pdf):
    text = page_text(default_pdf)
    assert format_code(CODE) in text
    page = pypdf.PdfReader(io.BytesIO(default_pdf)).pages[0]
    link_targets = {annotation.get_object()["/A"]["/URI"] for annotation in page.get("/Annots", [])}
    assert link_targets == {make_data().verification_url}


@pytest.mark.parametrize(
    ("page_size", "width_pt", "height_pt"),
    [("A4", 841.89, 595.28), ("Letter", 792, 612)],
)
def test_one_landscape_page_of_the_institutions_paper_size(
    renderer, page_size, width_pt, height_pt
):
    pdf = renderer.render(make_data(page_size=page_size))
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert float(box.width) == pytest.approx(width_pt, abs=0.5)
    assert float(box.height) == pytest.approx(height_pt, abs=0.5)


@pytest.mark.parametrize("page_size", ["A4", "Letter"])
def test_long_texts_still_fit_on_one_page(renderer, page_size):
    pdf = renderer.render(
        make_data(
            page_size=page_size,
            student_name="Maria Aparecida dos Santos Oliveira Fernandes de Albuquerque",
            project_title="A longitudinal, mixed-methods evaluation " * 4,
            skills_demonstrated=tuple(f"Skill number {index}" for index in range(30)),
        )
    )
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    assert "Maria Aparecida dos Santos" in page_text(pdf)


@needs_pdftoppm
def test_page_is_visibly_printed(default_pdf):
    assert ink_fraction(default_pdf) > 0.01


@needs_pdftoppm
def test_blank_page_detector_sees_a_blank_page():
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=842, height=595)
    buffer = io.BytesIO()
    writer.write(buffer)
    assert ink_fraction(buffer.getvalue()) < 0.001


def test_png_logo_is_embedded_as_an_image(renderer):
    logo = InstitutionLogo(content=tiny_png(), mime_type="image/png")
    pdf = renderer.render(make_data(logo=logo))
    page = pypdf.PdfReader(io.BytesIO(pdf)).pages[0]
    assert len(page.images) >= 1


def test_svg_logo_is_drawn(renderer):
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
        b'<rect width="10" height="10" fill="#000"/></svg>'
    )
    without_logo = renderer.render(make_data())
    with_logo = renderer.render(make_data(logo=InstitutionLogo(svg, "image/svg+xml")))
    assert with_logo != without_logo
    if shutil.which("pdftoppm"):
        assert ink_fraction(with_logo) > ink_fraction(without_logo)


def test_same_data_renders_to_the_same_bytes(renderer, default_pdf):
    again = renderer.render(make_data())
    assert sha256_hex(again) == sha256_hex(default_pdf)
    other = renderer.render(make_data(code=code_from("7K3M9QX2ZP4B")))
    assert sha256_hex(other) != sha256_hex(default_pdf)


def test_another_process_renders_the_same_bytes(default_pdf):
    """Re-rendering an archived certificate in a later job must reproduce its stored hash."""
    probe = (
        "import sys; sys.path.insert(0, 'tests/unit'); "
        "from test_certificate_render import make_data; "
        "from certificates import CertificateRenderer, sha256_hex; "
        "print(sha256_hex(CertificateRenderer().render(make_data())))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    assert result.stdout.strip() == sha256_hex(default_pdf)


def test_render_many_is_lazy_and_keeps_order(renderer):
    def certificates():
        yield make_data(student_name="First Student")
        yield make_data(student_name="Second Student")
        raise AssertionError("render_many read ahead of its consumer")

    produced = renderer.render_many(certificates())
    assert "First Student" in page_text(next(produced))
    assert "Second Student" in page_text(next(produced))


def test_markup_in_data_is_printed_as_text(renderer):
    hostile = '<img src="file:///etc/passwd"> Bobby'
    pdf = renderer.render(make_data(student_name=hostile))
    assert '<img src="file:///etc/passwd">' in page_text(pdf).replace("\n", " ")
    assert renderer.fetcher.refusal_count == 0


def test_sha256_hex_is_the_standard_digest():
    assert sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert sha256_hex(b"abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
