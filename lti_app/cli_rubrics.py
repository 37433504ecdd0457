"""``flask --app lti_app stint rubric ...``: check a rubric file, export a stored rubric.

``validate`` lets an instructor or an administrator check a file before uploading it (or a
script check many); it prints every problem with where it sits and exits non-zero if any.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from lti_app.extensions import db
from lti_app.models import Rubric as RubricRow
from lti_app.services.rubrics.files import (
    FILE_FORMATS,
    MAX_FILE_BYTES,
    RubricFileInvalid,
    detect_format,
    export_rubric,
    read_rubric_files,
)

rubric_group = AppGroup("rubric", help="Rubric files: validate, export.")


@rubric_group.command("validate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def validate(file: Path) -> None:
    """Check a Stint JSON rubric or a Canvas rubric CSV; list every problem."""
    with file.open("rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    kind = "Stint JSON" if detect_format(file.name, data) == "json" else "Canvas CSV"
    try:
        found = read_rubric_files(file.name, data)
    except RubricFileInvalid as error:
        count = len(error.problems)
        click.echo(f"{file}: {count} problem{'s' if count != 1 else ''} ({kind})")
        for problem in error.problems:
            click.echo(f"  {problem}")
        raise SystemExit(1) from None
    for rubric in found:
        click.echo(
            f"{file}: OK ({kind}): {rubric.title!r}, {len(rubric.criteria)} criteria, "
            f"{rubric.scoring_mode} scoring"
        )


@rubric_group.command("export")
@click.argument("rubric_id", type=int)
@click.option(
    "--format", "file_format", type=click.Choice(FILE_FORMATS), default="json", show_default=True
)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file."
)
def export(rubric_id: int, file_format: str, output: Path | None) -> None:
    """Write a stored rubric version (by id) as Stint JSON or a Canvas CSV."""
    row = db.session.get(RubricRow, rubric_id)
    if row is None:
        click.echo(f"error: no rubric {rubric_id}", err=True)
        raise SystemExit(2)
    exported = export_rubric(row, "csv" if file_format == "csv" else "json")
    if output is None:
        click.echo(exported.content.decode("utf-8"), nl=False)
    else:
        output.write_bytes(exported.content)
        click.echo(f"Wrote {output} ({row.title!r}, version {row.version})", err=True)
