"""The drop-in and the CLI accept what textgenrnn users have — a weights file alone (cuDNN layout
included), `*_vocab.json`/`*_config.json` beside it, `name=`, `textgenrnn.utils` — and textgenrnn's README runs."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from helpers import random_textgen, run_cli
from textgen_export import textgenrnn
from textgen_export.keras.h5_weights import write_weights

TEXTS = [
    "Show HN: a tiny text generator that runs everywhere",
    "Ask HN: what do you use to deploy small models?",
    "Why I stopped worrying and learned to love the LSTM",
    "The lighthouse keeper's log, digitised and searchable",
] * 4


def _cudnn_layout(kernel, recurrent, bias):
    """Inverse of the documented conversion: what a cuDNN-trained (GPU) Keras 2 file holds."""
    k_blocks = [k.reshape(k.shape[::-1], order="F").T for k in np.split(kernel, 4, axis=-1)]
    r_blocks = [k.T for k in np.split(recurrent, 4, axis=-1)]
    half = bias / 2
    return np.concatenate(k_blocks, -1), np.concatenate(r_blocks, -1), np.concatenate([half, half])


def write_gpu_weights(model, path) -> None:
    """`model`'s weights as textgenrnn saved them after training on a GPU: cuDNN-format LSTMs."""
    write_weights(model, path)
    with h5py.File(path, "r+") as f:
        for layer in [n.decode() for n in f.attrs["layer_names"]]:
            if not layer.startswith("rnn_"):
                continue
            names = [n.decode() for n in f[layer].attrs["weight_names"]]
            if not names:  # rnn_concat
                continue
            arrays = [f[layer][n][()] for n in names]
            for n, value in zip(names, _cudnn_layout(*arrays), strict=True):
                del f[layer][n]
                f[layer].create_dataset(n, data=value)


@pytest.fixture(scope="module")
def hacker_news_file(tmp_path_factory, pretrained_textgen):
    """A weights file alone, GPU layout, as textgenrnn's README loads it: textgenrnn('/weights/hacker_news.hdf5')."""
    path = tmp_path_factory.mktemp("weights") / "hacker_news.hdf5"
    write_gpu_weights(pretrained_textgen.model, path)
    with h5py.File(path) as f:
        assert f["rnn_1/rnn_1/bias:0"].shape == (8 * 128,)  # really the cuDNN layout
    return path


def test_weights_file_alone_uses_the_pretrained_vocabulary(hacker_news_file, reference, capsys):
    textgen_2 = textgenrnn(str(hacker_news_file))
    err = capsys.readouterr().err
    assert "pretrained vocabulary" in err and "hacker_news_vocab.json" in err and len(err.splitlines()) == 1
    assert textgen_2.num_classes == 465
    greedy = textgen_2.generate(1, prefix="Why I", temperature=0.0, max_gen_length=120, return_as_list=True)
    assert greedy == [reference["greedy"]["texts"]["Why I"]]
    textgen_2.generate(3, temperature=1.0, max_gen_length=30)  # the README's next line
    assert len([t for t in capsys.readouterr().out.split("\n\n") if t.strip()]) == 3


def test_vocab_and_config_beside_the_weights_are_picked_up(tmp_path, capsys):
    tg = random_textgen(seed=8, rnn_size=12, rnn_layers=1, max_length=10)
    tg.config = tg.config.replace(name="tiny")
    write_gpu_weights(tg.model, tmp_path / "tiny_weights.hdf5")
    tg.vocab.save(tmp_path / "tiny_vocab.json")
    tg.config.save(tmp_path / "tiny_config.json")
    loaded = textgenrnn(str(tmp_path / "tiny_weights.hdf5"), name="tiny")
    assert capsys.readouterr().err == ""  # nothing to note: every file was found
    assert loaded.config["rnn_size"] == 12 and loaded.config["max_length"] == 10
    assert loaded.vocab == tg.vocab.token_to_index
    windows = tg.vocab.windows([["<s>", *"Pack my"]], 10)
    np.testing.assert_allclose(loaded.textgen.runtime.probs(windows), tg.runtime.probs(windows), atol=1e-6)


