"""Placements: who works on which project, how they got there, and where each one stands.

Use cases for the instructor pages (by hand, CSV, matching, publishing), the student ranking and
the status machine other features drive (submissions, reviews, grading), one module per reason
to change:

- ``status``: the status machine, its vocabulary and the audit trail (the one place a placement's
  status changes);
- ``queries``: reading placements, the roster and the offered projects;
- ``placing``: placing, moving, removing and re-joining students by hand, under the seat rules;
- ``publishing``: showing placements to their students;
- ``csv_import``: placing a whole class from a CSV file;
- ``ranking``: the selection window in which students rank projects;
- ``matching_runs``: deferred-acceptance runs over the rankings, their review and publication.

Rules kept here, for every path in:
- a placement joins an active learner of the activity's course with a project offered in that
  activity (so never a student or project of another course or platform);
- the project must be open and have a free seat (withdrawn placements free theirs);
- a student has at most one placement per activity;
- students see a placement only once it is published.

Functions raise ``PlacementError`` (message for the person, HTTP status for the view) before
changing anything, and never commit: the caller commits, so a use case is one transaction.
"""
