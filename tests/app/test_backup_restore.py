"""A backup of the SQLite database and the file folder, restored into a fresh instance, serves
the same data: the procedure docs/security.md gives ("Backups and a tested restore")."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import select

from lti_app import create_app
from lti_app.extensions import db
from lti_app.models import SubmissionFile
from lti_app.storage import storage
from tests.support.reviews_world import PDF, build_world, launch, reviews_url, submit_work


def _backup(database_url: str, upload_dir: str, target: Path) -> None:
    """What an operator runs: SQLite's online backup (``sqlite3 stint.sqlite ".backup ..."``)
    and a copy of the upload folder."""
    source = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    copy = sqlite3.connect(target / "stint.sqlite")
    with copy:
        source.backup(copy)
    copy.close()
    source.close()
    shutil.copytree(upload_dir, target / "uploads")


def _what_the_instructor_sees(client: Any, world: Any, file_id: int) -> tuple[str, bytes, str]:
    placement_id = world.placements["student-1"]
    page = client.get(reviews_url(world, f"/placements/{placement_id}"))
    assert page.status_code == 200
    download = client.get(reviews_url(world, f"/placements/{placement_id}/files/{file_id}"))
    assert download.status_code == 200
    table = client.get(f"/instructor/activities/{world.activity_id}/students.csv")
    assert table.status_code == 200
    return page.get_data(as_text=True), download.data, table.get_data(as_text=True)


def test_backup_restores_into_a_fresh_instance_that_serves_the_same_data(
    app: Flask, platform: Any, base_config: dict[str, Any], tmp_path: Path
) -> None:
    if not base_config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("the SQLite procedure; PostgreSQL uses pg_dump/pg_restore (docs/security.md)")
    world = build_world(app, platform)
    assert (
        submit_work(world, "student-1", files=[(PDF, "design.pdf")], text="Done").status_code == 303
    )
    with app.app_context():
        file_id = db.session.scalars(select(SubmissionFile.id)).one()
    before = _what_the_instructor_sees(world.instructor, world, file_id)
    assert "Student 1" in before[0] and "design.pdf" in before[0]
    assert before[1] == PDF

    backup = tmp_path / "backup"
    backup.mkdir()
    _backup(base_config["SQLALCHEMY_DATABASE_URI"], app.config["UPLOAD_DIR"], backup)

    # A fresh instance: its own folder, the restored database and files, the same SECRET_KEY.
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    shutil.copy(backup / "stint.sqlite", fresh / "stint.sqlite")
    shutil.copytree(backup / "uploads", fresh / "uploads")
    restored = create_app(
        dict(
            base_config,
            SQLALCHEMY_DATABASE_URI=f"sqlite:///{fresh / 'stint.sqlite'}",
            UPLOAD_DIR=str(fresh / "uploads"),
            CACHE_DIR=str(fresh / "cache"),
            HUEY_SQLITE_PATH=str(fresh / "huey.sqlite"),
        ),
        instance_path=str(fresh / "instance"),
    )
    with restored.app_context():
        upgrade()  # a restore into a newer release is migrated forward; here it is a no-op
    # The original file is gone: the restored instance can only serve its own copy.
    with app.app_context():
        key = db.session.get(SubmissionFile, file_id).storage_key
        storage().delete(key)

    instructor = launch(
        restored, platform, role="Instructor", sub=f"teacher-{world.context}", context=world.context
    )
    after = _what_the_instructor_sees(instructor, world, file_id)
    assert after[1] == before[1]
    assert after[2] == before[2]  # the whole student table, row for row
    assert "Student 1" in after[0] and "design.pdf" in after[0] and "Done" in after[0]
