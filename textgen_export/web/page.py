"""Where the page's files are: the one place that knows (web_demo/ is the page's source in the repository)."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
# What of web_demo/ is public: the page and its npm packages, nothing else (no package.json, tests, ...).
PAGE_FILES = ("index.html", "style.css", "src/", "node_modules/")


def web_demo_dir() -> Path:
    """The page's folder: index.html, style.css, src/ (our JS modules) and node_modules/ (npm packages)."""
    return REPO_ROOT / "web_demo"


def benchmarks_dir() -> Path:
    """The benchmark suite's JS pages and its results folder."""
    return REPO_ROOT / "benchmarks"
