"""Releasing a batch of certificates through the real queue: N ``stint worker`` consumers.

Called by ``bench/certificates.py --consumers N``. Seeds a cohort (``bench.dashboard.populate``)
in a database of its own (PostgreSQL ``<TEST_DATABASE_URL's name>_certbench`` when
TEST_DATABASE_URL is set, else a temporary SQLite file), gives ``count`` placements a pending
certificate with a real payload, enqueues one render job per certificate in Redis (``REDIS_URL``
or ``TEST_REDIS_URL``; a queue name of its own) as a release does, then starts N consumers
(``flask --app lti_app stint worker``, process workers, one per core unless ``--workers``) and
times until every certificate is issued. The jobs each render causes run too (the certificate
email, the score resend): that is what a release costs.

The floor, measured in the same run: the same certificates rendered and stored by a plain
process pool with as many processes as the consumers have in all (``run_pool``), no database,
no queue. Prints both and their ratio.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, delete, make_url, select, text

if TYPE_CHECKING:
    from certificates import CertificateData

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def bench_database(folder: str) -> Iterator[str]:
    """A fresh database URL: PostgreSQL when TEST_DATABASE_URL is set, else SQLite."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{folder}/certbench.sqlite"
        return
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    name = f"{make_url(url).database}_certbench"
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seed_pending(
    database_url: str, redis_url: str, folder: str, batch: list[CertificateData]
) -> list[int]:
    """The cohort, one pending certificate per placement for ``batch``, their jobs enqueued."""
    from bench.dashboard import populate
    from certificates import certificate_payload
    from lti_app import create_app
    from lti_app.extensions import db
    from lti_app.jobs import queue
    from lti_app.jobs.certificates import enqueue_renders
    from lti_app.models import Certificate, Placement

    queue.huey.immediate = False
    app = create_app(_config(database_url, redis_url, folder), instance_path=folder)
    populate(app, students=len(batch) * 2, projects=max(len(batch) // 5, 1))
    with app.app_context():
        queue.huey.flush()
        placement_ids = db.session.scalars(
            select(Placement.id).order_by(Placement.id).limit(len(batch))
        ).all()
        if len(placement_ids) < len(batch):
            raise SystemExit(f"only {len(placement_ids)} placements for {len(batch)} certificates")
        db.session.execute(delete(Certificate))
        rows = [
            Certificate(
                placement_id=pid,
                code=data.code,
                state="pending",
                data={"grade": {}, "payload": certificate_payload(data)},
            )
            for pid, data in zip(placement_ids, batch, strict=True)
        ]
        db.session.add_all(rows)
        db.session.commit()
        ids = [row.id for row in rows]
        enqueue_renders(ids)  # what the release's commit hands over: one job per certificate
        print(f"  enqueued {queue.huey.pending_count()} render jobs in queue {queue.huey.name!r}")
    return ids


def _config(database_url: str, redis_url: str, folder: str) -> dict[str, object]:
    return {
        "SECRET_KEY": "bench",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url,
        "STINT_QUEUE_NAME": "stint-certbench",
        "UPLOAD_DIR": os.path.join(folder, "uploads"),
        "CACHE_DIR": os.path.join(folder, "cache"),
        "STINT_DEV_PLATFORM": False,
    }


def _children_cpu() -> float:
    """User + system seconds of the children waited for: the consumers (which wait for their
    worker processes as they stop) or the pool's processes."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _issued(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text("SELECT count(*) FROM certificate WHERE state != 'pending'")
                ).scalar_one()
            )
    finally:
        engine.dispose()


def run_consumers(
    database_url: str, redis_url: str, folder: str, count: int, consumers: int, workers: int
) -> tuple[float, int]:
    """Start the consumers, wait until no certificate is pending; returns (seconds, failed)."""
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SECRET_KEY="bench",
        STINT_QUEUE_NAME="stint-certbench",
        STINT_INSTANCE_PATH=folder,
        STINT_UPLOAD_DIR=os.path.join(folder, "uploads"),
        STINT_CACHE_DIR=os.path.join(folder, "cache"),
        STINT_HTTP_TIMEOUT="2",  # the bench LMS does not exist: score resends fail fast
        MAIL_BACKEND="console",
    )
    command = [sys.executable, "-m", "flask", "--app", "lti_app", "stint", "worker"]
    command += ["--workers", str(workers), "--no-periodic"]
    logs = [open(os.path.join(folder, f"consumer-{n}.log"), "wb") for n in range(consumers)]  # noqa: SIM115
    started = time.perf_counter()
    processes = [
        subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        for log in logs
    ]
    try:
        done = 0
        while done < count:
            time.sleep(0.5)
            done = _issued(database_url)
            if any(p.poll() is not None for p in processes):
                raise SystemExit(f"a consumer exited; see {folder}/consumer-*.log")
        elapsed = time.perf_counter() - started
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
        for log in logs:
            log.close()
    engine = create_engine(database_url)
    with engine.connect() as conn:
        failed = conn.execute(text("SELECT count(*) FROM certificate WHERE state = 'failed'"))
        failures = int(failed.scalar_one())
    engine.dispose()
    return elapsed, failures


def measure(batch: list[CertificateData], consumers: int, workers: int) -> None:
    """Print the consumers' time, the pool floor's, and their ratio."""
    from bench.certificates import run_pool

    redis_url = os.environ.get("REDIS_URL") or os.environ.get("TEST_REDIS_URL")
    if not redis_url:
        raise SystemExit("--consumers needs REDIS_URL (or TEST_REDIS_URL): the shared queue")
    count = len(batch)
    print(f"  load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="stint-cert-consumers-") as folder:
        with bench_database(folder) as database_url:
            print(f"  database {make_url(database_url).get_backend_name()}, Redis {redis_url}")
            seed_pending(database_url, redis_url, folder, batch)
            cpu_before = _children_cpu()
            elapsed, failed = run_consumers(
                database_url, redis_url, folder, count, consumers, workers
            )
            consumers_cpu = _children_cpu() - cpu_before
        pool_store = Path(folder) / "pool"
        pool_store.mkdir()
        cpu_before = _children_cpu()
        floor = run_pool(batch, pool_store, consumers * workers)
        floor_cpu = _children_cpu() - cpu_before
    print(
        f"{consumers} consumers x {workers} worker processes: {count} certificates issued in "
        f"{elapsed:.1f} s ({count / elapsed:.1f}/s, {failed} failed), consumer start-up included"
    )
    print(
        f"floor (process pool of {consumers * workers}, warm, no database or queue): "
        f"{floor:.1f} s ({count / floor:.1f}/s)"
    )
    print(
        f"  CPU per certificate: consumers {1000 * consumers_cpu / count:.1f} ms (start-up, every "
        f"job a release causes), pool {1000 * floor_cpu / count:.1f} ms (warm-up included); "
        "the database's and Redis's own CPU not counted"
    )
    print(f"  load average at the end: {os.getloadavg()[0]:.1f} (other work slows both alike)")
    print(f"ratio consumers/floor: {elapsed / floor:.2f}")
