"""Row locks for check-then-write rules that two requests could otherwise both pass.

"Is there a free seat?" then "insert a placement", or "is there a grade row?" then "insert one":
two requests at the same moment both read the old state and both write. Taking the lock before
reading makes the second request wait for the first to commit and then read what it wrote.

PostgreSQL locks just the row (``SELECT ... FOR UPDATE``; a plain read does not wait for it).
SQLite has no row locks, so an update that changes nothing takes the database's write lock
instead. That write must be the first statement of the transaction: SQLite then waits for the
other writer (busy timeout) rather than failing with "database is locked", and it opens a real
transaction, so a savepoint taken afterwards is released without committing everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update

from lti_app.extensions import db
from lti_app.read_models.change_stamps import NOT_A_CHANGE


def lock_rows(model: Any, row_ids: Iterable[int]) -> None:
    """Hold several of ``model``'s rows, taken in ascending id order.

    Two batches over overlapping rows (two "release all", or "approve" beside "release") then
    wait for each other instead of each holding a row the other needs (a deadlock). Take them
    before reading what the batch decides on, and before writing any row that refers to them.
    """
    ids = sorted(set(row_ids))
    if not ids:
        return
    table = model.__table__
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(
            update(table).where(table.c.id.in_(ids)).values(id=table.c.id),
            execution_options={NOT_A_CHANGE: True},
        )
    else:
        db.session.execute(
            select(table.c.id).where(table.c.id.in_(ids)).order_by(table.c.id).with_for_update()
        )


def lock_row(model: Any, row_id: int) -> None:
    """Hold ``model``'s row ``row_id`` until this transaction ends (commit or rollback)."""
    table = model.__table__
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(
            update(table).where(table.c.id == row_id).values(id=table.c.id),
            execution_options={NOT_A_CHANGE: True},  # cached summaries stay valid
        )
    else:
        db.session.execute(select(table.c.id).where(table.c.id == row_id).with_for_update())
