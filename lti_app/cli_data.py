"""``flask --app lti_app stint purge | platform retention | student export/erase``: retention
and data-subject requests, for administrators (see docs/security.md).

Each command that deletes shows what it would do unless ``--yes`` is given, commits once, and
only then removes the files whose rows it deleted, so a failure leaves the files in place.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from lti_app.extensions import db
from lti_app.models.base import utcnow
from lti_app.read_models.change_stamps import replace_stamps
from lti_app.services import data_requests, retention

student_group = AppGroup("student", help="Data-subject requests: export or erase one person.")


@click.command("retention")
@with_appcontext
@click.argument("platform_id", type=int)
@click.argument("days", type=int)
def platform_retention(platform_id: int, days: int) -> None:
    """Keep student data DAYS days after a course of PLATFORM_ID ends (default 1825)."""
    try:
        platform = retention.set_retention(platform_id, days)
    except retention.RetentionError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from exc
    db.session.commit()
    click.echo(f"Platform {platform.id}: student data kept {days} days after a course ends.")


@click.command("purge")
@with_appcontext
@click.option("--platform", "platform_id", type=int, default=None, help="Only this platform.")
@click.option("--yes", is_flag=True, help="Delete for real (without it, a dry run).")
@click.option("--dry-run", is_flag=True, help="Only show what would be deleted (the default).")
def purge(platform_id: int | None, yes: bool, dry_run: bool) -> None:
    """Delete the student data of courses that ended longer ago than their platform's policy."""
    now = utcnow()
    plans = retention.due_for_purge(now, platform_id)
    really = yes and not dry_run
    verb = "Purging" if really else "Would purge"
    if not plans:
        click.echo("No course is past its retention period; nothing to purge.")
        return
    for plan in plans:
        click.echo(f"{verb} {plan.describe(now)}")
    if not really:
        click.echo(f"Dry run: {len(plans)} course(s) would be purged. Run with --yes to delete.")
        db.session.rollback()
        return
    keys = retention.purge(plans)
    db.session.commit()
    removed = retention.delete_files(keys)
    replace_stamps(current_app.extensions["stint_cache"], [p.course_id for p in plans])
    click.echo(f"Purged {len(plans)} course(s); {removed} file(s) removed.")


@student_group.command("export")
@click.option("--platform", "platform_id", type=int, required=True)
@click.option("--sub", required=True, help="The person's user id in the LMS (LTI sub).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
def student_export(platform_id: int, sub: str, out: Path | None) -> None:
    """Write everything Stint holds about one person (JSON and their files) to a ZIP."""
    try:
        user = data_requests.find_user(platform_id, sub)
    except data_requests.UnknownPersonError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from exc
    target = out or Path(f"stint-student-{platform_id}-{user.id}.zip")
    target.write_bytes(data_requests.export_zip(user))
    click.echo(f"Wrote {target}")


@student_group.command("erase")
@click.option("--platform", "platform_id", type=int, required=True)
@click.option("--sub", required=True, help="The person's user id in the LMS (LTI sub).")
@click.option("--yes", is_flag=True, help="Erase for real (without it, a dry run).")
def student_erase(platform_id: int, sub: str, yes: bool) -> None:
    """Delete one person's data, files included. Grades in the LMS stay the LMS's."""
    try:
        user = data_requests.find_user(platform_id, sub)
    except data_requests.UnknownPersonError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from exc
    if not yes:
        click.echo(f"Would erase {data_requests.plan_erasure(user).describe()}.")
        click.echo("Dry run: run with --yes to erase.")
        return
    erasure = data_requests.erase(user)
    db.session.commit()
    removed = retention.delete_files(erasure.file_keys)
    replace_stamps(current_app.extensions["stint_cache"], erasure.course_ids)
    click.echo(f"Erased {erasure.describe()}; {removed} file(s) removed.")
    click.echo(
        "Grades already passed back are in the LMS's gradebook: erase them there if required."
    )
