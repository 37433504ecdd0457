"""A small email sender with two backends, SMTP and console, plus the development mailbox.

Nothing calls this directly from a request: services write an ``OutboxEmail`` row and a job
sends it, recording the outcome (see docs/architecture.md). The console backend writes each email
to the log with review links masked (a review link opens a review without a login), unless the
development LMS is on: its developer needs the link, and its mailbox page shows the email too.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from lti_app.log_redaction import redact

log = logging.getLogger(__name__)

# ``MAIL_BACKEND`` values; any other is refused at startup (``config``) and here.
MAIL_BACKENDS = ("smtp", "console")


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    text: str
    html: str = ""


def build(message: Message, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(domain="stint.invalid")
    email.set_content(message.text)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    return email


def send(message: Message, config: dict[str, Any]) -> None:
    """Deliver now; raises on failure so the caller (a job) can record and retry."""
    email = build(message, config["MAIL_FROM"])
    backend = config.get("MAIL_BACKEND", "console")
    if backend == "smtp":
        _send_smtp(email, config)
    elif backend == "console":
        text = message.text if config.get("STINT_DEV_PLATFORM") else redact(message.text)
        log.info("email to %s: %s\n%s", message.to, message.subject, text)
    else:  # never silently "sent" to the log: an unknown backend would lose every email
        raise ValueError(f"MAIL_BACKEND {backend!r} is not one of {', '.join(MAIL_BACKENDS)}")
    mailbox = config.get("DEV_MAILBOX_DIR")
    if config.get("STINT_DEV_PLATFORM") and mailbox:
        folder = Path(mailbox)
        folder.mkdir(parents=True, exist_ok=True)
        name = email["Message-ID"].strip("<>").replace("@", "_")
        (folder / f"{name}.eml").write_bytes(bytes(email))


def _send_smtp(email: EmailMessage, config: dict[str, Any]) -> None:
    timeout = float(config.get("HTTP_TIMEOUT", 10))
    with smtplib.SMTP(config["MAIL_SERVER"], int(config["MAIL_PORT"]), timeout=timeout) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        smtp.send_message(email)
