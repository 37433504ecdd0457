"""Refresh the README's screenshots (docs/screenshots/*.png) in headless Chromium.

Serves Stint with the development LMS on loopback from a temporary instance, seeds the demo
(``stint demo seed`` plus a made-up cohort in every stage so the dashboard has something to
show), launches as the demo instructor through the development LMS, and captures:

- ``dashboard.png``: the instructor dashboard;
- ``review-form.png``: a supervisor's review form, opened from a review link;
- ``certificate.png``: the sample certificate (docs/certificate-sample.png, rendered by
  ``bench/certificates.py``), copied so all screenshots sit together.

    python -m bench.screenshots [--chromium /usr/bin/chromium] [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import os
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
from lti_app.models import Evaluation, Placement, ReviewInvitation
from lti_app.models.base import utcnow
from lti_app.services.reviews.links import new_token

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
