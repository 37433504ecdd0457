"""The demo cohort's made-up certificates are valid ones, so every page that reads them works.

`make run`'s demo and `python -m bench.screenshots` fill the dashboard with a cohort in every
stage (``dev_platform.demo.cohort.add_cohort``). Its certificate codes were random hex, which the
registrar export refuses to format (a 500 on the demo's own "Registrar export" link).
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from certificates.codes import format_code, is_canonical_code
from lti_app.dev_platform.demo.cohort import add_cohort
from lti_app.extensions import db
from lti_app.models import Activity, Certificate, Placement
from lti_app.read_models.registrar import registrar_rows
from tests.app.test_dashboard import make_course


def test_cohort_certificate_codes_are_canonical_and_the_registrar_export_reads_them(
    app: Flask,
) -> None:
    with app.app_context():
        world = make_course()
        add_cohort(world.activity_id, 40, 4)
        codes = list(
            db.session.scalars(
                select(Certificate.code)
                .join(Placement, Placement.id == Certificate.placement_id)
                .where(Placement.activity_id == world.activity_id)
            )
        )
        assert codes, "the cohort issued no certificate"
        assert all(is_canonical_code(code) for code in codes), codes
        activity = db.session.get(Activity, world.activity_id)
        assert activity is not None
        exported = {row.certificate_code for row in registrar_rows(activity)} - {""}
        assert exported == {format_code(code) for code in codes}
