"""Rows for certificate tests, made directly with the models (the grading UI is tested elsewhere).

Courses, users and activities use the same natural keys as a launch from
``tests.support.platform.default_claims``, so a later launch finds them.
"""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from sqlalchemy import select

from lti_app.extensions import db
from lti_app.models import (
    Activity,
    Course,
    Evaluation,
    Grade,
    Membership,
    Partner,
    Placement,
    Platform,
    Project,
    ReviewInvitation,
    Rubric,
    User,
)
from lti_app.services.certificates.issue import issue_after_grade_change


@dataclass(frozen=True)
class World:
    platform_id: int
    course_id: int
    activity_id: int
    instructor_id: int
    student_id: int
    placement_id: int
    project_id: int


def _get_or_create(model: type, defaults: dict[str, Any], **keys: Any) -> Any:
    row = db.session.scalar(select(model).filter_by(**keys))
    if row is None:
        row = model(**keys, **defaults)
        db.session.add(row)
        db.session.flush()
    return row


def make_platform_row(name: str = "Northbridge State University", lms: str = "other") -> int:
    platform = Platform(
        name=name,
        issuer=f"https://{lms}-{hashlib.sha1(name.encode()).hexdigest()[:8]}.example.edu",
        client_id="client",
        auth_login_url="https://lms.example.edu/auth",
        auth_token_url="https://lms.example.edu/token",
        key_set_url="https://lms.example.edu/jwks",
        lms=lms,
    )
    db.session.add(platform)
    db.session.flush()
    return platform.id


def build_world(
    *,
    platform_id: int | None = None,
    issuer: str | None = None,
    context_id: str = "course-1",
    link_id: str = "link-1",
    student_sub: str = "student-1",
    student_name: str = "Zoë Ødegård",
    instructor_sub: str = "teacher-1",
    points: str = "87.5",
    passed: bool = True,
    released: bool = True,
    hours: str | None = "42.5",
    skills: tuple[str, ...] = ("User research", "Prototyping"),
    project_id: int | None = None,
) -> World:
    """A student placed on a project, evaluated by a supervisor, graded (and released)."""
    if platform_id is None:
        if issuer is not None:
            platform_id = db.session.scalars(
                select(Platform.id).where(Platform.issuer == issuer)
            ).one()
        else:
            platform_id = make_platform_row()
    course = _get_or_create(
        Course,
        {"label": "BUS 390", "title": "BUS 390: Applied Micro-internship"},
        platform_id=platform_id,
        context_id=context_id,
    )
    activity = _get_or_create(
        Activity,
        {"title": "Spring internship", "configured": True, "points_possible": Decimal("100")},
        course_id=course.id,
        resource_link_id=link_id,
    )
    activity.configured = True
    instructor = _get_or_create(
        User,
        {"name": "Prof. Eleni Papadopoulou", "email": "eleni@example.edu"},
        platform_id=platform_id,
        sub=instructor_sub,
    )
    _get_or_create(
        Membership,
        {"is_instructor": True, "is_learner": False, "roles": ["Instructor"]},
        course_id=course.id,
        user_id=instructor.id,
    )
    student = _get_or_create(
        User,
        {"name": student_name, "email": f"{student_sub}@example.edu"},
        platform_id=platform_id,
        sub=student_sub,
    )
    _get_or_create(
        Membership,
        {"is_instructor": False, "is_learner": True, "roles": ["Learner"]},
        course_id=course.id,
        user_id=student.id,
    )
    if project_id is None:
        partner = Partner(platform_id=platform_id, name="Harbor Health Co-op")
        db.session.add(partner)
        db.session.flush()
        project = Project(
            platform_id=platform_id,
            partner_id=partner.id,
            title="Accessible onboarding for a community clinic",
            skills=list(skills),
            supervisor_name="María José Núñez",
            status="open",
        )
        db.session.add(project)
        db.session.flush()
        project_id = project.id
    placement = Placement(
        activity_id=activity.id,
        user_id=student.id,
        project_id=project_id,
        status="released" if released else "graded",
        published=True,
    )
    db.session.add(placement)
    db.session.flush()
    if hours is not None:
        rubric = Rubric(platform_id=platform_id, title="Rubric", definition={"criteria": []})
        db.session.add(rubric)
        db.session.flush()
        invitation = ReviewInvitation(
            placement_id=placement.id,
            reviewer_name="María José Núñez",
            reviewer_email="maria@harbor.example",
            token_hash=hashlib.sha256(f"{placement.id}".encode()).hexdigest(),
            expires_at=datetime(2099, 1, 1, tzinfo=UTC),
        )
        db.session.add(invitation)
        db.session.flush()
        db.session.add(
            Evaluation(
                placement_id=placement.id,
                source="supervisor",
                invitation_id=invitation.id,
                rubric_id=rubric.id,
                hours_confirmed=Decimal(hours),
                status="submitted",
                submitted_at=datetime.now(UTC),
            )
        )
    now = datetime.now(UTC)
    db.session.add(
        Grade(
            placement_id=placement.id,
            points=Decimal(points),
            fraction=Decimal(points) / Decimal(100),
            passed=passed,
            approved_by_id=instructor.id,
            approved_at=now,
            released_at=now if released else None,
        )
    )
    db.session.commit()
    return World(
        platform_id=platform_id,
        course_id=course.id,
        activity_id=activity.id,
        instructor_id=instructor.id,
        student_id=student.id,
        placement_id=placement.id,
        project_id=project_id,
    )


def issue(placement_id: int) -> None:
    """What a caller does once a grade change has committed: reconcile the placement's
    certificate, then commit (rendering runs after that commit, inline in tests)."""
    issue_after_grade_change([placement_id])
    db.session.commit()


def grade_of(placement_id: int) -> Grade:
    return db.session.scalars(select(Grade).where(Grade.placement_id == placement_id)).one()


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def first_page_ink(pdf: bytes) -> float:
    """Share of non-white pixels on page 1 rendered by pdftoppm (poppler): 0 means empty."""
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "c.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "40",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                source,
                Path(tmp) / "page",
            ],
            check=True,
        )
        image = Image.open(Path(tmp) / "page.png").convert("L")
        pixels = image.tobytes()
    return sum(1 for value in pixels if value < 200) / len(pixels)


def launch_as(
    app: Any,
    platform: Any,
    *,
    role: str = "Learner",
    sub: str = "student-1",
    context: str = "course-1",
    link: str = "link-1",
) -> Any:
    """A fresh browser logged in through a real signed LTI launch."""
    from tests.support.platform import default_claims

    client = app.test_client()
    body = default_claims(role=role, sub=sub)
    body["https://purl.imsglobal.org/spec/lti/claim/context"] = {
        "id": context,
        "label": context.upper(),
        "title": "BUS 390: Applied Micro-internship",
    }
    body["https://purl.imsglobal.org/spec/lti/claim/resource_link"] = {
        "id": link,
        "title": "Spring internship",
    }
    response = platform.launch(client, body)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    client.landing = response.headers["Location"]
    return client


def csrf_token(client: Any, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    assert match, "no CSRF token on " + url
    return match.group(1)
