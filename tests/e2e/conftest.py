"""Fixtures the e2e tests share: Chromium (one per test module), a fresh page per test, one demo run."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from test_browser import Page, browser  # noqa: F401  (browser: the module-scoped Chromium fixture)

from helpers import run_cli


@pytest.fixture(scope="session")
def demo(tmp_path_factory, pretrained_files) -> tuple[Path, subprocess.CompletedProcess]:
    """`textgen-export demo --out demo_out --lines 40 --epochs 1` (what `make demo` runs, on a small corpus), run
    once from a user's folder with a relative --out: its folder (read-only: copy it to change it) and its output.
    test_demo checks the run; the README walk-through continues from a copy of its folder."""
    user = tmp_path_factory.mktemp("demo_user")
    done = run_cli("demo", "--out", "demo_out", "--lines", "40", "--epochs", "1", cwd=user, timeout=900)
    return user / "demo_out", done


@pytest.fixture
def page(browser):  # noqa: F811
    opened = Page(browser)
    yield opened
    opened.page.close()
