"""Refresh the README's screenshots (docs/screenshots/*.png) in headless Chromium.

Serves Stint with the development LMS on loopback from a temporary instance, seeds the demo
(``stint demo seed`` plus a made-up cohort in every stage so the dashboard has something to
show), launches as the demo instructor through the development LMS, and captures:

- ``dashboard.png``: the instructor dashboard;
- ``review-form.png``: a supervisor's review form, opened from a review link;
- ``rubric-builder.png``: the rubric builder editing the activity's rubric;
- ``registrar-export.png``: the registrar CSV (downloaded from the dashboard's link, parsed and
  drawn as a table, since a browser shows a CSV as a download, not a page);
- ``student-result.png``: a student's result page after release, at a phone's 390 px width;
- ``certificate.png``: the sample certificate (docs/certificate-sample.png, rendered by
  ``bench/certificates.py``), copied so all screenshots sit together.

    python -m bench.screenshots [--chromium /usr/bin/chromium] [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import select
from werkzeug.serving import make_server

from lti_app import create_app
from lti_app.dev_platform import constants as c
from lti_app.dev_platform.demo.cohort import add_cohort
from lti_app.dev_platform.demo.seed import seed_demo
from lti_app.extensions import db
from lti_app.models import (
    Activity,
    Certificate,
    Evaluation,
    Placement,
    ReviewInvitation,
    Rubric,
    User,
)
from lti_app.models.base import utcnow
from lti_app.services.reviews.links import new_token
from lti_app.services.rubrics.access import definition

COMMENTS = (
    "Shipped the onboarding checklist a week early.",
    "Clear weekly notes; ask for help a little sooner next time.",
    "Proposed the large-print forms that we now use.",
    "Never missed a check-in.",
)
ROOT = Path(__file__).resolve().parent.parent
MAX_BYTES = 300_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(instance: str) -> tuple[str, Flask]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance}/stint.sqlite",
            "STINT_BASE_URL": base_url,
            "STINT_DEV_PLATFORM": True,
            "DEV_PLATFORM_DB": os.path.join(instance, "dev_platform.sqlite"),
            "RATELIMIT_STORAGE_URI": "memory://",
            "REDIS_URL": None,
        },
        instance_path=instance,
    )
    with app.app_context():
        upgrade()
        report = seed_demo(base_url, app.config, app.instance_path)
        add_cohort(report.activity_id, 18, 3, prefix="demo-cohort")
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return base_url, app


def review_token(app: Flask) -> str:
    """A fresh review link for a placement under review with no evaluation yet."""
    with app.app_context():
        placement_id = db.session.scalars(
            select(Placement.id)
            .outerjoin(Evaluation, Evaluation.placement_id == Placement.id)
            .where(Placement.status == "under_review", Evaluation.id.is_(None))
            .order_by(Placement.id)
            .limit(1)
        ).one()
        token, token_hash = new_token()
        db.session.add(
            ReviewInvitation(
                placement_id=placement_id,
                reviewer_name="María José Núñez",
                reviewer_email="mj.nunez@harborhealth.example.org",
                token_hash=token_hash,
                expires_at=utcnow() + timedelta(days=30),
            )
        )
        db.session.commit()
        return token


def give_released_placement(app: Flask) -> None:
    """Hand a released, certified cohort placement to the first demo student.

    Cohort students exist only in Stint's tables; the demo students are the ones the development
    LMS can launch as. Whoever held the placement before is a made-up name, so nothing is lost.
    """
    with app.app_context():
        student = db.session.scalars(select(User).where(User.sub == c.DEMO_STUDENT_SUBS[0])).one()
        placement = db.session.scalars(
            select(Placement)
            .join(Certificate, Certificate.placement_id == Placement.id)
            .where(Placement.status == "released", Placement.published.is_(True))
            .order_by(Placement.id)
            .limit(1)
        ).one()
        placement.user_id = student.id
        evaluation = db.session.scalars(
            select(Evaluation).where(
                Evaluation.placement_id == placement.id, Evaluation.status == "submitted"
            )
        ).first()
        if evaluation is not None:
            # The cohort's evaluations carry only a score; give this one the ratings and
            # comments a supervisor would have left, so the page shows what students see
            # (the top level first, then the next one down: close to the cohort's score).
            row = db.session.get(Rubric, evaluation.rubric_id)
            assert row is not None
            rubric = definition(row)
            evaluation.selections = [
                {
                    "criterion_id": criterion.id,
                    "level_id": criterion.levels[min(index, 1, len(criterion.levels) - 1)].id,
                    "points": None,
                    "comment": COMMENTS[index % len(COMMENTS)],
                }
                for index, criterion in enumerate(rubric.criteria)
            ]
            evaluation.overall_comment = (
                "A dependable colleague; we would gladly host another placement like this one."
            )
        db.session.commit()


def activity_rubric(app: Flask, dashboard_url: str) -> int:
    """The id of the rubric the dashboard's activity uses."""
    found = re.search(r"/instructor/activities/(\d+)", dashboard_url)
    assert found is not None, dashboard_url
    with app.app_context():
        activity = db.session.get(Activity, int(found.group(1)))
        assert activity is not None and activity.rubric_id is not None
        return activity.rubric_id


