"""Grading use cases: propose, override, approve, release, and write the AGS outbox rows.

Stint proposes, the instructor of record approves, the LMS gradebook receives. The numbers come
from the pure ``grading`` package; this package gathers its inputs from the database (supervisor
and instructor evaluations, deliverables handed in, hours confirmed), keeps the ``Grade`` row and
the audit trail, and writes each score the LMS must receive as a ``ScoreSync`` row *in the same
transaction* as the grade change. Delivery happens after the commit (``lti_app.jobs.scores``).

Approved numbers are frozen: a late evaluation never changes an approved or released grade
silently. The page shows "changed since approval" and the instructor chooses to update it.

Like every service, these functions flush and never commit: the view (or job) that calls them
commits once. The package knows nothing of certificates: what a released score carries about a
certificate comes in as data (``outbox.ExtrasFor``), and the use cases that release a grade
return the released placements so the caller reconciles their certificates after its commit.

Modules, by reason to change: ``errors`` (the refusal type), ``policy_settings`` (the
activity's grading policy), ``inputs`` (what the policy is fed and what it computes), ``rows``
(the grading table and its reads), ``grade_records`` (the Grade row and the audit trail),
``outbox`` (the score rows and their payloads), ``approve_release``, ``overrides``, ``resends``
(sending a score again) and ``instructor_evaluation`` (the instructor's own rubric). Who may
decide a grade is the permission table's to say (``services/permissions.py``).
"""
