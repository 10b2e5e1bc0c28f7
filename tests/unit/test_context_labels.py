"""Context labels (contract/labels.py): one text's labels, the head's label vector, and the errors users see."""

from __future__ import annotations

import numpy as np
import pytest

from textgen_export.contract.labels import ContextLabels, check_context, split_labels
from textgen_export.errors import UserError


def test_a_cell_may_hold_several_labels():
    assert split_labels("fruit") == ["fruit"]
    assert split_labels(" fruit | animal |fruit") == ["fruit", "animal"]
    assert split_labels(["fruit", "animal|plant"]) == ["fruit", "animal", "plant"]
    for empty in ("", " | ", []):
        with pytest.raises(UserError, match="missing"):
            split_labels(empty)
    with pytest.raises(UserError, match="string"):
        split_labels([3])


def test_the_vector_is_multi_hot_in_the_saved_order(tmp_path):
    labels = ContextLabels.from_texts(["fruit", "animal|fruit", ["plant"]])
    assert labels.names == ["animal", "fruit", "plant"]
    assert labels.vector("fruit").tolist() == [0, 1, 0]
    assert labels.vector(["plant", "animal"]).tolist() == [1, 0, 1]
    assert labels.vector("animal|plant").dtype == np.float32
    assert labels.multi_hot(["fruit", "animal|plant"]).tolist() == [[0, 1, 0], [1, 0, 1]]
    labels.save(tmp_path / "labels.json")
    assert ContextLabels.load(tmp_path / "labels.json") == labels


def test_an_unknown_label_names_the_known_ones():
    labels = ContextLabels(["animal", "fruit"])
    with pytest.raises(UserError) as err:
        labels.vector("plant")
    assert str(err.value) == "unknown context label 'plant'; this model knows: animal, fruit"


def test_no_label_is_the_text_path_and_a_model_without_a_head_refuses_one():
    labels = ContextLabels(["a", "b"])
    assert check_context(labels, None) is None and check_context(labels, "") is None
    assert check_context(labels, []) is None
    assert check_context(None, None) is None
    with pytest.raises(UserError, match="no context head"):
        check_context(None, "a")


@pytest.mark.parametrize(
    "names, match",
    [([], "1 to"), (["a", "a"], "unique"), (["a|b"], "separates"), ([" a"], "trimmed"), ([1], "strings")],
)
def test_bad_label_lists_are_refused(names, match):
    with pytest.raises(UserError, match=match):
        ContextLabels(names)


def test_a_labels_file_that_is_not_a_list_is_refused(tmp_path):
    (tmp_path / "labels.json").write_text('{"a": 1}')
    with pytest.raises(UserError, match="JSON array"):
        ContextLabels.load(tmp_path / "labels.json")
