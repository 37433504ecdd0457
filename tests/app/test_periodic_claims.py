"""Claims of periodic jobs past their lease are deleted from a queue storage that keeps them.

Huey's SQLite file (the queue of a single machine) has no expiry: every occurrence of every
periodic job leaves a claim row. A periodic job deletes the ones past the lease; it is safe to
run twice and leaves everything else in the storage alone. Real SQLite files, no mock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from huey.storage import SqliteStorage

from lti_app.jobs import queue
from lti_app.jobs.housekeeping import sweep_periodic_claims

NOW = datetime(2031, 3, 4, 12, 0)  # naive UTC, as Huey's scheduler times are
JOB = "lti_app.jobs.outbox.sweep_outbox_task"


def _queue(path: str, name: str = "stint") -> queue.StintHuey:
    return queue.StintHuey(name, storage_class=SqliteStorage, filename=path)


def test_claims_past_the_lease_go_and_a_second_sweep_finds_none(tmp_path):
    path = str(tmp_path / "huey.sqlite")
    mine, other_install = _queue(path), _queue(path, "another-install")
    for minutes_ago in range(120):
        assert queue.claim_occurrence(mine, JOB, NOW - timedelta(minutes=minutes_ago))
    assert queue.claim_occurrence(other_install, JOB, NOW - timedelta(hours=5))
    mine.put("stint.web-secret-fingerprint", "0123abcd")

    # Minutes older than the 30-minute lease: 31 to 119 minutes ago.
    assert queue.sweep_expired_claims(mine, NOW) == 89
    assert queue.sweep_expired_claims(mine, NOW) == 0  # safe to run twice
    # Claims within the lease still stop a late consumer from running their minute again.
    assert not queue.claim_occurrence(mine, JOB, NOW - timedelta(minutes=30))
    assert queue.claim_occurrence(mine, JOB, NOW - timedelta(minutes=90))  # gone: claimable
    assert mine.storage.result_store_size() == 31 + 1 + 1  # kept, re-claimed, fingerprint
    assert mine.get("stint.web-secret-fingerprint", peek=True) == "0123abcd"
    # Another install's queue in the same file is not this install's to sweep.
    assert other_install.storage.result_store_size() == 1


def test_the_periodic_job_sweeps_the_apps_queue(app):
    old = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=2)
    recent = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=1)
    assert queue.claim_occurrence(queue.huey, JOB, old)
    assert queue.claim_occurrence(queue.huey, JOB, recent)
    try:
        sweep_periodic_claims.call_local()
        assert queue.claim_occurrence(queue.huey, JOB, old)  # deleted, so claimable again
        assert not queue.claim_occurrence(queue.huey, JOB, recent)
    finally:
        for at in (old, recent):
            queue.huey.delete(queue.occurrence_key(queue.huey.name, JOB, at))
