"""A headless Chromium page for browser tests (Debian's ``chromium`` package; no download).

Test modules import ``CHROMIUM`` for their skip mark and ``browser_page`` as a fixture."""

import os
from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def browser_page():
    # Playwright's sync API runs an event loop in this thread; Django's async-safety check
    # would otherwise refuse the database calls of the test and its fixtures.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
            )
            yield browser.new_page()
            # The test's database connection lives in a context that Playwright's greenlets
            # keep apart; close it here, or PostgreSQL cannot drop the test database.
            connections.close_all()
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
