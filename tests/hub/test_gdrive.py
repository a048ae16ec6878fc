"""Google Drive's pages are read in their own module, apart from the HTTP downloader (which only asks it)."""

from __future__ import annotations

import http.cookiejar
from pathlib import Path

from alphapose_kit.hub import download, gdrive


def test_drive_pages_live_in_gdrive_only() -> None:
    source = Path(download.__file__).read_text()
    assert "HTMLParser" not in source and "drive_confirm_url" in source
    page = (
        '<form id="download-form" action="https://drive.usercontent.google.com/download" method="get">'
        '<input type="hidden" name="id" value="ABC"><input type="hidden" name="confirm" value="t">'
        '<input type="submit" value="Download anyway"></form>'
    )
    url = gdrive.drive_confirm_url("https://drive.google.com/uc?id=ABC", page, http.cookiejar.CookieJar())
    assert url == "https://drive.usercontent.google.com/download?id=ABC&confirm=t"
    assert gdrive.page_problem("<p>Too many users have viewed or downloaded this file recently.</p>").startswith(
        "Google Drive's download quota"
    )
