"""`from textgen_export import textgenrnn` used exactly as textgenrnn's README shows it."""

import numpy as np
import pytest

from textgen_export import synthesize, synthesize_to_file, textgenrnn


@pytest.fixture(scope="module")
def textgen():
    return textgenrnn()


def test_default_constructor_loads_the_pretrained_model(textgen, reference):
    assert textgen.num_classes == 465
    assert textgen.config["rnn_size"] == 128 and textgen.config["max_length"] == 40
    assert textgen.META_TOKEN == "<s>"
    assert textgen.indices_char[textgen.vocab["a"]] == "a"
    probs = textgen.model.predict(np.zeros((1, 40), dtype=np.int32), verbose=0)
    assert probs.shape == (1, 465)


def test_generate_prints_and_returns_lists(textgen, capsys):
    assert textgen.generate(2, temperature=0.2, max_gen_length=40, progress=False) is None
    printed = capsys.readouterr().out
    assert printed.count("\n\n") >= 2
    texts = textgen.generate(5, prefix="Trump", temperature=0.2, return_as_list=True, max_gen_length=40)
    assert len(texts) == 5 and all(t.startswith("Trump") for t in texts)


def test_greedy_matches_the_original(textgen, reference):
    assert textgen.generate(1, return_as_list=True, prefix="Why I", temperature=0.0, max_gen_length=120) == [
        reference["greedy"]["texts"]["Why I"]
    ]


def test_generate_samples_prints_each_temperature(textgen, capsys):
    textgen.generate_samples(n=1, max_gen_length=20)
    out = capsys.readouterr().out
    for t in (0.2, 0.5, 1.0):
        assert f"Temperature: {t}" in out


def test_generate_to_file(textgen, tmp_path):
    path = tmp_path / "textgenrnn_texts.txt"
    textgen.generate_to_file(str(path), n=3, max_gen_length=30, seed=1)
    assert len(path.read_text(encoding="utf-8").splitlines()) >= 3


def test_save_load_round_trip_and_constructor_with_weights(textgen, tmp_path, pretrained_files):
    path = tmp_path / "textgenrnn_weights_saved.hdf5"
    textgen.save(str(path))
    again = textgenrnn(str(path), vocab_path=str(pretrained_files["vocab"]))
    window = np.arange(40, dtype=np.int32)[None] % 465
    np.testing.assert_array_equal(
        again.model.predict(window, verbose=0), textgen.model.predict(window, verbose=0)
    )
    again.load(str(path))
    assert again.generate(1, return_as_list=True, temperature=0.0, max_gen_length=30) == textgen.generate(
        1, return_as_list=True, temperature=0.0, max_gen_length=30
    )


def test_reset_restores_the_default_config(textgen, pretrained_files):
    other = textgenrnn(name="mine")
    assert other.config["name"] == "mine"  # as the original: config['name'] = name, whatever the file says
    other.reset()
    assert other.config == {**textgenrnn.default_config, "name": "mine"}


def test_synthesize_and_to_file(textgen, tmp_path):
    texts = synthesize(
        [textgen, textgenrnn()], n=2, return_as_list=True, max_gen_length=40, progress=False, seed=3
    )
    assert len(texts) == 2
    path = tmp_path / "synth.txt"
    synthesize_to_file([textgen, textgen], str(path), n=1, max_gen_length=30, progress=False)
    assert path.read_text(encoding="utf-8").strip()


def test_encode_text_vectors_and_similarity(textgen):
    vectors, pca = textgen.encode_text_vectors(["a dog", "a cat", "a car"], pca_dims=2, return_pca=True)
    assert vectors.shape == (3, 2) and pca.components_.shape == (2, 356)
    assert len(textgen.similarity("a dog", ["a cat", "a car"])) == 2
