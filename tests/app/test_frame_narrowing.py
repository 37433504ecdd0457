"""Canvas framing narrowed to learnt origins, and memos that a reused platform id cannot inherit.

Removing a platform runs in another process (the real CLI, in a subprocess sharing this test's
database and cache folder), as it does in production: this process's per-process memos are
told only through the shared cache. The platform that takes the removed one's id is written
with a connection of its own, as a third process would, so nothing in this process notices it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert

from lti_app.extensions import db
from lti_app.lti.frame_origins import platform_of_course, platform_origins
from lti_app.models import Course, Deployment, Platform
from lti_app.models.base import utcnow
from tests.app.test_frame_ancestors import frame_ancestors
from tests.conftest import make_platform
from tests.support.platform import TestPlatform, default_claims

ROOT = Path(__file__).resolve().parents[2]
PRESENTATION = "https://purl.imsglobal.org/spec/lti/claim/launch_presentation"
CONTEXT = "https://purl.imsglobal.org/spec/lti/claim/context"
CANVAS_CLOUD = "https://canvas.instructure.com"
WILDCARD = "https://*.instructure.com"


def _from(page_origin: str | None, context: str = "course-1") -> dict[str, Any]:
    body = default_claims()
    body[CONTEXT] = {"id": context, "title": context}
    if page_origin:
        body[PRESENTATION] = {"return_url": f"{page_origin}/courses/7"}
    return body


def _canvas_school(app, jwks_server, school: str) -> TestPlatform:
    platform = make_platform(
        app, jwks_server, f"canvas-{school}", issuer=CANVAS_CLOUD, client_id=f"{school}-key"
    )
    with app.app_context():
        row = db.session.scalars(db.select(Platform).filter_by(client_id=f"{school}-key")).one()
        row.lms = "canvas"
        db.session.commit()
    return platform


def test_a_canvas_school_frames_only_its_own_host_once_a_launch_showed_it(app, jwks_server):
    school_a = _canvas_school(app, jwks_server, "a")
    school_b = _canvas_school(app, jwks_server, "b")
    # Nothing learnt yet: a launch that names no page origin is framed by any Canvas cloud host.
    first = school_a.launch(app.test_client(), _from(None), enter=False)
    assert WILDCARD in frame_ancestors(first)

    browser = app.test_client()
    landing = school_a.launch(browser, _from("https://a.instructure.com"))
    page = browser.get(landing.headers["Location"])
    assert page.status_code == 200
    assert "https://a.instructure.com" in frame_ancestors(page)
    assert WILDCARD not in frame_ancestors(page)
    # School B has shown no host yet: it keeps the wildcard, and A's pages never get it back.
    b_launch = school_b.launch(app.test_client(), _from(None), enter=False)
    assert WILDCARD in frame_ancestors(b_launch)
    assert "https://a.instructure.com" not in frame_ancestors(b_launch)
    assert WILDCARD not in frame_ancestors(browser.get(landing.headers["Location"]))


def _remove_in_another_process(app, platform_id: int, tmp_path: Path) -> None:
    env = dict(
        os.environ,
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        STINT_CACHE_DIR=app.config["CACHE_DIR"],
        SECRET_KEY=app.config["SECRET_KEY"],
        STINT_INSTANCE_PATH=str(tmp_path / "cli-instance"),
    )
    for name in ("REDIS_URL", "STINT_DEV_PLATFORM", "MAIL_BACKEND"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "lti_app", "stint", "platform", "remove",
         str(platform_id), "--yes"],
        env=env, cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"Removed platform {platform_id}" in done.stdout


def _register_with_id(app, platform: TestPlatform, platform_id: int) -> None:
    """A new registration that got the removed one's id (SQLite reuses the highest rowid)."""
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.begin() as connection:
        connection.execute(
            insert(Platform.__table__).values(
                id=platform_id,
                name=platform.name,
                issuer=platform.issuer,
                client_id=platform.client_id,
                auth_login_url=platform.auth_login_url,
                auth_token_url=platform.auth_token_url,
                key_set_url=platform.key_set_url,
                lms="other",
                frame_origins=[],
                created_at=utcnow(),
            )
        )
        connection.execute(
            insert(Deployment.__table__).values(
                platform_id=platform_id, deployment_id=platform.deployment_id
            )
        )
    engine.dispose()


def _platform_id(app, issuer: str) -> int:
    with app.app_context():
        return db.session.scalars(db.select(Platform.id).filter_by(issuer=issuer)).one()


def test_a_platform_that_reuses_a_removed_ones_id_does_not_inherit_its_origins(
    app, jwks_server, tmp_path
):
    old = make_platform(app, jwks_server, "old-lms", issuer="https://old.example.edu")
    launched = old.launch(app.test_client(), _from("https://pages.old.example.edu"), enter=False)
    assert "https://pages.old.example.edu" in frame_ancestors(launched)  # this process's memo
    old_id = _platform_id(app, old.issuer)

    _remove_in_another_process(app, old_id, tmp_path)
    new = TestPlatform(
        name="new-lms",
        issuer="https://new.example.edu",
        client_id="new-client",
        deployment_id="deployment-1",
        key_set_url=jwks_server.url_for("new-lms"),
    )
    jwks_server.key_sets["new-lms"] = new.jwks()
    _register_with_id(app, new, old_id)

    response = new.launch(app.test_client(), _from(None), enter=False)
    assert response.status_code == 303
    allowed = frame_ancestors(response)
    assert "https://new.example.edu" in allowed
    assert not {o for o in allowed if "old.example.edu" in o}


def test_a_course_id_reused_after_its_platform_was_removed_gets_its_own_platform(
    app, jwks_server, tmp_path
):
    kept = make_platform(app, jwks_server, "kept-lms", issuer="https://kept.example.edu")
    gone = make_platform(app, jwks_server, "gone-lms", issuer="https://gone.example.edu")
    kept_id, gone_id = _platform_id(app, kept.issuer), _platform_id(app, gone.issuer)
    assert gone.launch(app.test_client(), _from(None, "gone-course")).status_code == 303
    with app.app_context():
        course_id = db.session.scalars(
            db.select(Course.id).filter_by(context_id="gone-course")
        ).one()
    with app.test_request_context():
        assert platform_of_course(course_id) == gone_id  # remembered by this process

    _remove_in_another_process(app, gone_id, tmp_path)
    other = TestPlatform(
        name="other-lms",
        issuer="https://other.example.edu",
        client_id="other-client",
        deployment_id="deployment-1",
        key_set_url=jwks_server.url_for("other-lms"),
    )
    _register_with_id(app, other, gone_id)
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.begin() as connection:  # the kept platform's new course took the freed id
        connection.execute(
            insert(Course.__table__).values(id=course_id, platform_id=kept_id, context_id="new")
        )
    engine.dispose()

    with app.test_request_context():
        assert platform_of_course(course_id) == kept_id
        origins = platform_origins(kept_id).split()
        assert "https://kept.example.edu" in origins and "https://other.example.edu" not in origins
