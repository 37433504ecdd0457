"""Reading the .eml files Stint's development mail backend drops, for the mailbox page.

Everything in a message is untrusted (it may quote student text), so the text part is escaped
and only http(s) URLs become links, and the HTML part is shown in a sandbox without scripts.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from markupsafe import Markup, escape

_URL = re.compile(r"https?://[^\s<>\"'()\[\]]+[^\s<>\"'()\[\].,;:!?]")
_SAFE_NAME = re.compile(r"^[\w.@+-]+\.eml$")


@dataclass(frozen=True)
class MailSummary:
    filename: str
    to: str
    sender: str
    subject: str
    date: str
    modified: float


@dataclass(frozen=True)
class MailMessage:
    summary: MailSummary
    text: str | None
    html: str | None
    attachments: tuple[str, ...]


def linkify(text: str) -> Markup:
    """Escape the text and turn bare http(s) URLs into links; nothing else becomes markup."""
    pieces: list[str] = []
    position = 0
    for match in _URL.finditer(text):
        pieces.append(str(escape(text[position : match.start()])))
        url = match.group(0)
        pieces.append(f'<a href="{escape(url)}">{escape(url)}</a>')
        position = match.end()
    pieces.append(str(escape(text[position:])))
    return Markup("".join(pieces))  # noqa: S704 - every piece above was escaped


def _parse(path: str) -> EmailMessage:
    with open(path, "rb") as handle:
        parsed = BytesParser(policy=policy.default).parse(handle)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _summary(folder: str, filename: str, message: EmailMessage) -> MailSummary:
    return MailSummary(
        filename=filename,
        to=str(message.get("To", "")),
        sender=str(message.get("From", "")),
        subject=str(message.get("Subject", "(no subject)")),
        date=str(message.get("Date", "")),
        modified=os.path.getmtime(os.path.join(folder, filename)),
    )


def list_messages(folder: str) -> list[MailSummary]:
    """Newest first by file time (the order Stint wrote them), then by name for equal times."""
    if not os.path.isdir(folder):
        return []
    summaries = []
    for filename in os.listdir(folder):
        if not _SAFE_NAME.match(filename):
            continue
        try:
            summaries.append(_summary(folder, filename, _parse(os.path.join(folder, filename))))
        except (OSError, ValueError):
            continue
    return sorted(summaries, key=lambda mail: (mail.modified, mail.filename), reverse=True)


def read_message(folder: str, filename: str) -> MailMessage | None:
    """The message named, or None for a name that is not a plain .eml file of this folder."""
    if not _SAFE_NAME.match(filename) or filename != os.path.basename(filename):
        return None
    path = os.path.join(folder, filename)
    if not os.path.isfile(path):
        return None
    message = _parse(path)
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    attachments = tuple(
        str(part.get_filename() or "unnamed") for part in message.iter_attachments()
    )
    return MailMessage(
        summary=_summary(folder, filename, message),
        text=text_part.get_content() if isinstance(text_part, EmailMessage) else None,
        html=html_part.get_content() if isinstance(html_part, EmailMessage) else None,
        attachments=attachments,
    )
