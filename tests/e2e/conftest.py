"""Fixtures the browser tests share: Chromium (one per test module) and a fresh page per test."""

from __future__ import annotations

import pytest
from test_browser import Page, browser  # noqa: F401  (browser: the module-scoped Chromium fixture)


@pytest.fixture
def page(browser):  # noqa: F811
    opened = Page(browser)
    yield opened
    opened.page.close()
