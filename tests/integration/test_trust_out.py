"""--out never deletes a user's files: a folder is replaced only when it is provably ours, one writer at a time,
and a crash in the middle of a replacement is repaired by the next run (data loss)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import REPO, copy_bundle, export, random_textgen, run_cli
from textgen_export.cli import main
from textgen_export.errors import UserError
from textgen_export.files.atomic import atomic_directory, recover_directory

TINY = ["--new-model", "--rnn-size", "8", "--max-length", "6", "--dim-embeddings", "4"]
TINY += ["--epochs", "1", "--gen-epochs", "0", "--batch-size", "8"]
CORPUS = "".join(f"line {i}: the quick brown fox\n" for i in range(20))


def cli(*args, capsys) -> tuple[int, str]:
    status = main([str(a) for a in args])
    err = capsys.readouterr().err
    return status, err


def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("model") / "m"
    random_textgen().save(folder)
    return folder


def test_export_keeps_a_web_app_that_has_a_manifest(tmp_path, capsys):
    webapp = tmp_path / "webapp"
    webapp.mkdir()
    (webapp / "manifest.json").write_text('{"name": "My PWA"}')
    (webapp / "app.js").write_text("x")
    before = snapshot(webapp)
    status, err = cli("export", "--out", webapp, capsys=capsys)
    assert status == 2 and err.count("\n") == 1 and "not a bundle written by textgen-export" in err, err
    assert snapshot(webapp) == before


def test_export_keeps_files_added_to_a_bundle(tmp_path, model_dir, capsys, tiny_onnx_bundle):
    bundle = copy_bundle(tiny_onnx_bundle, tmp_path / "bundle")
    (bundle / "notes.txt").write_text("mine")
    (bundle / "parity" / ".hidden").write_text("mine too")
    before = snapshot(bundle)
    status, err = cli("export", model_dir, "--out", bundle, capsys=capsys)
    assert status == 2 and "did not write" in err and "notes.txt" in err and "parity/.hidden" in err, err
    assert snapshot(bundle) == before
    (bundle / "notes.txt").unlink()
    (bundle / "parity" / ".hidden").unlink()
    os.symlink("/etc/hostname", bundle / "link")  # we never write symlinks, so one is someone else's
    status, err = cli("export", model_dir, "--out", bundle, capsys=capsys)
    assert status == 2 and "link" in err
    (bundle / "link").unlink()
    status, err = cli("export", model_dir, "--out", bundle, capsys=capsys)  # only our files: replaced
    assert status == 0, err
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no lock or staging left


def test_train_keeps_a_project_folder_with_a_config(tmp_path, capsys):
    project = tmp_path / "project"
    project.mkdir()
    (project / "config.json").write_text("{}")
    (project / "notes.txt").write_text("mine")
    (tmp_path / "corpus.txt").write_text(CORPUS)
    before = snapshot(project)
    status, err = cli("train", tmp_path / "corpus.txt", *TINY, "--out", project, capsys=capsys)
    assert status == 2 and "not a model directory written by textgen-export" in err, err
    assert snapshot(project) == before


def test_train_never_deletes_its_own_corpus(tmp_path, model_dir, capsys):
    own = tmp_path / "own"
    random_textgen().save(own)
    (own / "corpus.txt").write_text(CORPUS)
    before = snapshot(own)
    status, err = cli(
        "train",
        own / "corpus.txt",
        "--from",
        own,
        "--epochs",
        "1",
        "--gen-epochs",
        "0",
        "--out",
        own,
        capsys=capsys,
    )
    assert status == 2 and err.count("\n") == 1 and "inside --out" in err, err
    assert snapshot(own) == before


def test_save_epochs_keeps_someone_elses_epoch_folder(tmp_path, capsys):
    (tmp_path / "corpus.txt").write_text(CORPUS)
    taken = tmp_path / "m_epoch1"
    taken.mkdir()
    (taken / "photo.jpg").write_bytes(b"\xff\xd8")
    status, err = cli(
        "train",
        tmp_path / "corpus.txt",
        *TINY,
        "--epochs",
        "2",
        "--save-epochs",
        "1",
        "--out",
        tmp_path / "m",
        capsys=capsys,
    )
    assert status == 2 and "m_epoch1" in err and "not a model directory" in err, err
    assert (taken / "photo.jpg").read_bytes() == b"\xff\xd8" and not (tmp_path / "m").exists()


def test_retraining_replaces_our_own_model_dir_and_epoch_folders(tmp_path, capsys):
    (tmp_path / "corpus.txt").write_text(CORPUS)
    args = (
        "train",
        tmp_path / "corpus.txt",
        *TINY,
        "--epochs",
        "2",
        "--save-epochs",
        "1",
        "--out",
        tmp_path / "m",
    )
    assert cli(*args, capsys=capsys)[0] == 0
    metadata = json.loads((tmp_path / "m" / "metadata.json").read_text())
    assert metadata["format"] == "textgen-export-model"
    status, err = cli(*args, capsys=capsys)
    assert status == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.txt", "m", "m_epoch1"]


def test_a_model_dir_trained_before_the_format_name_is_still_ours(tmp_path, capsys):
    (tmp_path / "corpus.txt").write_text(CORPUS)
    args = ("train", tmp_path / "corpus.txt", *TINY, "--out", tmp_path / "m")
    assert cli(*args, capsys=capsys)[0] == 0
    metadata_path = tmp_path / "m" / "metadata.json"
    metadata = json.loads(metadata_path.read_text())
    del metadata["format"]  # as the previous version wrote it
    metadata_path.write_text(json.dumps(metadata))
    status, err = cli(*args, capsys=capsys)
    assert status == 0, err
    metadata_path.write_text("{}")  # a metadata.json that is not ours
    status, err = cli(*args, capsys=capsys)
    assert status == 2 and "not a model directory written by textgen-export" in err


HOLDER = """
import sys, time
from textgen_export.files.lock import output_lock
with output_lock(sys.argv[1], "training run"):
    print("locked", flush=True)
    time.sleep(600)
