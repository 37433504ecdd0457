"""Grade pass-back benchmark: 1,000 released grades delivered to the development LMS's AGS.

Stint with the development LMS runs under gunicorn on loopback (separate processes, so the LMS
side does not share this process's CPU). This script seeds 1,000 students and their approved
grades over several line items, releases them (the ScoreSync rows are written, delivery held
back), then times ``lti_app.jobs.scores.run_delivery``: the real outbox path (claims, line item
resolution, score JSON, one token, per-batch bookkeeping) with the configured concurrency across
line items and one request at a time within each.

The floor, measured in the same run: the same number of bare score POSTs through the same client
class and HTTP session, with the same concurrency (one thread per line item, sequential inside),
to other line items of the same LMS.

Prints token fetches (goal 1), HTTP requests, both times, and on the last line the ratio of the
delivery's rate to the floor's rate (goal >= 0.8).

    python -m bench.passback [--grades 1000] [--line-items 4] [--workers 2] [--threads 8]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_gunicorn(env: dict[str, str], port: int, workers: int, threads: int) -> subprocess.Popen:
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers),
        "--threads", str(threads),
        "--log-level", "warning",
        "lti_app:create_app()",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/dev-lms/api/stats", timeout=1).ok:
                return process
        except requests.RequestException:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--grades", type=int, default=1000)
    parser.add_argument("--line-items", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()

    instance = Path(tempfile.mkdtemp(prefix="stint-bench-passback-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(
        os.environ,
        STINT_INSTANCE_PATH=str(instance),
        STINT_BASE_URL=base,
        STINT_DEV_PLATFORM="1",
        SECRET_KEY="bench-secret",
        DATABASE_URL=f"sqlite:///{instance / 'stint.sqlite'}",
        HUEY_SQLITE_PATH=str(instance / "huey.sqlite"),
    )
    os.environ.update({k: env[k] for k in ("STINT_INSTANCE_PATH", "HUEY_SQLITE_PATH")})

    from flask_migrate import upgrade

    from lti_app import create_app

    app = create_app(
        {
            "SECRET_KEY": "bench-secret",
            "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"],
            "STINT_BASE_URL": base,
            "STINT_DEV_PLATFORM": True,
            "AGS_CONCURRENCY": args.line_items,
        },
        instance_path=str(instance),
    )
    with app.app_context():
        upgrade()
        setup = seed(app, base, args.grades, args.line_items)
    server = start_gunicorn(env, port, args.workers, args.threads)
    try:
        run(app, base, setup, args)
    finally:
        server.terminate()
        server.wait(timeout=10)


def seed(app: Any, base: str, grades: int, line_items: int) -> dict[str, Any]:
    """Students in the LMS, activities with line items, approved grades, then the release."""
    from lti_app.dev_platform import constants as c
    from lti_app.dev_platform.admin import DevPlatformAdmin
    from lti_app.dev_platform.registration import dev_platform_spec
    from lti_app.extensions import db
    from lti_app.jobs import scores as score_jobs
    from lti_app.lti.keys import ensure_active_key
    from lti_app.models import (
        Activity,
        Course,
        Grade,
        Partner,
        Placement,
        Project,
        User,
    )
    from lti_app.models.base import utcnow
    from lti_app.services.ags.client import SCOPE_LINEITEM, SCOPE_SCORE
    from lti_app.services.certificates.issue import issue_after_grade_change
    from lti_app.services.certificates.passback import passback_extras
    from lti_app.services.grading import approve_release
    from lti_app.services.platforms import register_platform

    platform = register_platform(dev_platform_spec(base))
    db.session.commit()
    ensure_active_key()
    admin = DevPlatformAdmin(str(Path(app.instance_path) / "dev_platform.sqlite"), base)
    subs = [admin.add_student("Bench", f"Student {i}", f"b{i}@example.edu") for i in range(grades)]
    api = f"{base}/dev-lms/api/courses/{c.DEMO_CONTEXT_ID}/lineitems"

    def new_line_item(title: str) -> tuple[str, int]:
        link = admin.create_resource_link(title, 100)
        return link, admin.line_items(link)[0].id

    course = Course(platform_id=platform.id, context_id=c.DEMO_CONTEXT_ID, title="Bench")
    teacher = User(platform_id=platform.id, sub=c.DEMO_INSTRUCTOR_SUB, name="Ada")
    partner = Partner(platform_id=platform.id, name="Bench partner")
    db.session.add_all([course, teacher, partner])
    db.session.flush()
    project = Project(platform_id=platform.id, partner_id=partner.id, title="P", status="open")
    db.session.add(project)
    db.session.flush()
    users = [User(platform_id=platform.id, sub=sub, name=f"S{i}") for i, sub in enumerate(subs)]
    db.session.add_all(users)
    activities = []
    for index in range(line_items):
        link, item = new_line_item(f"Bench sprint {index}")
        activity = Activity(
            course_id=course.id,
            resource_link_id=link,
            title=f"Bench sprint {index}",
            lineitem_url=f"{api}/{item}",
            lineitems_url=api,
            ags_scopes=[SCOPE_LINEITEM, SCOPE_SCORE],
            configured=True,
        )
        db.session.add(activity)
        activities.append(activity)
    db.session.flush()
    now = utcnow()
    for index, user in enumerate(users):
        activity = activities[index % line_items]
        placement = Placement(
            activity_id=activity.id, user_id=user.id, project_id=project.id, status="graded"
        )
        db.session.add(placement)
        db.session.flush()
        points = Decimal(50 + index % 50) + Decimal("0.25")
        db.session.add(
            Grade(
                placement_id=placement.id,
                computed={"points": str(points), "score_maximum": "100", "reasons": []},
                fraction=points / 100,
                points=points,
                passed=True,
                approved_by_id=teacher.id,
                approved_at=now - timedelta(minutes=1),
            )
        )
    db.session.commit()
    floor_items = [new_line_item(f"Floor {i}")[1] for i in range(line_items)]
    held: list[list[int]] = []
    issuing = {"seconds": 0.0}
    original = score_jobs.deliver_scores
    score_jobs.deliver_scores = held.append  # type: ignore[assignment]
    started = time.perf_counter()
    for activity in activities:
        # What the grading page's Release does: the service, one commit, then certificates.
        outcome = approve_release.release(activity, None, teacher.id, extras_for=passback_extras)
        db.session.commit()
        began = time.perf_counter()
        issue_after_grade_change(outcome.released)
        db.session.commit()
        issuing["seconds"] += time.perf_counter() - began
    release_seconds = time.perf_counter() - started
    score_jobs.deliver_scores = original  # type: ignore[assignment]
    return {
        "certificate_seconds": issuing["seconds"],
        "activity_ids": [a.id for a in activities],
        "subs": subs,
        "floor_items": floor_items,
        "api": api,
        "release_seconds": release_seconds,
        "platform_id": platform.id,
    }


def run(app: Any, base: str, setup: dict[str, Any], args: argparse.Namespace) -> None:
    from sqlalchemy import func, select

    from grading.ags import format_ags_timestamp
    from lti_app.extensions import db
    from lti_app.jobs import scores as score_jobs
    from lti_app.lti.http import http_session
    from lti_app.lti.services import token_cache
    from lti_app.models import Platform, ScoreSync
    from lti_app.models.base import utcnow
    from lti_app.services.ags import client as ags_client
    from lti_app.services.ags.wire import MEDIA_SCORE, scores_url

    counted = {"requests": 0}

    def count(response: requests.Response, *a: Any, **k: Any) -> None:
        counted["requests"] += 1

    session = http_session(float(app.config["HTTP_TIMEOUT"]))
    session.hooks["response"].append(count)
    stats_url = f"{base}/dev-lms/api/stats"
    with app.app_context():
        platform = db.session.get(Platform, setup["platform_id"])
        client = ags_client.client_for(platform)
        scopes = (ags_client.SCOPE_LINEITEM, ags_client.SCOPE_SCORE)
        subs = setup["subs"]
        per_item = [subs[i :: args.line_items] for i in range(args.line_items)]

        def floor_run() -> tuple[float, int]:
            """Bare POSTs: same client class, session, token and concurrency as delivery."""
            client.access_token(scopes)
            moment = utcnow()

            def bare(index: int) -> int:
                url = scores_url(f"{setup['api']}/{setup['floor_items'][index]}")
                ok = 0
                for sub in per_item[index]:
                    body = (
                        f'{{"userId":"{sub}","scoreGiven":75.25,"scoreMaximum":100,'
                        f'"activityProgress":"Completed","gradingProgress":"FullyGraded",'
                        f'"timestamp":"{format_ags_timestamp(moment)}"}}'
                    )
                    ok += client.send_text("POST", url, scopes, body, MEDIA_SCORE).ok
                return ok

            began = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.line_items) as pool:
                accepted = sum(pool.map(bare, range(args.line_items)))
            return time.perf_counter() - began, accepted

        # The machine's load drifts; the floor is measured before and after and averaged.
        floor_before, ok_before = floor_run()
        token_cache.clear()
        requests.post(f"{stats_url}/reset", timeout=5)
        counted["requests"] = 0
        started = time.perf_counter()
        report = score_jobs.run_delivery(setup["activity_ids"])
        delivery_seconds = time.perf_counter() - started
        stats = requests.get(stats_url, timeout=5).json()
        delivery_requests = counted["requests"]
        sent = db.session.scalar(
            select(func.count()).select_from(ScoreSync).where(ScoreSync.state == "sent")
        )
        floor_after, ok_after = floor_run()
    floor_seconds = (floor_before + floor_after) / 2
    floor_ok = min(ok_before, ok_after)

    grades = len(subs)
    own = setup["release_seconds"] - setup["certificate_seconds"]
    print(
        f"grades released: {grades} over {args.line_items} line items in "
        f"{setup['release_seconds']:.2f} s (grades + outbox rows {own:.2f} s, certificate "
        f"issuing after commit {setup['certificate_seconds']:.2f} s; not part of the ratio)"
    )
    print(
        f"gunicorn: {args.workers} workers x {args.threads} threads; "
        f"delivery concurrency {args.line_items} line items, sequential within each"
    )
    print(f"delivered: {sent} sent, {report.failed} failed, {report.deferred} deferred")
    print(f"token fetches: {stats['token_requests']} (goal 1)")
    print(
        f"HTTP requests: {delivery_requests} "
        f"({stats['score_posts_accepted']} score posts accepted, "
        f"{delivery_requests - stats['score_posts_accepted'] - stats['token_requests']} "
        "line item look-ups)"
    )
    print(f"delivery: {delivery_seconds:.2f} s ({grades / delivery_seconds:.0f} grades/s)")
    print(
        f"floor:    {floor_seconds:.2f} s (mean of {floor_before:.2f} s before and "
        f"{floor_after:.2f} s after the delivery; at least {floor_ok} of {grades} bare POSTs "
        f"accepted each time; {grades / floor_seconds:.0f} posts/s)"
    )
    print(
        f"ratio (delivery rate / floor rate, goal >= 0.8): {floor_seconds / delivery_seconds:.2f}"
    )


if __name__ == "__main__":
    main()
