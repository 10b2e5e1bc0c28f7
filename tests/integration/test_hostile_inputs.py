"""Runs every case of tests/hostile_cases.py through the CLI (in-process): exit 2, one line, nothing written.

Also the Python API cases (one-line UserError), the Node CLI on the bundles both languages read (TWIN_CASES), and
a check that tests/HOSTILE_INPUTS.md lists exactly the table.
"""

from __future__ import annotations

import pytest

from helpers import node_cli
from hostile_cases import (
    API_CASES,
    CASES,
    MARKDOWN,
    TWIN_CASES,
    build_fixtures,
    markdown,
    node_args,
    twin_bundle,
)
from textgen_export.cli import main
from textgen_export.errors import UserError


def run_case(case, tmp_path, fixtures, capsys):
    argv = case.argv(tmp_path, fixtures)
    protected = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    protected.update({p: None for p in tmp_path.rglob("*") if p.is_dir()})
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse's own errors
        status = exc.code
    err = capsys.readouterr().err
    return status, err, protected


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory):
    return build_fixtures(tmp_path_factory.mktemp("hostile_fixtures"))


def leftovers(folder, before=frozenset()):
    """Temporary files or directories of an atomic write (*.tmp, *.new) or a replaced directory (*.old) that were
    not there `before` (a case may place someone's own folders with such names)."""
    return [p for pattern in ("*.tmp", "*.new", "*.old") for p in folder.rglob(pattern) if p not in before]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input(case, tmp_path, fixtures, capsys):
    status, err, protected = run_case(case, tmp_path, fixtures, capsys)
    assert status == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert case.expect in err, err
    for name in case.outputs:
        assert not (tmp_path / name).exists(), f"{name} was left behind"
    for path, data in protected.items():  # nothing previously saved was changed (or moved)
        if data is None:
            assert path.is_dir(), f"{path} was moved or deleted"
        else:
            assert path.is_file() and path.read_bytes() == data, f"{path} was changed"
    assert not leftovers(tmp_path, set(protected)), "a temporary file was left behind"


@pytest.mark.parametrize("case", API_CASES, ids=[c.id for c in API_CASES])
def test_hostile_api_input(case, tmp_path, fixtures):
    names = case.setup(tmp_path, fixtures)
    with pytest.raises(UserError) as info:
        eval(case.code, names)  # noqa: S307 - the code is our own table's
    message = str(info.value)
    assert case.expect in message and "\n" not in message, message
    assert not leftovers(tmp_path)


@pytest.mark.node
@pytest.mark.parametrize("case", TWIN_CASES, ids=[c.id for c in TWIN_CASES])
def test_hostile_bundle_in_node(case, tmp_path, fixtures):
    done = node_cli(twin_bundle(case, tmp_path, fixtures), *node_args(case), timeout=120)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stderr.count("\n") == 1 and "    at " not in done.stderr, done.stderr
    assert case.expect_node in done.stderr, done.stderr


def test_the_markdown_lists_every_case(fixtures, tmp_path_factory):
    """tests/HOSTILE_INPUTS.md is generated from the table; regenerate it with `python tests/hostile_cases.py`."""
    assert len(CASES) >= 30 and len({c.id for c in CASES}) == len(CASES)
    expected = markdown(fixtures, lambda: tmp_path_factory.mktemp("case"))
    assert MARKDOWN.read_text(encoding="utf-8") == expected, (
        "tests/HOSTILE_INPUTS.md is out of date: run `.venv/bin/python tests/hostile_cases.py`"
    )