"""


def test_a_second_run_on_the_same_out_names_the_holder(tmp_path, capsys):
    (tmp_path / "corpus.txt").write_text(CORPUS)
    out = tmp_path / "m"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(out)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        status, err = cli("train", tmp_path / "corpus.txt", *TINY, "--out", out, capsys=capsys)
        assert status == 2 and err.count("\n") == 1 and f"pid {holder.pid}" in err, err
        status, err = cli("export", "--out", out, capsys=capsys)
        assert status == 2 and f"pid {holder.pid}" in err, err
    finally:
        holder.kill()  # SIGKILL: the kernel releases the flock with the process
        holder.wait()
    assert not out.exists()
    from textgen_export.files.lock import output_lock

    with output_lock(out, "test"):  # the killed holder's lock is gone
        pass


CRASH_BETWEEN_RENAMES = """
import os, signal, sys
from pathlib import Path
from textgen_export.files.atomic import atomic_directory
target = Path(sys.argv[1])
real_replace = os.replace
def replace(src, dst):
    if Path(src).parent.name.endswith(".new"):  # the old directory is aside: die before the new one goes in
        os.kill(os.getpid(), signal.SIGKILL)
    return real_replace(src, dst)
os.replace = replace
with atomic_directory(target) as tmp:
    (tmp / "metadata.json").write_text(sys.argv[2])
"""


def crash_between_renames(target: Path, content: str) -> None:
    done = subprocess.run([sys.executable, "-c", CRASH_BETWEEN_RENAMES, str(target), content], cwd=REPO)
    assert done.returncode == -signal.SIGKILL
    assert not target.exists()  # the state the crash leaves: nothing at the target


def test_a_crash_between_the_renames_is_finished_by_the_next_run(tmp_path):
    target = tmp_path / "bundle"
    with atomic_directory(target) as tmp:
        (tmp / "f.txt").write_text("old")
    crash_between_renames(target, "new")
    assert recover_directory(target) is not None
    assert (target / "metadata.json").read_text() == "new"  # the complete new directory was put in place
    assert [p.name for p in tmp_path.iterdir()] == ["bundle"]  # and the old one and temporaries removed


SLOW_WRITER = """
import sys, time
from textgen_export.files.atomic import atomic_directory
with atomic_directory(sys.argv[1]) as tmp:
    time.sleep(600)
