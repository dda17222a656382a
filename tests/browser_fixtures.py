"""A headless Chromium page for browser tests (Debian's ``chromium`` package; no download).

A test module takes ``pytestmark = browser_fixtures.MARKS`` and ``browser_page`` as a fixture."""

import os
from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = Path("/usr/bin/chromium")

MARKS = [
    # serialized_rollback: the flush after a transactional test would drop the reference data.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}"),
]


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
