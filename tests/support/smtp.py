"""A real SMTP server (aiosmtpd) on loopback that keeps what it receives, for mail tests.

Faults are real SMTP answers, not mocks: ``defer_next`` makes the server answer ``451`` (try
later) to the next messages, ``refuse`` makes it answer ``550`` to a recipient.
"""

from __future__ import annotations

import email
import re
import socket
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address.lower() in self.server.refused:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.server.lock:
            if self.server.defer_next > 0:
                self.server.defer_next -= 1
                return "451 4.3.0 Try again later"
            message = email.message_from_bytes(envelope.content, policy=default_policy)
            assert isinstance(message, EmailMessage)
            self.server.messages.append(message)
        return "250 Message accepted"


class SmtpServer:
    """aiosmtpd on 127.0.0.1; ``messages`` holds parsed EmailMessages in arrival order."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refused: set[str] = set()
        self.defer_next = 0
        self.lock = threading.Lock()
        self.port, self.controller = self._start()

    def _start(self, attempts: int = 5) -> tuple[int, Controller]:
        """Listen on a free port; try another if someone took it between choosing and binding.

        aiosmtpd needs a fixed port, and parallel test workers (or other programs) pick ports too.
        """
        for _ in range(attempts - 1):
            try:
                return self._listen(free_port())
            except OSError:
                continue
        return self._listen(free_port())

    def _listen(self, port: int) -> tuple[int, Controller]:
        controller = Controller(_Handler(self), hostname="127.0.0.1", port=port)
        controller.start()
        return port, controller

    def reset(self) -> None:
        with self.lock:
            self.messages.clear()
            self.refused.clear()
            self.defer_next = 0

    def close(self) -> None:
        self.controller.stop()

    def configure(self, app: Flask) -> None:
        app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=self.port)

    @staticmethod
    def text_of(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())

    def links(self, message: EmailMessage) -> list[str]:
        return re.findall(r"https?://\S+/review/[A-Za-z0-9_-]+", self.text_of(message))


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    yield server
    server.close()


@pytest.fixture
def smtp(app: Flask, smtp_server: SmtpServer) -> SmtpServer:
    """The test app sends through the loopback SMTP server, which starts empty."""
    smtp_server.reset()
    smtp_server.configure(app)
    return smtp_server
