import json

import numpy as np
import pytest

from textgen_export.contract.tokens import META_TOKEN, Detokenizer, detokenize, tokenize, word_tokens
from textgen_export.contract.vocabulary import Vocabulary
from textgen_export.errors import UserError


def test_char_vocab_is_frequency_ordered_with_first_seen_ties_and_meta_last():
    vocab = Vocabulary.from_texts(["abba", "cab"], max_words=10, word_level=False)
    # counts: a=3, b=3, c=1; a seen before b
    assert vocab.token_to_index == {"a": 1, "b": 2, "c": 3, META_TOKEN: 4}
    assert vocab.num_classes == 5


def test_max_words_cuts_before_meta_token():
    vocab = Vocabulary.from_texts(["aaabbc"], max_words=2, word_level=False)
    assert vocab.token_to_index == {"a": 1, "b": 2, META_TOKEN: 3}


def test_single_text_has_no_meta_token():
    vocab = Vocabulary.from_texts(["abc"], max_words=10, word_level=False, single_text=True)
    assert META_TOKEN not in vocab.token_to_index


def test_word_tokens_lowercase_and_space_out_punctuation():
    assert word_tokens("Hello, World!\nIt's “fine”…") == [
        "hello",
        ",",
        "world",
        "!",
        "\n",
        "it",
        "'",
        "s",
        "“",
        "fine",
        "”",
        "…",
    ]


def test_word_detokenize_reattaches_punctuation():
    tokens = word_tokens('Hello, world! (yes) it\'s "quoted" $5 ok.')
    assert detokenize(tokens, word_level=True) == 'hello, world! (yes) it\'s "quoted" $5 ok.'


def test_streamed_detokenizer_pieces_join_to_whole_text():
    tokens = word_tokens('A "b" (c), d\'e.\nf')
    joiner = Detokenizer(word_level=True)
    assert "".join(joiner.push(t) for t in tokens) == detokenize(tokens, True)


def test_windows_keep_last_tokens_left_padded_unknown_is_zero(tmp_path):
    vocab = Vocabulary({"a": 1, "b": 2, META_TOKEN: 3})
    windows = vocab.windows([[META_TOKEN, "a", "z", "b"], list("ababab")], max_length=4)
    assert windows.dtype == np.int32
    assert windows.tolist() == [[3, 1, 0, 2], [1, 2, 1, 2]]
    assert vocab.windows([[]], 3).tolist() == [[0, 0, 0]]


def test_vocab_json_round_trip_keeps_textgenrnn_format(tmp_path):
    vocab = Vocabulary.from_texts(["héllo ☃ wörld"], 100, False)
    path = tmp_path / "v.json"
    vocab.save(path)
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert raw == vocab.token_to_index
    assert Vocabulary.load(path).token_to_index == vocab.token_to_index


@pytest.mark.parametrize(
    "mapping, message",
    [
        ([1, 2], "JSON object"),
        ({"a": 1, "b": 1}, "used twice"),
        ({"a": 1, "b": 3}, "exactly 1..2"),
        ({"a": "1"}, "must be an integer"),
        ({}, "empty"),
    ],
)
def test_bad_vocab_is_a_one_line_user_error(mapping, message):
    with pytest.raises(UserError, match=message) as info:
        Vocabulary(mapping)
    assert "\n" not in str(info.value)


def test_tokenize_char_level_keeps_case_and_everything():
    assert tokenize("Ab \t☃", word_level=False) == ["A", "b", " ", "\t", "☃"]


def test_word_level_lower_cases_exactly_unicode_14():
    """LOWERED is the set Unicode 14.0 lower-cases; `lower` leaves any other code point as it is on any Python."""
    import unicodedata

    from textgen_export.contract.tokens import LOWERED, code_points, lower

    lowered = code_points(LOWERED)
    assert len(lowered) == 1433
    assert lower("\ua7cbWORLD \u0130") == "\ua7cbworld i\u0307"
    if unicodedata.unidata_version == "14.0.0":  # Python 3.11: its own str.lower is the pinned behaviour
        assert lowered == {c for c in range(0x110000) if chr(c).lower() != chr(c)}
    for c in range(0x110000):
        if c not in lowered and not 0xD800 <= c < 0xE000:
            assert lower(chr(c)) == chr(c), hex(c)
