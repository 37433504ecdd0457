"""The mailbox page: lists dropped .eml files and shows them without running their content."""

from __future__ import annotations

import os
import re
from email.message import EmailMessage
from html import unescape

import requests
from hypothesis import given
from hypothesis import strategies as st

from lti_app.dev_platform.mailbox import linkify

REVIEW_LINK = "http://127.0.0.1:5000/review/Zx8-token?lang=en&x=1"


def drop(folder, name, subject, *, to="supervisor@partner.example.com", html=None, mtime=None):
    os.makedirs(folder, exist_ok=True)
    message = EmailMessage()
    message["From"] = "Stint <no-reply@stint.example.edu>"
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = "Tue, 03 Mar 2026 10:00:00 +0000"
    message.set_content(f"Hello,\n\nPlease review <Zoë's> work: {REVIEW_LINK}.\n")
    if html is not None:
        message.add_alternative(html, subtype="html")
    path = os.path.join(folder, name)
    with open(path, "wb") as handle:
        handle.write(bytes(message))
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return name


def test_mailbox_lists_messages_newest_first(live):
    drop(live.mailbox, "older.eml", "Older invitation", mtime=1_700_000_000)
    drop(live.mailbox, "newer.eml", "Review invitation for Zoë Ångström", mtime=1_800_000_000)
    page = requests.get(f"{live.base}/dev-lms/mailbox", timeout=5)
    assert page.status_code == 200
    assert "supervisor@partner.example.com" in page.text
    assert page.text.index("Review invitation for Zoë Ångström") < page.text.index(
        "Older invitation"
    )


def test_a_message_shows_a_clickable_link_and_escapes_everything_else(live):
    html = '<p>Review <a href="https://x.example">here</a></p><script>alert(1)</script>'
    drop(live.mailbox, "with-html.eml", "HTML invitation", html=html)
    page = requests.get(f"{live.base}/dev-lms/mailbox/with-html.eml", timeout=5).text
    escaped_link = REVIEW_LINK.replace("&", "&amp;")
    assert f'<a href="{escaped_link}">{escaped_link}</a>' in page
    assert "&lt;Zoë&#39;s&gt;" in page
    assert "<script>alert" not in page
    frame = re.search(r"<iframe[^>]*srcdoc=\"([^\"]*)\"", page)
    assert frame is not None
    assert "sandbox=" in frame.group(0) and "allow-scripts" not in frame.group(0)
    assert unescape(frame.group(1)).startswith("<p>Review")


def test_unknown_or_sneaky_names_are_not_found(live):
    for name in ("nope.eml", "..%2Fplatform.sqlite", "%2Fetc%2Fpasswd"):
        response = requests.get(f"{live.base}/dev-lms/mailbox/{name}", timeout=5)
        assert response.status_code == 404


@given(st.text())
def test_linkify_escapes_all_text_and_keeps_it_readable(text):
    rendered = str(linkify(text))
    without_anchors = re.sub(r"<a href=\"[^\"]*\">([^<]*)</a>", r"\1", rendered)
    assert "<" not in without_anchors and ">" not in without_anchors
    assert unescape(without_anchors) == text


@given(st.from_regex(r"https?://[a-z0-9.-]{1,20}/[A-Za-z0-9/_~-]{0,20}", fullmatch=True))
def test_linkify_makes_urls_links(url):
    rendered = str(linkify(f"see {url} now"))
    assert f'<a href="{url}">{url}</a>' in rendered
