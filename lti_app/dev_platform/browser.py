"""A scriptless browser just smart enough to run an LTI launch end to end over real HTTP.

An LTI 1.3 launch is a chain of redirects and self-submitting forms (platform → tool login →
platform auth → tool launch), plus the LMS page that frames the tool. Tests and benchmarks need
that chain without a real browser, so this follows redirects, forms marked `data-autosubmit`
(and pylti1p3's `lti13_auto_submit` / `lti13_deep_link_auto_form` forms), and iframes marked
`data-autoload`, and stops at the first page that is none of those. Stint's platform storage
pages (``data-lti-storage``, LTI client side postMessages) are played as its script plays them,
with this browser's own storage: what the development LMS's storage frame would keep.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin

import requests

from .admin import DevPlatformAdmin

MAX_HOPS = 12
_PYLTI1P3_AUTO_FORM_IDS = frozenset({"lti13_auto_submit", "lti13_deep_link_auto_form"})


@dataclass
class _Form:
    action: str
    method: str
    auto: bool
    fields: list[tuple[str, str]] = field(default_factory=list)


class _NextStepFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[_Form] = []
        self.frame_src: str | None = None
        self.storage: dict[str, str] | None = None  # a Stint platform storage page's data-*
        self._open_form: _Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            auto = (
                "data-autosubmit" in attributes or attributes.get("id") in _PYLTI1P3_AUTO_FORM_IDS
            )
            self._open_form = _Form(
                action=attributes.get("action") or "",
                method=(attributes.get("method") or "get").lower(),
                auto=auto,
            )
            self.forms.append(self._open_form)
        elif tag == "input" and self._open_form is not None:
            name = attributes.get("name")
            kind = (attributes.get("type") or "text").lower()
            if name and kind not in {"submit", "button", "image", "file", "checkbox", "radio"}:
                self._open_form.fields.append((name, attributes.get("value") or ""))
        elif "data-lti-storage" in attributes and self.storage is None:
            self.storage = {k: v or "" for k, v in attributes.items()}
        elif tag == "iframe" and "data-autoload" in attributes and self.frame_src is None:
            self.frame_src = attributes.get("src")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open_form = None


class FormFollowingBrowser:
    """Use `get`/`post` like requests; the returned response is where the chain came to rest.

    `history` lists every response on the way, so a test can see the id_token form, for example.
    """

    def __init__(self, session: requests.Session, *, timeout: float = 30) -> None:
        self.session = session
        self.timeout = timeout
        self.history: list[requests.Response] = []
        self.platform_storage: dict[str, str] = {}  # the LMS's storage for this browser

    def get(self, url: str) -> requests.Response:
        return self._follow(self._send("get", url, None))

    def post(self, url: str, data: dict[str, str] | list[tuple[str, str]]) -> requests.Response:
        return self._follow(self._send("post", url, data))

    def _send(
        self, method: str, url: str, data: dict[str, str] | list[tuple[str, str]] | None
    ) -> requests.Response:
        response = self.session.request(
            method, url, data=data, timeout=self.timeout, allow_redirects=True
        )
        self.history.extend(response.history)
        self.history.append(response)
        return response

    def _follow(self, response: requests.Response) -> requests.Response:
        for _ in range(MAX_HOPS):
            if "html" not in response.headers.get("Content-Type", ""):
                return response
            finder = _NextStepFinder()
            finder.feed(response.text)
            auto_form = next((form for form in finder.forms if form.auto), None)
            if finder.storage is not None:
                response = self._play_storage_page(response.url, finder.storage)
            elif auto_form is not None:
                action = urljoin(response.url, auto_form.action)
                if auto_form.method == "post":
                    response = self._send("post", action, auto_form.fields)
                else:
                    separator = "&" if "?" in action else "?"
                    response = self._send(
                        "get", action + separator + urlencode(auto_form.fields), None
                    )
            elif finder.frame_src:
                response = self._send("get", urljoin(response.url, finder.frame_src), None)
            else:
                return response
        raise RuntimeError(f"more than {MAX_HOPS} automatic steps; last URL {response.url}")

    def _play_storage_page(self, url: str, page: dict[str, str]) -> requests.Response:
        """What lti_app/static/lti_storage.js does, with ``platform_storage`` as the LMS's."""
        key = page.get("data-key", "")
        if page.get("data-lti-storage") == "put":
            self.platform_storage[key] = page.get("data-value", "")
            return self._send("get", urljoin(url, page.get("data-continue-url", "")), None)
        confirmed = self.session.post(
            urljoin(url, page.get("data-confirm-url", "")),
            data={
                "pending": page.get("data-pending", ""),
                "stored": self.platform_storage.get(key, ""),
            },
            headers={"X-Stint-Launch": "1"},
            timeout=self.timeout,
        )
        self.history.append(confirmed)
        if confirmed.status_code != 200:
            return confirmed
        answer = confirmed.json()
        if "handoff" in answer:
            # The frame keeps no cookie: the page opens a new window and hands it the ticket
            # (postMessage); the new window redeems it and starts the session there.
            window = self._send("get", urljoin(url, answer["window"]), None)
            found = re.search(r'data-redeem-url="([^"]+)"', window.text)
            redeemed = self.session.post(
                urljoin(window.url, html.unescape(found.group(1)) if found else ""),
                data={"handoff": answer["handoff"]},
                headers={"X-Stint-Launch": "1"},
                timeout=self.timeout,
            )
            self.history.append(redeemed)
            if redeemed.status_code != 200:
                return redeemed
            answer = redeemed.json()
        return self._send("get", urljoin(url, answer["next"]), None)


__all__ = ["DevPlatformAdmin", "FormFollowingBrowser"]