"""


def test_stale_temporaries_of_a_killed_writer_are_cleaned(tmp_path):
    target = tmp_path / "bundle"
    writer = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, str(target)], cwd=REPO)
    deadline = time.time() + 60
    while time.time() < deadline and not any(p.name.endswith(".tmp") for p in tmp_path.iterdir()):
        time.sleep(0.05)
    staging = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert staging
    recover_directory(target)
    assert staging[0].exists()  # a live writer's staging directory is left alone
    writer.kill()
    writer.wait()
    with atomic_directory(target) as tmp:
        (tmp / "f.txt").write_text("next")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]


def lookalikes(parent: Path, name: str) -> dict[str, dict]:
    """Someone's own folders beside `parent/name` whose names look like our staging directories (a dead pid, a
    word, .tmp/.new/.old), each holding a file; returns their snapshots."""
    found = {}
    for leftover in (f".{name}.20240101.orig.old", f".{name}.3999999.keep.new", f".{name}.3999998.x.tmp"):
        (parent / leftover / name).mkdir(parents=True)
        (parent / leftover / name / "notes.txt").write_text("mine")
        (parent / leftover / "README").write_text("also mine")
        found[leftover] = snapshot(parent / leftover)
    return found


def test_export_leaves_folders_that_only_look_like_its_leftovers(tmp_path, model_dir, capsys):
    own = tmp_path / "own"
    own.mkdir()
    theirs = lookalikes(own, "bundle")
    status, err = cli("export", model_dir, "--out", own / "bundle", capsys=capsys)
    assert status == 0, err
    assert (own / "bundle" / "manifest.json").is_file() and not (own / "bundle" / "notes.txt").exists()
    assert {name: snapshot(own / name) for name in theirs} == theirs  # neither deleted nor moved into place
    assert sorted(p.name for p in own.iterdir()) == sorted(["bundle", *theirs])


def test_site_leaves_folders_that_only_look_like_its_leftovers(tmp_path, tiny_onnx_bundle):
    copy_bundle(tiny_onnx_bundle, tmp_path / "bundle")
    own = tmp_path / "own"
    own.mkdir()
    theirs = lookalikes(own, "site")
    done = run_cli("site", "bundle", "--out", "own/site", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (own / "site" / "index.html").is_file()
    assert {name: snapshot(own / name) for name in theirs} == theirs
    assert sorted(p.name for p in own.iterdir()) == sorted(["site", *theirs])


def test_resume_finds_a_run_whose_final_write_crashed(tmp_path):
    from textgen_export.training import checkpoint

    out = tmp_path / "run"
    (out / "checkpoint").mkdir(parents=True)
    (out / "checkpoint" / "latest").write_text("epoch-0001\n")
    crash_between_renames(
        out, '{"format": "textgen-export-model"}'
    )  # the final model replacing the checkpoint
    with pytest.raises(UserError, match="finished"):
        checkpoint.locate(out)  # the complete final model was put in place: nothing left to resume
    assert (out / "metadata.json").is_file() and not (out / "checkpoint").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_owned_is_checked_again_right_before_replacing(tmp_path):
    target = tmp_path / "d"
    target.mkdir()
    (target / "late.txt").write_text("added while we worked")

    def refuse(path):
        raise UserError(f"{path} is not ours")

    with pytest.raises(UserError), atomic_directory(target, owned=refuse) as tmp:
        (tmp / "f").write_text("x")
    assert (target / "late.txt").read_text() == "added while we worked"
    assert [p.name for p in tmp_path.iterdir()] == ["d"]


@pytest.fixture
def full_disk(tmp_path):
    """A real, full file system: a 64 KiB tmpfs filled to the last byte by an earlier file (root only)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        fd = os.open(mount / "earlier.bin", os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(fd, b"x" * 512)
        except OSError:
            pass
        finally:
            os.close(fd)
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_is_one_line_and_loses_nothing(full_disk, model_dir, capsys):
    before = snapshot(full_disk)
    status, err = cli("export", model_dir, "--out", full_disk / "bundle", capsys=capsys)
    assert status == 2 and err.count("\n") == 1 and "No space left on device" in err, err
    with pytest.raises(UserError, match="No space left on device"):  # the Python API: a UserError too
        export(random_textgen(), full_disk / "api_bundle", tfjs=False)
    status, err = cli(
        "generate", "--model", model_dir, "-n", "40", "--out", full_disk / "t.txt", capsys=capsys
    )
    assert status == 2 and err.count("\n") == 1 and "No space left on device" in err, err
    assert snapshot(full_disk) == before  # the earlier file intact, nothing half-written, no temporaries
    assert sorted(p.name for p in full_disk.iterdir()) == ["earlier.bin"]
