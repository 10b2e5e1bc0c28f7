"""The example corpus: first lines of the installed standard library's docstrings, harvested offline."""

from __future__ import annotations

import sysconfig

from textgen_export.cli import main
from textgen_export.datasets.python_docstrings import first_lines, harvest, stdlib_files


def test_harvest_is_deterministic_distinct_and_prefix_stable():
    lines = harvest(limit=400)
    assert len(lines) == 400 == len(set(lines))
    assert harvest(limit=400) == lines
    assert harvest(limit=100) == lines[:100]
    assert all("\n" not in line and 12 <= len(line) <= 200 for line in lines)


def test_files_come_from_the_stdlib_without_tests_or_site_packages():
    root = sysconfig.get_paths()["stdlib"]
    files = stdlib_files()
    assert files and all(str(p).startswith(root) for p in files)
    assert not any("site-packages" in p.parts or "test" in p.parts for p in files)


def test_first_lines_of_module_class_and_function_docstrings():
    source = '"""Module doc line.\n\nMore."""\nclass A:\n    """Class doc line here."""\n    def f(self):\n        """Short."""\n'
    assert list(first_lines(source)) == ["Module doc line.", "Class doc line here."]  # "Short." is too short


def test_dataset_command_writes_the_corpus_atomically(tmp_path, capsys):
    out = tmp_path / "docs.txt"
    assert main(["dataset", "python-docstrings", "--out", str(out), "--limit", "50"]) == 0
    assert out.read_text(encoding="utf-8").splitlines() == harvest(limit=50)
    assert main(["dataset", "python-docstrings", "--out", str(out), "--limit", "0"]) == 2
    assert "--limit" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docs.txt"]
