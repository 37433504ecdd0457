"""The demo course the development LMS starts with: its people, and one graded link to launch.

Written once, on first start of an empty platform file (``DevStore``); ``stint demo seed`` then
mirrors the same course, people and link on Stint's side (``demo.seed``).
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal

from .. import constants as c
from ..database import insert_line_item, insert_member, insert_resource_link
from ..records import LineItemFields

_DEMO_PEOPLE = (
    # sub, given, family, display name, email, context roles, institution roles
    (
        c.DEMO_INSTRUCTOR_SUB, "Ada", "Lovelace", None, "ada.lovelace@example.edu",
        (c.ROLE_INSTRUCTOR,), (c.INSTITUTION_FACULTY,),
    ),
    (
        c.DEMO_TA_SUB, "Kwame", "Mensah", None, "kwame.mensah@example.edu",
        (c.ROLE_TEACHING_ASSISTANT,), (c.INSTITUTION_STAFF, c.INSTITUTION_STUDENT),
    ),
    (
        c.DEMO_STUDENT_SUBS[0], "Zoë", "Ångström", None, "zoe.angstrom@example.edu",
        (c.ROLE_LEARNER,), (c.INSTITUTION_STUDENT,),
    ),
    (
        c.DEMO_STUDENT_SUBS[1], "Дмитрий", "Иванов", None, "dmitry.ivanov@example.edu",
        (c.ROLE_LEARNER,), (c.INSTITUTION_STUDENT,),
    ),
    (
        c.DEMO_STUDENT_SUBS[2], "Wei", "Chen", "Chen Wei", "chen.wei@example.edu",
        (c.ROLE_LEARNER,), (c.INSTITUTION_STUDENT,),
    ),
    (
        c.DEMO_STUDENT_SUBS[3], "Aoife", "Ní Bhriain", None, "aoife.nibhriain@example.edu",
        (c.ROLE_LEARNER,), (c.INSTITUTION_STUDENT,),
    ),
    (
        c.DEMO_STUDENT_SUBS[4], "José María", "Álvarez-Núñez", None, "jm.alvarez@example.edu",
        (c.ROLE_LEARNER,), (c.INSTITUTION_STUDENT,),
    ),
)  # fmt: skip


def seed_demo_course(db: sqlite3.Connection) -> None:
    db.execute(
        "INSERT INTO contexts (id, label, title) VALUES (?,?,?)",
        (c.DEMO_CONTEXT_ID, c.DEMO_CONTEXT_LABEL, c.DEMO_CONTEXT_TITLE),
    )
    for sub, given, family, name, email, roles, institution_roles in _DEMO_PEOPLE:
        insert_member(
            db, c.DEMO_CONTEXT_ID, sub, given, family, email, roles, institution_roles, name=name
        )
    # An assignment-style link already in the course, as an LMS admin would add by hand, so the
    # very first click works; deep linking adds more.
    insert_resource_link(
        db,
        c.DEMO_LINK_ID,
        c.DEMO_CONTEXT_ID,
        "Spring micro-internship",
        "A four-week project with a partner company.",
        None,
        {},
    )
    insert_line_item(
        db,
        c.DEMO_CONTEXT_ID,
        LineItemFields(
            label="Spring micro-internship",
            score_maximum=Decimal(100),
            resource_link_id=c.DEMO_LINK_ID,
        ),
    )
    db.execute("DELETE FROM counters")
