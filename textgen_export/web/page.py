"""Where the page's files are: the one place that knows.

In a checkout, web_demo/ is the page's source; an installed wheel carries a copy of the page's own files in
textgen_export/web/page_files/ (setup.py's build hook).  Third-party JS (the npm packages) is never packaged:
see web/npm.py for where it comes from.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGED_PAGE = Path(__file__).resolve().parent / "page_files"
# What of the page folder is public: the page itself, nothing else (no package.json, tests, ...).  Its npm
# packages are served at node_modules/ beside it (web/serve.py mounts web.npm.node_modules_dir()).
PAGE_FILES = ("index.html", "style.css", "src/")


def checkout_page() -> Path | None:
    """web_demo/ of the repository this package runs from, if it runs from a checkout."""
    folder = REPO_ROOT / "web_demo"
    return folder if (folder / "index.html").is_file() else None


def web_demo_dir() -> Path:
    """The page's folder: index.html, style.css, src/ (our JS modules), package.json and package-lock.json;
    in a checkout also node_modules/ (npm packages) and the Node CLI's tests."""
    return checkout_page() or PACKAGED_PAGE
