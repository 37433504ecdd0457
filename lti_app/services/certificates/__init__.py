"""Certificates in the application: the rules between grades and PDFs, a module per reason.

A passing, released placement has exactly one valid (not revoked) certificate. Issuing writes
the row (state ``pending``, with a frozen snapshot of everything printed on it) in the caller's
transaction; rendering the PDF is a background job enqueued only after that transaction commits,
so a rolled-back release never produces a certificate and a crash never loses one (a periodic
sweep re-queues rows left pending). The PDF is stored with its SHA-256, which is what an
uploaded file is compared against when someone verifies it.

- ``rules``: valid states, eligibility, the placement's current certificate, ``CertificateError``
- ``content``: what is printed on a certificate, read from the placement's rows
- ``issue``: issuing, reconciling with a changed grade, re-issuing, revoking
- ``render``: rendering a pending certificate into a stored PDF, and the stuck-row sweep's query
- ``files``: opening a PDF, download names, the cohort ZIP stream
- ``passback``: what a score sent to the LMS carries (link, Canvas file item), signed file links
- ``verify``: public verification by code or file, and the holder's consent to it
- ``queries``: lookups for the instructor's and the student's pages

Like every service, these modules flush and return data: the calling view or job commits.
"""