def registrar_table(rows: list[list[str]]) -> str:
    """The registrar CSV as a plain HTML table, to photograph (a CSV has no page of its own)."""
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in rows[0])
    # Released results first: they are the rows a registrar acts on.
    released = sorted(rows[1:], key=lambda row: "not released" in row)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
        for row in released[:8]
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>registrar.csv</title>"
        "<style>body{font:13px system-ui,sans-serif;margin:16px;color:#1f2328}"
        "table{border-collapse:collapse}th,td{border:1px solid #d0d7de;padding:4px 6px;"
        "text-align:left;vertical-align:top;white-space:nowrap}th{background:#f6f8fa}"
        "caption{text-align:left;font-weight:600;margin-bottom:8px}</style></head><body>"
        f"<table><caption>registrar.csv: {len(rows) - 1} rows, the first 8 shown</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></body></html>"
    )


def capture(page: object, path: Path, max_height: int = 2600) -> None:
    """Full page (capped so the file stays small), then check the size."""
    height = min(max_height, int(page.evaluate("document.documentElement.scrollHeight")))  # type: ignore[attr-defined]
    width = int(page.viewport_size["width"])  # type: ignore[attr-defined]
    page.screenshot(
        path=str(path), full_page=True, clip={"x": 0, "y": 0, "width": width, "height": height}
    )  # type: ignore[attr-defined]
    size = path.stat().st_size
    print(f"  {path.relative_to(ROOT)}: {size // 1024} KB")
    if size > MAX_BYTES:
        print(f"  warning: {path.name} is over {MAX_BYTES // 1000} KB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chromium", default=os.environ.get("STINT_CHROMIUM", "/usr/bin/chromium"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as instance, sync_playwright() as playwright:
        base_url, app = serve(instance)
        browser = playwright.chromium.launch(
            executable_path=args.chromium, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        page = context.new_page()
        page.set_default_timeout(20_000)

        page.goto(
            f"{base_url}/dev-lms/course/launch?user={c.DEMO_INSTRUCTOR_SUB}&link={c.DEMO_LINK_ID}"
        )
        frame = page.frame(name="tool-frame")
        assert frame is not None
        frame.wait_for_url("**/instructor/activities/*")
        page.goto(frame.url)  # the dashboard on its own, without the LMS around it
        page.wait_for_load_state("networkidle")
        capture(page, out / "dashboard.png", max_height=2000)
        dashboard_url = page.url
        give_released_placement(app)

        export = page.get_by_role("link", name="Registrar export (CSV)").get_attribute("href")
        response = page.request.get(f"{base_url}{export}")
        assert response.ok, response.status
        rows = list(csv.reader(io.StringIO(response.text())))
        sheet = browser.new_context(viewport={"width": 1200, "height": 600}).new_page()
        sheet.set_content(registrar_table(rows))  # about:blank: no CSP, so its <style> applies
        width = int(sheet.evaluate("document.documentElement.scrollWidth"))
        sheet.set_viewport_size({"width": max(1200, width), "height": 600})
        capture(sheet, out / "registrar-export.png", max_height=600)

        page.goto(f"{base_url}/instructor/rubrics/{activity_rubric(app, dashboard_url)}/edit")
        page.wait_for_load_state("networkidle")
        capture(page, out / "rubric-builder.png", max_height=2000)

        phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
        phone.goto(
            f"{base_url}/dev-lms/course/launch?user={c.DEMO_STUDENT_SUBS[0]}&link={c.DEMO_LINK_ID}"
        )
        student_frame = phone.frame(name="tool-frame")
        assert student_frame is not None
        student_frame.wait_for_url("**/student/activities/*")
        activity_path = re.search(r"/student/activities/\d+", student_frame.url)
        assert activity_path is not None
        phone.goto(f"{base_url}{activity_path.group(0)}/result")
        phone.wait_for_load_state("networkidle")
        capture(phone, out / "student-result.png", max_height=2600)

        reviewer = browser.new_context(viewport={"width": 1000, "height": 900}).new_page()
        reviewer.goto(f"{base_url}/review/{review_token(app)}")
        reviewer.wait_for_load_state("networkidle")
        capture(reviewer, out / "review-form.png", max_height=2000)
        browser.close()

    shutil.copyfile(ROOT / "docs" / "certificate-sample.png", out / "certificate.png")
    print(
        f"  {(out / 'certificate.png').relative_to(ROOT)}: copied from docs/certificate-sample.png"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
