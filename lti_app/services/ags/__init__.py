"""AGS grade delivery: the client, line items, and the ScoreSync outbox's rules, as services.

The grading service writes a ``ScoreSync`` row in the same transaction as the grade change; the
delivery job (``lti_app.jobs.score_delivery``) sends it, owning every commit, and uses these
modules for everything else. The rules that keep a grade from ever being lost or overtaken:

- a row is *claimed* (``pending`` → ``sending``) by a conditional UPDATE before it is sent, so two
  workers never send the same row, and a claim carries a lease (``next_attempt_at``): a worker
  killed mid-delivery leaves the row ``sending`` until the sweep puts it back to ``pending``;
- only the newest row of a placement is ever sent; older live rows are marked ``superseded``;
- each row carries its own AGS ``timestamp``, strictly increasing per placement in whole
  seconds (Moodle compares whole seconds), so an older value can never win over a newer one;
- a refusal for the timestamp (409; Canvas's 400) is not a delivery: the result is read back
  (``results``) and, when the LMS does not hold the value, the row gets a newer timestamp,
  stored before it is sent again (``outbox.restamp``); "sent" means the LMS answered 2xx for
  that value or holds it;
- a transient failure (5xx, timeout, 429, a token that cannot be had) puts the row back with an
  exponential back-off, forever (capped), and stops the run for that line item: the LMS is down;
- a permanent 4xx marks the row ``failed`` with the LMS's message; the instructor can retry it.

Requests to one line item are sequential (Canvas asks tools not to post scores to one
assignment in parallel); different line items are drained concurrently by a bounded pool.

Modules: ``wire`` (URLs and JSON bodies), ``client`` (the HTTP client, scopes, posting a score
and what its failures mean), ``line_items`` (finding, creating and claiming an activity's line
item), ``outbox`` (claims, leases, back-off and outcomes of ``ScoreSync`` rows), ``results``
(reading grades back and comparing them) and ``reconcile`` (the gradebook check's drift rows).
"""
