"""A real browser for the console's pages: Playwright for Python driving Debian's Chromium.

Playwright's own browser download cannot work offline; Debian's `chromium` package (installed by
`make test`) is used through `executable_path`, or the binary named in OMS_CHROMIUM. No browser is
a failure, not a skip: the console's tests must run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

# Chromium's connections to Google's hosts are refused on a closed network, many at a time.
QUIET_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
TABLET = {"width": 1024, "height": 768}
DESKTOP = {"width": 1280, "height": 900}


def chromium_binary() -> str:
    """The Chromium to drive: $OMS_CHROMIUM, else Debian's on the PATH."""
    found = os.environ.get("OMS_CHROMIUM") or shutil.which("chromium")
    if not found:
        raise RuntimeError(
            "no chromium: `make browser-packages` installs Debian's, or set OMS_CHROMIUM"
        )
    return found


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium for the session."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_binary(), args=QUIET_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def screenshot_dir(default: Path) -> Path:
    """Where pages are photographed: $OMS_SCREENSHOT_DIR (make screenshots: docs/images)."""
    directory = Path(os.environ.get("OMS_SCREENSHOT_DIR") or default)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def photograph(page: Page, directory: Path, name: str) -> Path:
    """A full-page PNG of what the browser shows."""
    path = directory / f"console-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
