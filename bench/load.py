"""Load benchmark: a bounded mixed-user run against gunicorn + a ``stint worker`` on loopback.

The production shape on one machine: gunicorn (2 workers x 2 threads by default) serving Stint, one
``flask stint worker`` consuming jobs, the database of ``--database-url`` (default: the
``DATABASE_URL`` environment variable, else a SQLite file) and ``REDIS_URL`` when set. This script
is the LMS (it signs real id_tokens and publishes its JWKS on loopback) and the users:

- students launch (OIDC login, launch, and any hop of Stint's own a browser takes), open their
  page, the project list, rank projects (a real form POST with its CSRF token, when their
  selection is open), open their work page and, while their placement takes work (before the
  supervisor's evaluation), hand in a new version of a deliverable (text and a small file) and
  log hours;
- instructors launch and open the dashboard, the grading page and the reviews page;
- supervisors open a review link, save a draft of the evaluation (rubric levels, hours, comment)
  and, one visit in four, review and submit it. Review links' tokens are only ever in emails,
  so before the run this script gives the cohort's open invitations tokens it knows (their
  stored hashes replaced, as a reminder's rotation does). The per-address limits of review links
  are lifted for the run: every simulated supervisor comes from 127.0.0.1 (docs/deploy.md says
  what a real proxy needs).

One course holds ``--students`` learners on ``--projects`` projects in every stage
(``add_cohort``). Meanwhile one thread requests ``/ping`` every 50 ms: the trivial endpoint,
measured in the same run under the same load.

Printed for the mixed run (``--seconds``, 60 by default): requests per second, server CPU per
request (utime + stime of the gunicorn workers from /proc, over every request served, pings
included) and of the consumer, every status class seen, and per page its count, p95 latency and
p95 / p95 of /ping. Any 5xx is listed. Then each kind of user runs alone, one request at a time
(``--alone`` rounds), so the workers' CPU can be given to the page that used it: per page its
CPU per request and its ratio to /ping's, measured in the same phase.

    python -m bench.load [--seconds 60] [--users 16] [--students 200] [--projects 40] [--alone 10]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from sqlalchemy import select

from bench.dashboard import populate
from bench.launch import ROOT, claims, free_port, serve_jwks, worker_cpu_seconds
from lti_app import create_app
from lti_app.extensions import db
from lti_app.models import Deployment, Placement, Platform, ReviewInvitation, User
from lti_app.models.base import utcnow
from lti_app.services.reviews.links import hash_token

ISSUER = "https://bench-lms.example.edu"  # what bench.dashboard.populate registers
CLIENT_ID = "bench"
DEPLOYMENT = "bench-deployment"
INSTRUCTOR_ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
LEARNER_ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
CHOICE = re.compile(r'<select[^>]*name="choice_1"[^>]*>(.*?)</select>', re.S)
OPTION = re.compile(r'<option value="(\d+)"')
LEVEL = re.compile(r'type="radio" id="[^"]*" name="([^"]+-level)" value="([^"]+)"')
OFFER = re.compile(r'name="would_offer" value="([^"]+)"')
DELIVERABLE = re.compile(r"/student/activities/\d+/work/deliverables/\d+")


class Recorder:
    """Latencies per page and statuses, from every user thread; CPU per page when probed.

    With ``probe`` (the gunicorn workers' CPU seconds) set, one request runs at a time and the
    CPU the workers used meanwhile is the page's: the ``/proc`` clock ticks (10 ms) fall on
    whichever request was running, so over many requests the sums per page are fair.
    """

    def __init__(self, probe: Callable[[], float] | None = None) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.cpu: dict[str, float] = defaultdict(float)
        self.statuses: dict[int, int] = defaultdict(int)
        self.refused: dict[str, int] = defaultdict(int)  # 4xx per page
        self.errors: list[str] = []
        self.probe = probe

    def request(
        self, session: requests.Session, page: str, method: str, url: str, **kwargs: object
    ) -> requests.Response:
        cpu_before = self.probe() if self.probe else 0.0
        started = time.perf_counter()
        response = session.request(method, url, allow_redirects=False, timeout=60, **kwargs)  # type: ignore[arg-type]
        elapsed = time.perf_counter() - started
        cpu = self.probe() - cpu_before if self.probe else 0.0
        with self.lock:
            self.latency[page].append(elapsed)
            self.cpu[page] += cpu
            self.statuses[response.status_code // 100 * 100] += 1
            if 400 <= response.status_code < 500:
                self.refused[f"{page} {response.status_code}"] += 1
            if response.status_code >= 500:
                self.errors.append(f"{response.status_code} {page} {url}")
        return response


def cpu_of(pid: int) -> float:
    """utime + stime of a process and of its children (a consumer's worker processes)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + worker_cpu_seconds(pid)


def give_review_tokens(app: Flask) -> list[str]:
    """Tokens for the cohort's open review invitations (only their hashes are stored)."""
    tokens: list[str] = []
    with app.app_context():
        invitations = db.session.scalars(
            select(ReviewInvitation)
            .join(Placement, Placement.id == ReviewInvitation.placement_id)
            .where(
                Placement.status == "under_review",
                ReviewInvitation.revoked_at.is_(None),
                ReviewInvitation.expires_at > utcnow() + timedelta(days=1),
            )
        ).all()
        for invitation in invitations:
            token = secrets.token_urlsafe(32)
            invitation.token_hash = hash_token(token)
            tokens.append(token)
        db.session.commit()
    return tokens


def students_at_work(app: Flask) -> set[str]:
    """Who may still hand in work and log hours: published placements before the evaluation
    (later, Stint refuses new versions and hours with a 400 that says why)."""
    with app.app_context():
        return set(
            db.session.scalars(
                select(User.sub)
                .join(Placement, Placement.user_id == User.id)
                .where(
                    Placement.published.is_(True),
                    Placement.status.in_(("active", "submitted", "under_review")),
                )
            )
        )


def draft_of(page: str) -> dict[str, str]:
    """A filled-in evaluation: the first level of every criterion, hours and a comment."""
    form = {"hours_confirmed": "32", "overall_comment": "Reliable and curious; good work."}
    for name, value in LEVEL.findall(page):
        form.setdefault(name, value)
    offer = OFFER.search(page)
    if offer:
        form["would_offer"] = offer.group(1)
    token = CSRF.search(page)
    if token:
        form["csrf_token"] = token.group(1)
    return form


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--users", type=int, default=16, help="concurrent simulated users")
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--projects", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--alone", type=int, default=10, help="rounds of each user kind alone")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    args = parser.parse_args()

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = "load-" + uuid.uuid4().hex[:6]
    jwks_url = serve_jwks(key, kid)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    instance = tempfile.mkdtemp(prefix="stint-load-")
    database_url = args.database_url or f"sqlite:///{instance}/stint.sqlite"
    env = dict(
        os.environ,
        STINT_INSTANCE_PATH=instance,
        STINT_BASE_URL=base,
        SECRET_KEY="bench-load",
        DATABASE_URL=database_url,
        HUEY_SQLITE_PATH=os.path.join(instance, "huey.sqlite"),
        # Every simulated supervisor comes from 127.0.0.1: no per-address limit for the run.
        STINT_REVIEW_RATE_LIMIT="1000000 per minute",
        STINT_REVIEW_GUESS_RATE_LIMIT="1000000 per minute",
    )
    env.pop("STINT_DEV_PLATFORM", None)
    os.environ.update({k: env[k] for k in ("STINT_BASE_URL", "DATABASE_URL")})
    app = create_app({"SECRET_KEY": "bench-load"}, instance_path=instance)
    _teacher, _course, activity_id = populate(app, args.students, args.projects)
    with app.app_context():
        platform = db.session.query(Platform).one()
        platform.key_set_url = jwks_url
        db.session.add(Deployment(platform_id=platform.id, deployment_id=DEPLOYMENT))
        db.session.commit()
    review_tokens = give_review_tokens(app)
    at_work = students_at_work(app)
    with app.app_context():
        db.engine.dispose()

    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(args.workers), "--threads",
         str(args.threads), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
         "lti_app:create_app()"],
        env=env, cwd=ROOT,
    )  # fmt: skip
    consumer = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "lti_app", "stint", "worker", "--workers", "2"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    record = Recorder()
    alone = Recorder(probe=lambda: worker_cpu_seconds(gunicorn.pid))
    # Not submitted yet; a few are kept for the alone phase, so it measures drafts and submits.
    reserved = review_tokens[: args.alone]
    open_reviews = review_tokens[args.alone :]
    reviews_lock = threading.Lock()
    try:
        for _ in range(300):
            try:
                if requests.get(base + "/ping", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.1)

        def launch(rec: Recorder, session: requests.Session, sub: str, roles: list[str]) -> str:
            login = rec.request(
                session, "login", "POST", base + "/lti/login",
                data={"iss": ISSUER, "login_hint": sub, "target_link_uri": base + "/lti/launch",
                      "client_id": CLIENT_ID, "lti_deployment_id": DEPLOYMENT},
            )  # fmt: skip
            if "/lti/login/check" in login.headers["Location"]:  # a browser's first login
                login = rec.request(session, "login check", "GET", base + login.headers["Location"])
            query = parse_qs(urlsplit(login.headers["Location"]).query)
            body = claims(sub, query["nonce"][0])
            body.update(
                aud=CLIENT_ID,
                **{
                    "https://purl.imsglobal.org/spec/lti/claim/roles": roles,
                    "https://purl.imsglobal.org/spec/lti/claim/resource_link": {"id": "bench-link"},
                },
            )
            token = jwt.encode(body, key, algorithm="RS256", headers={"kid": kid})
            landed = rec.request(
                session, "launch", "POST", base + "/lti/launch",
                data={"id_token": token, "state": query["state"][0]},
            )  # fmt: skip
            while landed.headers.get("Location", "").startswith("/lti/"):  # Stint's own hops
                landed = rec.request(
                    session, "launch hop", "GET", base + landed.headers["Location"]
                )
            return base + landed.headers.get("Location", "")

        def student(rec: Recorder, session: requests.Session, rnd: random.Random) -> None:
            sub = f"cohort-{rnd.randint(1, args.students)}"
            home = launch(rec, session, sub, [LEARNER_ROLE])
            rec.request(session, "student home", "GET", home)
            projects = f"{base}/student/activities/{activity_id}/projects"
            page = rec.request(session, "project list", "GET", projects)
            token, choices = CSRF.search(page.text), CHOICE.search(page.text)
            if token and choices:
                ids = OPTION.findall(choices.group(1))
                rnd.shuffle(ids)
                form = {f"choice_{i + 1}": pid for i, pid in enumerate(ids[:3])}
                form.update(csrf_token=token.group(1), statement="I would like this project.")
                rec.request(session, "rank (POST)", "POST", projects + "/ranking", data=form)
            work = f"{base}/student/activities/{activity_id}/work/"
            page = rec.request(session, "work page", "GET", work)
            deliverable = DELIVERABLE.search(page.text)
            if page.status_code != 200 or deliverable is None or sub not in at_work:
                return  # no published placement, or past handing in
            token = CSRF.search(page.text)
            if token and rnd.random() < 0.5:
                hours = {"csrf_token": token.group(1), "worked_on": "2026-03-02", "hours": "3.5",
                         "description": "Interviews with the partner's team."}  # fmt: skip
                rec.request(session, "log hours (POST)", "POST", work + "hours", data=hours)
            url = f"{base}{deliverable.group(0)}"
            form_page = rec.request(session, "submit form", "GET", url)
            token = CSRF.search(form_page.text)
            if token:
                rec.request(
                    session, "submit work (POST)", "POST", url,
                    data={"csrf_token": token.group(1), "text_md": "My report, version n."},
                    files={"files": ("notes.txt", b"Notes from the week.\n", "text/plain")},
                )  # fmt: skip

        def instructor(rec: Recorder, session: requests.Session, rnd: random.Random) -> None:
            launch(rec, session, "bench-teacher", [INSTRUCTOR_ROLE])
            pages = f"{base}/instructor/activities/{activity_id}"
            rec.request(session, "dashboard", "GET", pages)
            rec.request(session, "grading page", "GET", pages + "/grading")
            rec.request(session, "reviews page", "GET", pages + "/reviews/")

        def supervisor(rec: Recorder, session: requests.Session, rnd: random.Random) -> None:
            with reviews_lock:
                pending = bool(open_reviews)
                token = (open_reviews or review_tokens)[
                    rnd.randrange(len(open_reviews or review_tokens))
                ]
                submitting = pending and rnd.random() < 0.25
                if submitting:
                    open_reviews.remove(token)
            url = f"{base}/review/{token}"
            page = rec.request(session, "review page", "GET", url)
            if not pending or page.status_code != 200:
                return
            form = draft_of(page.text)
            rec.request(session, "save draft (POST)", "POST", url, data={**form, "action": "draft"})
            if not submitting:
                return
            checked = rec.request(
                session, "review (POST)", "POST", url, data={**form, "action": "review"}
            )
            if "/confirm" not in checked.headers.get("Location", ""):
                return  # the page listed what is missing: the draft stays a draft
            confirm = rec.request(
                session, "confirm page", "GET", base + checked.headers["Location"]
            )
            token_field = CSRF.search(confirm.text)
            if token_field:
                rec.request(session, "submit review (POST)", "POST", url + "/submit",
                            data={"csrf_token": token_field.group(1)})  # fmt: skip

        kinds: list[tuple[str, Callable[[Recorder, requests.Session, random.Random], None]]] = [
            ("instructor", instructor), ("supervisor", supervisor), ("student", student)
        ]  # fmt: skip
        deadline = time.monotonic() + args.seconds

        def user(n: int) -> None:
            rnd = random.Random(n)
            session = requests.Session()  # one browser per user: it keeps its cookies
            while time.monotonic() < deadline:
                draw = rnd.random()
                flow = instructor if draw < 0.15 else supervisor if draw < 0.4 else student
                try:
                    flow(record, session, rnd)
                except (requests.RequestException, KeyError) as exc:
                    with record.lock:
                        record.errors.append(repr(exc))

        def trivial() -> None:
            session = requests.Session()
            while time.monotonic() < deadline:
                record.request(session, "/ping", "GET", base + "/ping")
                time.sleep(0.05)

        cpu0, consumer0, t0 = worker_cpu_seconds(gunicorn.pid), cpu_of(consumer.pid), time.time()
        threads = [threading.Thread(target=user, args=(n,)) for n in range(args.users)]
        threads.append(threading.Thread(target=trivial))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.time() - t0
        web_cpu = worker_cpu_seconds(gunicorn.pid) - cpu0
        consumer_cpu = cpu_of(consumer.pid) - consumer0
        # Alone: one request at a time, pings between the users so noise falls on both.
        rnd = random.Random(1)
        plain = requests.Session()
        with reviews_lock:
            open_reviews[:] = reserved
        for _ in range(args.alone):
            for _name, flow in kinds:
                flow(alone, requests.Session(), rnd)
                for _ in range(5):
                    alone.request(plain, "/ping", "GET", base + "/ping")
    finally:
        for process in (gunicorn, consumer):
            process.terminate()
            process.wait(15)
    served = sum(len(v) for v in record.latency.values())
    ping_p95 = statistics.quantiles(record.latency["/ping"], n=20)[18]
    redis = "yes" if env.get("REDIS_URL") else "no"
    print(f"database: {database_url.split(':', 1)[0]}; redis: {redis}; {args.students} students, "
          f"{args.users} users, {args.workers}x{args.threads} gunicorn, "
          f"{len(review_tokens)} review links")  # fmt: skip
    statuses = ", ".join(f"{k // 100}xx: {v}" for k, v in sorted(record.statuses.items()))
    print(f"{served} requests in {wall:.1f} s = {served / wall:.1f} requests/s; {statuses}")
    print(f"web CPU per request: {web_cpu / served * 1000:.2f} ms ({web_cpu:.1f} s in all); "
          f"consumer CPU: {consumer_cpu:.1f} s")  # fmt: skip
    print(f"{'page':22} {'count':>6} {'p95 ms':>8} {'p95/ping':>9}   alone: {'count':>5} "
          f"{'CPU ms':>7} {'CPU/ping':>8}")  # fmt: skip
    ping_cpu = alone.cpu["/ping"] / max(1, len(alone.latency["/ping"]))
    for page in sorted(set(record.latency) | set(alone.latency)):
        samples = record.latency.get(page, [])
        line = f"{page:22} {len(samples):6} "
        if samples:
            p95 = statistics.quantiles(samples, n=20)[18] if len(samples) > 1 else samples[0]
            line += f"{p95 * 1000:8.1f} {p95 / ping_p95:9.1f}"
        else:
            line += f"{'-':>8} {'-':>9}"
        count = len(alone.latency.get(page, []))
        if count:
            cpu = alone.cpu[page] / count
            line += f"          {count:5} {cpu * 1000:7.2f} {cpu / ping_cpu:8.1f}"
        print(line)
    refused = ", ".join(f"{k}: {v}" for k, v in sorted(record.refused.items())) or "none"
    print(f"4xx by page and status: {refused}")
    for error in (record.errors + alone.errors)[:20]:
        print("error:", error)
    print(f"5xx responses: {sum(1 for e in record.errors + alone.errors if e[:1] == '5')}")


if __name__ == "__main__":
    main()
