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


def node_cli(bundle: str, runtime: str) -> str | None:
    """The Node CLI command for `bundle`, where there is one to run: a checkout (an installed wheel carries the
    page's modules but not their npm packages, so it has no Node CLI to offer)."""
    return f"node web_demo/src/cli.mjs {bundle} --runtime {runtime}" if checkout_page() else None


def node_setup() -> str:
    """How to get the Node runtimes here, in words that fit this install."""
    if checkout_page():
        return "node and web_demo/node_modules: run `make node-deps`"
    return "Node and a checkout of the textgen-export repository (an installed package has no Node runtimes)"


def web_demo_dir() -> Path:
    """The page's folder: index.html, style.css, src/ (our JS modules), package.json and package-lock.json;
    in a checkout also node_modules/ (npm packages) and the Node CLI's tests."""
    return checkout_page() or PACKAGED_PAGE