def test_name_is_honoured_and_files_are_named_after_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert textgenrnn(name="foo").config["name"] == "foo"
    bar = textgenrnn(name="bar")
    bar.train_new_model(
        TEXTS, num_epochs=1, rnn_size=8, rnn_layers=1, max_length=8, dim_embeddings=4, gen_epochs=0
    )
    out = capsys.readouterr().out
    assert "Training new model w/ 1-layer, 8-cell LSTMs" in out
    sequences = sum(len(t) + 1 for t in TEXTS)  # every character and the closing <s>, after the opening <s>
    assert f"Training on {sequences:,} character sequences." in out
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bar_config.json",
        "bar_vocab.json",
        "bar_weights.hdf5",
    ]
    assert json.loads((tmp_path / "bar_config.json").read_text())["name"] == "bar"
    # A second model with another name leaves the first one's files alone.
    before = (tmp_path / "bar_weights.hdf5").read_bytes()
    textgenrnn(name="baz").train_new_model(
        TEXTS, num_epochs=1, rnn_size=8, rnn_layers=1, max_length=8, gen_epochs=0
    )
    assert (tmp_path / "bar_weights.hdf5").read_bytes() == before and (
        tmp_path / "baz_weights.hdf5"
    ).is_file()
    # And loads back from its files alone, vocab and config found beside the weights.
    again = textgenrnn("bar_weights.hdf5", name="bar")
    assert again.config["max_length"] == 8 and again.vocab == bar.vocab


