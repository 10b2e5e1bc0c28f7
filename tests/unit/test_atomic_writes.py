"""Atomic writes: a failure or a SIGKILL part-way never leaves a half-written file or directory behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from helpers import REPO
from textgen_export.errors import UserError
from textgen_export.files.atomic import atomic_directory, atomic_path, write_text

SLOW_WRITER = """
import sys, time
from pathlib import Path
from textgen_export.files.atomic import atomic_directory, atomic_path
target, mode = Path(sys.argv[1]), sys.argv[2]
if mode == "file":
    with atomic_path(target) as tmp, open(tmp, "wb") as f:
        while True:  # write forever; the test kills us part-way
            f.write(b"new" * 1000); f.flush(); time.sleep(0.01)
else:
    with atomic_directory(target) as tmp:
        (tmp / "half.txt").write_text("half")
        while True:
            time.sleep(0.01)
"""


def test_write_replaces_and_leaves_no_temp(tmp_path):
    path = tmp_path / "a.txt"
    write_text(path, "one")
    write_text(path, "two")
    assert path.read_text() == "two"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_exception_keeps_the_old_file(tmp_path):
    path = tmp_path / "a.txt"
    write_text(path, "old")
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_exception_keeps_the_old_directory(tmp_path):
    folder = tmp_path / "bundle"
    with atomic_directory(folder) as tmp:
        (tmp / "f.txt").write_text("v1")
    with pytest.raises(RuntimeError), atomic_directory(folder) as tmp:
        (tmp / "f.txt").write_text("half")
        raise RuntimeError("boom")
    assert (folder / "f.txt").read_text() == "v1"
    assert [p.name for p in tmp_path.iterdir()] == ["bundle"]


def test_directory_replacement_is_whole(tmp_path):
    folder = tmp_path / "bundle"
    with atomic_directory(folder) as tmp:
        (tmp / "old-only.txt").write_text("v1")
    with atomic_directory(folder) as tmp:
        (tmp / "new.txt").write_text("v2")
    assert sorted(p.name for p in folder.iterdir()) == ["new.txt"]


def test_unwritable_parent_is_a_user_error():
    with pytest.raises(UserError, match="cannot"):
        write_text("/proc/textgen-export-test/x.txt", "x")


@pytest.mark.parametrize("mode", ["file", "dir"])
def test_sigkill_mid_write_loses_nothing(tmp_path, mode):
    target = tmp_path / ("out.txt" if mode == "file" else "bundle")
    if mode == "file":
        write_text(target, "previous")
    else:
        with atomic_directory(target) as tmp:
            (tmp / "f.txt").write_text("previous")
    proc = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, str(target), mode], cwd=REPO)
    deadline = time.time() + 60
    while time.time() < deadline and not any(p.name.endswith(".tmp") for p in tmp_path.iterdir()):
        time.sleep(0.05)
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    if mode == "file":
        assert target.read_text() == "previous"
    else:
        assert (target / "f.txt").read_text() == "previous"
        assert not (target / "half.txt").exists()


def test_written_files_and_directories_get_ordinary_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        write_text(tmp_path / "a.txt", "x")
        with atomic_directory(tmp_path / "d") as tmp:
            (tmp / "f").write_text("y")
    finally:
        os.umask(umask)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o755
