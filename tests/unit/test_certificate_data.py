"""CertificateData refuses bad rows early, and its JSON form carries the data losslessly."""

import dataclasses
import json
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certificates import (
    CertificateData,
    InstitutionLogo,
    certificate_from_payload,
    certificate_payload,
    new_code,
)
from certificates.codes import DATA_ALPHABET, check_symbol

REPO_ROOT = Path(__file__).resolve().parents[2]
CODE = "00000000016JD"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def make_data(**changes):
    base = CertificateData(
        student_name="Ada Lovelace",
        project_title="Analytical engine notes",
        partner_name="Babbage & Co",
        supervisor_name="Charles Babbage",
        instructor_of_record="Mary Somerville",
        course_title="MATH 301",
        institution_name="University of London",
        hours_confirmed=Decimal("40"),
        credits=Decimal("3"),
        skills_demonstrated=("Mathematics",),
        issue_date=date(2025, 6, 1),
        code=CODE,
        verification_url=f"https://stint.example.edu/verify/{CODE}",
    )
    return dataclasses.replace(base, **changes)


def test_defaults_to_a4_without_logo():
    data = make_data()
    assert data.page_size == "A4"
    assert data.logo is None


@pytest.mark.parametrize(
    "changes",
    [
        {"student_name": "   "},
        {"institution_name": ""},
        {"hours_confirmed": 12.5},
        {"hours_confirmed": Decimal("-1")},
        {"credits": Decimal("NaN")},
        {"credits": Decimal("Infinity")},
        {"code": "00000000016JE"},
        {"code": "0000-0000-016J-D"},  # display form is not the stored form
        {"verification_url": "javascript:alert(1)"},
        {"verification_url": "/verify/relative"},
        {"page_size": "A3"},
    ],
)
def test_rejects_values_that_would_print_a_wrong_certificate(changes):
    with pytest.raises(ValueError):
        make_data(**changes)


def test_skills_must_be_a_tuple():
    with pytest.raises(TypeError):
        make_data(skills_demonstrated=["Mathematics"])


def test_is_immutable():
    data = make_data()
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.student_name = "Someone else"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("content", "mime_type"),
    [
        (b"GIF89a....", "image/gif"),
        (b"", "image/png"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/png"),
        (PNG_SIGNATURE + b"rest", "image/svg+xml"),
        (PNG_SIGNATURE + b"\0" * (2 * 1024 * 1024), "image/png"),
    ],
)
def test_logo_must_be_what_it_claims_to_be(content, mime_type):
    with pytest.raises(ValueError):
        InstitutionLogo(content=content, mime_type=mime_type)


def test_payload_keeps_amounts_exact_and_leaves_out_the_logo():
    logo = InstitutionLogo(
        content=b"<svg xmlns='http://www.w3.org/2000/svg'/>", mime_type="image/svg+xml"
    )
    payload = certificate_payload(
        make_data(hours_confirmed=Decimal("12.50"), credits=Decimal("0.1"), logo=logo)
    )
    assert payload["hours_confirmed"] == "12.50"
    assert payload["credits"] == "0.1"
    assert payload["issue_date"] == "2025-06-01"
    assert payload["schema"] == "stint.certificate/1"
    assert "logo" not in payload
    json.dumps(payload)  # must be plain JSON


def test_unknown_payload_schema_is_refused():
    payload = certificate_payload(make_data()) | {"schema": "other/9"}
    with pytest.raises(ValueError, match="schema"):
        certificate_from_payload(payload)


names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40
).filter(lambda text: text.strip())
amounts = st.decimals(min_value=0, max_value=10_000, places=2, allow_nan=False)
codes = st.text(alphabet=DATA_ALPHABET, min_size=12, max_size=12).map(
    lambda data: data + check_symbol(data)
)


@given(
    student_name=names,
    project_title=names,
    hours=amounts,
    credits=amounts,
    skills=st.lists(names, max_size=6).map(tuple),
    issue_date=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
    code=codes,
    page_size=st.sampled_from(["A4", "Letter"]),
)
def test_payload_round_trips_through_json(
    student_name, project_title, hours, credits, skills, issue_date, code, page_size
):
    data = make_data(
        student_name=student_name,
        project_title=project_title,
        hours_confirmed=hours,
        credits=credits,
        skills_demonstrated=skills,
        issue_date=issue_date,
        code=code,
        verification_url=f"https://stint.example.edu/verify/{code}",
        page_size=page_size,
    )
    restored = certificate_from_payload(json.loads(json.dumps(certificate_payload(data))))
    assert restored == data
    assert restored.hours_confirmed.as_tuple() == data.hours_confirmed.as_tuple()


def test_new_code_is_accepted_as_certificate_code():
    code = new_code()
    assert make_data(code=code).code == code


def test_checking_codes_does_not_load_weasyprint():
    probe = (
        "import sys, certificates; "
        "certificates.normalize_code('00000000016JD'); "
        "print('weasyprint' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    assert result.stdout.strip() == "False"
