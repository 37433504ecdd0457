"""Per-LMS behaviour is chosen by the platform's kind (and Canvas cloud's issuer)."""

from __future__ import annotations

from datetime import UTC, datetime

from lti_app.lms.base import ScoreSubmission
from lti_app.lms.canvas import SUBMISSION_EXTENSION
from lti_app.lms.registry import adapter_for, adapter_for_kind
from lti_app.models import Platform

SUBMITTED = datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)


def _platform(lms: str, issuer: str) -> Platform:
    return Platform(lms=lms, issuer=issuer, client_id="c", name="p")


def test_canvas_is_chosen_by_kind_or_by_its_cloud_issuer():
    assert adapter_for(_platform("canvas", "https://canvas.school.edu")).kind == "canvas"
    assert adapter_for(_platform("other", "https://canvas.instructure.com")).kind == "canvas"
    assert adapter_for(_platform("moodle", "https://moodle.school.edu")).kind == "moodle"
    assert adapter_for(_platform("sakai", "https://lms.school.edu")).kind == "other"


def test_only_canvas_adds_the_submission_extension():
    submission = ScoreSubmission(first_score=True, submitted_at=SUBMITTED)
    # AGS 2.0's submission.submittedAt goes to every LMS (one that does not read it ignores it).
    plain = {"submission": {"submittedAt": "2026-03-04T05:06:07.890Z"}}
    assert adapter_for_kind("moodle").score_extensions(submission) == plain
    assert adapter_for_kind("other").score_extensions(submission) == plain
    fields = adapter_for_kind("canvas").score_extensions(submission)
    extension = fields[SUBMISSION_EXTENSION]
    assert extension["new_submission"] is True
    # Canvas reads submission.submittedAt first; the extension's submitted_at says the same.
    assert fields["submission"]["submittedAt"] == "2026-03-04T05:06:07.890Z"
    assert extension["submitted_at"] == "2026-03-04T05:06:07.890Z"
    assert "content_items" not in extension


def test_canvas_makes_a_new_submission_for_each_handed_in_version():
    again = ScoreSubmission(first_score=False, submitted_at=SUBMITTED, new_attempt=True)
    assert adapter_for_kind("canvas").score_extensions(again)[SUBMISSION_EXTENSION][
        "new_submission"
    ]


def test_canvas_makes_a_new_submission_whenever_files_are_attached():
    item = adapter_for_kind("canvas").certificate_file_item("https://stint/f/1", "cert.pdf")
    later = ScoreSubmission(first_score=False, submitted_at=SUBMITTED)
    assert adapter_for_kind("canvas").score_extensions(later)[SUBMISSION_EXTENSION] == {
        "new_submission": False,
        "submitted_at": "2026-03-04T05:06:07.890Z",
    }
    with_file = ScoreSubmission(first_score=False, submitted_at=SUBMITTED, content_items=(item,))
    extension = adapter_for_kind("canvas").score_extensions(with_file)[SUBMISSION_EXTENSION]
    assert extension["new_submission"] is True
    assert extension["content_items"] == [item]


def test_only_canvas_attaches_the_certificate_file_and_frames_from_school_subdomains():
    item = adapter_for_kind("canvas").certificate_file_item("https://stint/f/1", "cert.pdf")
    assert item is not None and item["media_type"] == "application/pdf"
    assert "mediaType" not in item  # Canvas reads media_type only
    assert adapter_for_kind("moodle").certificate_file_item("https://stint/f/1", "c.pdf") is None
    assert adapter_for_kind("canvas").extra_frame_origins == ("https://*.instructure.com",)
    assert adapter_for_kind("other").extra_frame_origins == ()
