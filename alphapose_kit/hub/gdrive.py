"""Google Drive's answers that are not the file: the "can't scan this file for viruses" confirmation page (both the
current form to drive.usercontent.google.com and the older cookie / ``confirm=`` link styles), and its error pages
(quota used up, sign-in wall), each read into the URL to follow or a one-line reason."""

from __future__ import annotations

import contextlib
import html
import http.cookiejar
import re
import urllib.parse
from html.parser import HTMLParser
from typing import Any

__all__ = ["drive_confirm_url", "html_reason", "page_problem"]


class _FormParser(HTMLParser):
    """Collects every <form>'s action, id and named <input> values."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, Any]] = []
        self._open: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._open = {"action": values.get("action", ""), "id": values.get("id", ""), "inputs": {}}
            self.forms.append(self._open)
        elif (
            tag == "input"
            and self._open is not None
            and values.get("name")
            and values.get("type", "text").lower() != "submit"
        ):
            self._open["inputs"][values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


def drive_confirm_url(current: str, page: str, jar: http.cookiejar.CookieJar) -> str | None:
    """The URL that fetches the file past a Drive confirmation page, or None if the page offers no way on."""
    parser = _FormParser()
    with contextlib.suppress(Exception):  # malformed HTML: fall through to the other styles
        parser.feed(page)
        parser.close()
    for form in parser.forms:  # current style: GET form to drive.usercontent.google.com/download
        inputs = form["inputs"]
        if "confirm" in inputs or (form["id"] == "download-form" and "id" in inputs):
            action = urllib.parse.urljoin(current, form["action"] or current)
            base = urllib.parse.urlsplit(action)._replace(query="", fragment="").geturl()
            return f"{base}?{urllib.parse.urlencode(inputs)}"
    for cookie in jar:  # older style: download_warning_<...>=<token> cookie
        if cookie.name.startswith("download_warning") and cookie.value:
            return _with_query(current, confirm=cookie.value)
    link = re.search(r"""href=["']([^"']*[?&](?:amp;)?confirm=[^"']*)["']""", page)
    if link:  # older style: a "Download anyway" link carrying confirm=
        return urllib.parse.urljoin(current, html.unescape(link.group(1)))
    json_url = re.search(r'"downloadUrl":"([^"]+)"', page)
    if json_url:  # a JSON-embedded direct link (\u003d / \u0026 escaped)
        return json_url.group(1).replace("\\u003d", "=").replace("\\u0026", "&").replace("\\/", "/")
    token = re.search(r"confirm=([0-9A-Za-z_-]+)", page)
    if token:
        return _with_query(current, confirm=token.group(1))
    return None


def _with_query(url: str, **params: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    query.update(params)
    return parts._replace(query=urllib.parse.urlencode(query)).geturl()


def page_problem(page: str) -> str | None:
    """What an HTML error page from Google Drive (or a sign-in wall) says, in one short line; None if unrecognised."""
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split()).lower()
    if "quota exceeded" in text or "too many users have viewed or downloaded" in text:
        return "Google Drive's download quota for this file is used up for now; try again in a day"
    caption = re.search(r'class="uc-error-(?:sub)?caption"[^>]*>(.*?)</', page, re.IGNORECASE | re.DOTALL)
    if caption and caption.group(1).strip():
        return "Google Drive says: " + " ".join(html.unescape(caption.group(1)).split())[:160]
    if "you need access" in text or "request access" in text or "accounts.google.com" in page or "sign in" in text:
        return "the server asks for a sign-in (the file is not public)"
    return None


def html_reason(page: str) -> str:
    """Why an HTML page came instead of the file, in one line: Drive's own words, else the page's title."""
    problem = page_problem(page)
    if problem:
        return problem
    title = re.search(r"<title[^>]*>(.*?)</title>", page, re.IGNORECASE | re.DOTALL)
    shown = f" ({' '.join(html.unescape(title.group(1)).split())[:80]})" if title and title.group(1).strip() else ""
    return f"the server sent an HTML page{shown} instead of the file"
