"""Where every student of an activity stands, for the instructor dashboard and its CSV export.

A cohort can be a thousand students, and the page shows fifty of them, so the database does the
counting and the paging. Each student's state (review link, evaluation, grade, score sync,
certificate, late work) is a set of SQL expressions over the learner and their placement
(``queries``), used three ways: grouped and counted for the overview and the panels
(``counts``: one query whose rows are the distinct combinations of states, each with its number
of students), filtered, ordered and cut to the displayed page for the table (``table``: the
page's ids, then their states: two small statements), and filtered and ordered for the CSV
export (``export``: the same, in batches). Python never builds a row for a student it does not
show. The counts are cached across requests until a commit touches the course
(``lti_app.read_models.change_stamps``), and the snapshot is kept on ``flask.g`` for the request
(``snapshot``), so panels on the same page read its counts instead of asking again.

The words for each state are in ``states``, the "needs attention" rule (in Python and in SQL)
in ``attention``, and what the instructor narrowed the table to in ``filters``.
"""
