"""The CLI: help, generate (streamed, files, errors) and the exit-2 one-line error rule."""

import pytest

from helpers import run_cli
from textgen_export.cli import main


def exit_code(args):
    """main()'s status, whether it returns it or argparse exits with it."""
    try:
        return main(args)
    except SystemExit as exc:
        return exc.code


def test_help_lists_every_command_with_an_example(capsys):
    from textgen_export.cli import COMMANDS

    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert name.replace("_", "-") in out
    assert out.count("e.g. textgen-export") == len(COMMANDS)


def test_generate_greedy_streams_the_original_text(reference):
    done = run_cli("generate", "--temperature", "0", "--prefix", "Show HN: ", "--max-length", "120")
    assert done.returncode == 0, done.stderr
    assert done.stdout == reference["greedy"]["texts"]["Show HN: "] + "\n"
    assert done.stderr == ""  # no TensorFlow log noise


def test_generate_seeded_many_with_legacy_files_and_out_file(tmp_path, pretrained_files):
    out = tmp_path / "texts.txt"
    args = [
        "generate",
        "--weights",
        str(pretrained_files["weights"]),
        "--vocab",
        str(pretrained_files["vocab"]),
        "-n",
        "3",
        "--seed",
        "4",
        "--temperature",
        "1.0",
        "0.5",
        "--max-length",
        "50",
        "--out",
        str(out),
    ]
    first, second = run_cli(*args), run_cli(*args)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert out.read_text(encoding="utf-8") == first.stdout
    assert len(first.stdout.splitlines()) >= 3


def test_interactive_cli_reads_choices_from_stdin():
    done = run_cli(
        "generate",
        "--interactive",
        "--top-n",
        "2",
        "--prefix",
        "Why",
        "--max-length",
        "20",
        input_text="1\n1\ns\n",
    )
    assert done.returncode == 0, done.stderr
    assert "Options:" in done.stdout and "1:" in done.stdout and "2:" in done.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["generate", "--temperature", "-1"], "temperature must be between 0 and 100"),
        (["generate", "--max-length", "0"], "--max-length must be from 1"),
        (["generate", "--max-length", "1000000000"], "--max-length must be from 1"),
        (["generate", "--interactive", "--top-n", "0"], "--top-n must be"),
        (["generate", "--weights", "/nonexistent/w.hdf5", "--vocab", "/nonexistent/v.json"], "not found"),
        (["generate", "--model", "/nonexistent/dir"], "model directory not found"),
        (["generate", "--vocab", "v.json"], "need --weights"),
        (["generate", "--out", "/proc/forbidden/x.txt"], "cannot"),
        (["generate", "-n", "0"], "number of texts"),
        (["generate", "--temperature", "hot"], "invalid float value"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, args, message):
    assert exit_code(args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_mismatched_vocab_names_the_layer(tmp_path, pretrained_files, capsys):
    vocab = tmp_path / "small_vocab.json"
    vocab.write_text('{"a": 1, "b": 2, "<s>": 3}', encoding="utf-8")
    assert main(["generate", "--weights", str(pretrained_files["weights"]), "--vocab", str(vocab)]) == 2
    err = capsys.readouterr().err
    assert "layer 'embedding'" in err and "(465, 100)" in err and "(4, 100)" in err


def test_debug_shows_the_traceback():
    done = run_cli("generate", "--debug", "--model", "/nonexistent/dir")
    assert done.returncode != 0 and "Traceback" in done.stderr
