"""Runs every case of tests/hostile_cases.py through the CLI (in-process): exit 2, one line, nothing written."""

from __future__ import annotations

import pytest

from hostile_cases import CASES
from textgen_export.cli import main


def run_case(case, tmp_path, fixtures, capsys):
    argv = case.argv(tmp_path, fixtures)
    protected = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse's own errors
        status = exc.code
    err = capsys.readouterr().err
    return status, err, protected


@pytest.fixture(scope="module")
def fixtures(pretrained_files):
    return dict(pretrained_files)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input(case, tmp_path, fixtures, capsys):
    status, err, protected = run_case(case, tmp_path, fixtures, capsys)
    assert status == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert case.expect in err, err
    for name in case.outputs:
        assert not (tmp_path / name).exists(), f"{name} was left behind"
    for path, data in protected.items():  # nothing previously saved was changed
        assert path.read_bytes() == data
    assert not [p for p in tmp_path.rglob("*.tmp")], "a temporary file was left behind"
