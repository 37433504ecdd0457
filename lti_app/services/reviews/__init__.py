"""Company supervisors' review links and their rubric evaluations.

A link carries a random token (``secrets.token_urlsafe(32)``: 256 bits); the invitation keeps
only its SHA-256. The email is queued with a placeholder where the link goes; the URL itself
waits Fernet-encrypted on the outbox row (see ``services/outbox.py``) and is substituted only
while the message is being sent, then cleared once it is sent or given up on. So a copy of the
database opens no review, and the instructor's email log never shows a link. A link is scoped to
one placement, expires (30 days by default), can be revoked, stops working when the student
withdraws, and re-sending replaces it (the old one stops working).

Reminders cannot repeat a link Stint no longer knows, so a reminder carries a fresh link: the
invitation's token is rotated, the old hash is kept (``ReplacedReviewToken``) so an older email's
link says "replaced, use the newest email", earlier emails still waiting to go out are marked
superseded, and the mail says that earlier links stopped working. A draft belongs to the
placement, not to the link, so nothing the supervisor entered is lost. Links in use in the last
day are not rotated, so a supervisor typing into the form is never cut off.

Submitting is a conditional update (``... WHERE status = 'draft'``): two submissions racing each
other give exactly one submitted evaluation.

One module per reason to change:

- ``errors``: what a refused action or a link that does not open raises;
- ``links``: tokens, resolving a link, its state, and the disclosure log it writes;
- ``lookups``: course-scoped reads for the instructor's pages (placements, invitations,
  evaluations, the disclosure and email logs);
- ``rubric``: which rubric version a review fills in, and a saved evaluation's selections;
- ``emails``: composing and queueing the invitation and reminder emails that carry a link;
- ``invitations``: inviting supervisors (one or all), revoking and re-sending links;
- ``reminders``: when a reminder is due, and sending it with a fresh link;
- ``evaluation``: the supervisor's review page (draft, completeness, submit) and reopening.

Functions flush and never commit: the calling view or job commits, once per request (or once per
reminder). Where a race loses (``AlreadySubmitted`` after the conditional update), the caller
rolls back before answering.
"""
