"""Load benchmark: a bounded mixed-user run against gunicorn + a ``stint worker`` on loopback.

The production shape on one machine: gunicorn (2 workers x 2 threads by default) serving Stint, one
``flask stint worker`` consuming jobs, the database of ``--database-url`` (default: the
``DATABASE_URL`` environment variable, else a SQLite file) and ``REDIS_URL`` when set. This script
is the LMS (it signs real id_tokens and publishes its JWKS on loopback) and the users:

- students launch (OIDC login, launch, entry), open their page, the project list, rank projects
  (a real form POST with its CSRF token, when their selection is open) and open their work page;
- instructors launch and open the dashboard, the grading page and the reviews page.

One course holds ``--students`` learners on ``--projects`` projects in every stage
(``add_cohort``). Meanwhile one thread requests ``/ping`` every 50 ms: the trivial endpoint,
measured in the same run under the same load. Supervisors' review pages are not driven yet
(their links' tokens are only ever in emails).

Printed: requests per second, server CPU per request (utime + stime of the gunicorn workers
from /proc, over every request served, pings included) and of the consumer, every status class
seen, and per page its count, p95 latency and p95 / p95 of /ping. Any 5xx is listed.

    python -m bench.load [--seconds 60] [--users 16] [--students 200] [--projects 40]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from bench.dashboard import populate
from bench.launch import ROOT, claims, free_port, serve_jwks, worker_cpu_seconds
from lti_app import create_app
from lti_app.extensions import db
from lti_app.models import Deployment, Platform

ISSUER = "https://bench-lms.example.edu"  # what bench.dashboard.populate registers
CLIENT_ID = "bench"
DEPLOYMENT = "bench-deployment"
INSTRUCTOR_ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
LEARNER_ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
CHOICE = re.compile(r'<select[^>]*name="choice_1"[^>]*>(.*?)</select>', re.S)
OPTION = re.compile(r'<option value="(\d+)"')


class Recorder:
    """Latencies per page and statuses, from every user thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[int, int] = defaultdict(int)
        self.errors: list[str] = []

    def request(
        self, session: requests.Session, page: str, method: str, url: str, **kwargs: object
    ) -> requests.Response:
        started = time.perf_counter()
        response = session.request(method, url, allow_redirects=False, timeout=60, **kwargs)  # type: ignore[arg-type]
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latency[page].append(elapsed)
            self.statuses[response.status_code // 100 * 100] += 1
            if response.status_code >= 500:
                self.errors.append(f"{response.status_code} {page} {url}")
        return response


def cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--users", type=int, default=16, help="concurrent simulated users")
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--projects", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
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
    try:
        for _ in range(300):
            try:
                if requests.get(base + "/ping", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.1)

        def launch(session: requests.Session, sub: str, roles: list[str]) -> str:
            login = record.request(
                session, "login", "POST", base + "/lti/login",
                data={"iss": ISSUER, "login_hint": sub, "target_link_uri": base + "/lti/launch",
                      "client_id": CLIENT_ID, "lti_deployment_id": DEPLOYMENT},
            )  # fmt: skip
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
            launched = record.request(
                session, "launch", "POST", base + "/lti/launch",
                data={"id_token": token, "state": query["state"][0]},
            )  # fmt: skip
            entered = record.request(session, "enter", "GET", base + launched.headers["Location"])
            return base + entered.headers.get("Location", "")

        def student(session: requests.Session, rnd: random.Random) -> None:
            home = launch(session, f"cohort-{rnd.randint(1, args.students)}", [LEARNER_ROLE])
            record.request(session, "student home", "GET", home)
            projects = f"{base}/student/activities/{activity_id}/projects"
            page = record.request(session, "project list", "GET", projects)
            token, choices = CSRF.search(page.text), CHOICE.search(page.text)
            if token and choices:
                ids = OPTION.findall(choices.group(1))
                rnd.shuffle(ids)
                form = {f"choice_{i + 1}": pid for i, pid in enumerate(ids[:3])}
                form.update(csrf_token=token.group(1), statement="I would like this project.")
                record.request(session, "rank (POST)", "POST", projects + "/ranking", data=form)
            record.request(
                session, "work page", "GET", f"{base}/student/activities/{activity_id}/work/"
            )

        def instructor(session: requests.Session, rnd: random.Random) -> None:
            launch(session, "bench-teacher", [INSTRUCTOR_ROLE])
            pages = f"{base}/instructor/activities/{activity_id}"
            record.request(session, "dashboard", "GET", pages)
            record.request(session, "grading page", "GET", pages + "/grading")
            record.request(session, "reviews page", "GET", pages + "/reviews/")

        deadline = time.monotonic() + args.seconds

        def user(n: int) -> None:
            rnd = random.Random(n)
            while time.monotonic() < deadline:
                session = requests.Session()
                try:
                    (instructor if rnd.random() < 0.2 else student)(session, rnd)
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
    finally:
        for process in (gunicorn, consumer):
            process.terminate()
            process.wait(15)
    served = sum(len(v) for v in record.latency.values())
    ping_p95 = statistics.quantiles(record.latency["/ping"], n=20)[18]
    redis = "yes" if env.get("REDIS_URL") else "no"
    print(f"database: {database_url.split(':', 1)[0]}; redis: {redis}; {args.students} students, "
          f"{args.users} users, {args.workers}x{args.threads} gunicorn")  # fmt: skip
    statuses = ", ".join(f"{k // 100}xx: {v}" for k, v in sorted(record.statuses.items()))
    print(f"{served} requests in {wall:.1f} s = {served / wall:.1f} requests/s; {statuses}")
    print(f"web CPU per request: {web_cpu / served * 1000:.2f} ms ({web_cpu:.1f} s in all); "
          f"consumer CPU: {consumer_cpu:.1f} s")  # fmt: skip
    print(f"{'page':16} {'count':>6} {'p95 ms':>8} {'p95 / ping p95':>15}")
    for page, samples in sorted(record.latency.items()):
        p95 = statistics.quantiles(samples, n=20)[18] if len(samples) > 1 else samples[0]
        print(f"{page:16} {len(samples):6} {p95 * 1000:8.1f} {p95 / ping_p95:15.1f}")
    for error in record.errors[:20]:
        print("error:", error)
    print(f"5xx responses: {sum(1 for e in record.errors if e[:1] == '5')}")


if __name__ == "__main__":
    main()