def test_readme_fine_tune_then_reload_the_weights_alone(tmp_path, monkeypatch, capsys):
    """textgenrnn's README: train_from_file on the default model, then load the saved weights by path."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "hacker_news_2000.txt").write_text("\n".join(TEXTS[:4]) + "\n", encoding="utf-8")
    textgen = textgenrnn()
    textgen.train_from_file("hacker_news_2000.txt", num_epochs=1, gen_epochs=0, batch_size=32)
    out = capsys.readouterr().out
    assert "3 texts collected." in out and "character sequences." in out  # header=True: line 1 skipped
    textgen.generate_to_file("textgenrnn_texts.txt", n=2, max_gen_length=20, seed=1)
    assert (tmp_path / "textgenrnn_weights.hdf5").is_file()
    reloaded = textgenrnn(
        "textgenrnn_weights.hdf5"
    )  # no vocab beside it: the pretrained one, as it was trained
    assert "pretrained vocabulary" in capsys.readouterr().err
    window = textgen.textgen.vocab.windows([["<s>", *"Show"]], 40)
    np.testing.assert_allclose(
        reloaded.textgen.runtime.probs(window), textgen.textgen.runtime.probs(window), atol=1e-6
    )


def test_training_progress_bar_and_messages_use_one_unit_on_their_own_lines(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    textgenrnn(name="units").train_new_model(
        TEXTS,
        num_epochs=2,
        rnn_size=8,
        rnn_layers=1,
        max_length=8,
        gen_epochs=1,
        train_size=0.8,
        max_gen_length=10,
    )
    out = capsys.readouterr().out
    lines = [line.split("\r")[-1] for line in out.splitlines()]  # what a terminal leaves visible
    assert any(line.startswith("epoch 1: validation loss ") for line in lines)
    assert any(line.startswith("Temperature: 0.2") for line in lines)
    assert "bits" not in out  # the bar says loss (nats); so does everything printed beside it
    for line in lines:
        assert not ("loss:" in line and ("epoch " in line.split("loss:")[-1] or "####" in line)), line


def test_utils_module_as_textgenrnn_utils(pretrained_textgen, tmp_path):
    from textgen_export.utils import synthesize, synthesize_to_file, textgenrnn_encode_sequence

    models = [textgenrnn(), textgenrnn()]
    texts = synthesize(models, n=2, return_as_list=True, max_gen_length=30, seed=3, progress=False)
    assert len(texts) == 2 and all(isinstance(t, str) and t for t in texts)
    synthesize_to_file(models, str(tmp_path / "s.txt"), n=2, max_gen_length=20, seed=3, progress=False)
    assert len((tmp_path / "s.txt").read_text(encoding="utf-8").splitlines()) >= 2
    window = textgenrnn_encode_sequence("ab", models[0].vocab, 40)
    assert window.shape == (1, 40) and window[0, -1] == models[0].vocab["b"] and window[0, 0] == 0


def test_interactive_write_your_own_is_tokenised(pretrained_textgen):
    from textgen_export.sampling.interactive import InteractiveSession, run_terminal

    answers = iter(["o", "he cat", "s"])
    session = InteractiveSession(pretrained_textgen.generator, prefix="T", temperature=0.0, top_n=3)
    text = run_terminal(session, ask=lambda _: next(answers), say=lambda _: None)
    assert text == "The cat"
    assert session.tokens[-6:] == list("he cat")  # one token per character, not one unknown token


# -- the CLI takes the same files ---------------------------------------------------------------------------
def test_cli_takes_a_weights_file_as_the_model_source(tmp_path):
    tg = random_textgen(seed=9, rnn_size=12, max_length=10)
    write_gpu_weights(tg.model, tmp_path / "w.hdf5")
    tg.vocab.save(tmp_path / "vocab.json")
    tg.config.save(tmp_path / "config.json")
    done = run_cli(
        "export",
        tmp_path / "w.hdf5",
        "--vocab",
        tmp_path / "vocab.json",
        "--config",
        tmp_path / "config.json",
        "--out",
        tmp_path / "b",
    )
    assert done.returncode == 0, done.stderr
    # generate --model path/weights.hdf5, companions named the textgenrnn way
    (tmp_path / "my_weights.hdf5").write_bytes((tmp_path / "w.hdf5").read_bytes())
    (tmp_path / "my_vocab.json").write_bytes((tmp_path / "vocab.json").read_bytes())
    (tmp_path / "my_config.json").write_bytes((tmp_path / "config.json").read_bytes())
    done = run_cli(
        "generate", "--model", tmp_path / "my_weights.hdf5", "--temperature", "0", "--max-length", "20"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == tg.generate(temperature=0.0, max_gen_length=20)[0] + "\n"


@pytest.mark.parametrize(
    "args, message",
    [
        (["export", "{tmp}", "--vocab", "v.json", "--out", "{tmp}/b"], "give either a model directory or"),
        (["export", "--vocab", "v.json", "--out", "{tmp}/b"], "need --weights too"),
        (["generate", "--model", "{tmp}/missing.hdf5"], "weights file not found"),
        (["export", "{tmp}/w.hdf5", "--weights", "{tmp}/w.hdf5", "--out", "{tmp}/b"], "drop --weights"),
    ],
)
def test_cli_errors_name_only_flags_that_exist(tmp_path, args, message):
    (tmp_path / "w.hdf5").write_bytes(b"")
    done = run_cli(*[a.format(tmp=tmp_path) for a in args])
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    if args[0] == "export":
        assert "--model" not in done.stderr


def test_help_starts_with_what_the_tool_does():
    done = run_cli("--help")
    description = done.stdout.split("\n\n")[1]
    assert description.startswith("Train small text-generating neural networks")
    assert "textgen_export/commands" not in done.stdout.split("commands (")[0]


@pytest.mark.node
@pytest.mark.parametrize("word_level", [False, True])
def test_write_your_own_tokenises_identically_in_python_and_the_page(word_level):
    """The page's InteractiveSession.write (web_demo/src/sampling/interactive.js) and Python's give the same tokens."""
    import subprocess

    from helpers import WEB_DEMO, node_ready
    from textgen_export.contract.config import ModelConfig
    from textgen_export.contract.vocabulary import Vocabulary
    from textgen_export.sampling.generator import Generator
    from textgen_export.sampling.interactive import InteractiveSession

    tokens = ["the", "cat", ",", "sat", ".", "'", "s"] if word_level else list("The cat,sd.'")
    mapping = {t: i + 1 for i, t in enumerate([*tokens, "<s>"])}
    typed = "the Cat's  sat, the end."
    config = ModelConfig(max_length=8, word_level=word_level)
    session = InteractiveSession(Generator(None, Vocabulary(mapping, word_level), config), prefix="the")
    session.write(typed)
    script = f"""
import {{ Generator }} from "./src/sampling/generator.js";
import {{ InteractiveSession }} from "./src/sampling/interactive.js";
import {{ Vocabulary }} from "./src/contract/vocabulary.js";
const vocab = new Vocabulary({json.dumps(mapping)}, {json.dumps(word_level)});
const config = {{ max_length: 8, word_level: {json.dumps(word_level)}, single_text: false }};
const session = new InteractiveSession(new Generator(null, vocab, config), {{ prefix: "the" }});
session.write({json.dumps(typed)});
process.stdout.write(JSON.stringify(session.tokens));
"""
    done = subprocess.run(
        [node_ready(), "--input-type=module", "-e", script],
        cwd=WEB_DEMO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == session.tokens
    assert len(session.tokens) > 5  # tokenised, not appended as one token
