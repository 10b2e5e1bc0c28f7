"""First lines of the docstrings of the Python standard library installed here, in a fixed order.

Text nobody on this team wrote, always available offline: modules, classes and functions of every `.py` file
under `sysconfig.get_paths()["stdlib"]` (tests, site-packages and vendored trees skipped), files in sorted
order, definitions in source order, each distinct line once.
"""

from __future__ import annotations

import ast
import sysconfig
import warnings
from collections.abc import Iterator
from pathlib import Path

SKIP_DIRS = {"site-packages", "dist-packages", "test", "tests", "idle_test", "__pycache__", "_vendor"}
MIN_CHARS = 12  # shorter first lines are mostly "Constructor." and the like
MAX_CHARS = 200


def stdlib_files(root: Path | None = None) -> list[Path]:
    root = Path(root or sysconfig.get_paths()["stdlib"])
    files = [p for p in root.rglob("*.py") if not SKIP_DIRS.intersection(p.relative_to(root).parts[:-1])]
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def first_lines(source: str) -> Iterator[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escape sequences in old sources
        tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            doc = ast.get_docstring(node)
            if doc:
                line = doc.strip().splitlines()[0].strip()
                if MIN_CHARS <= len(line) <= MAX_CHARS:
                    yield line


def harvest(limit: int | None = None, root: Path | None = None) -> list[str]:
    """Distinct docstring first lines, deterministic for a given Python installation."""
    seen: dict[str, None] = {}
    for path in stdlib_files(root):
        try:
            source = path.read_text(encoding="utf-8")
            lines = list(first_lines(source))
        except (SyntaxError, UnicodeDecodeError, ValueError, OSError):
            continue  # a few stdlib files are deliberately invalid (e.g. lib2to3 test data)
        for line in lines:
            seen.setdefault(line, None)
            if limit is not None and len(seen) >= limit:
                return list(seen)
    return list(seen)
