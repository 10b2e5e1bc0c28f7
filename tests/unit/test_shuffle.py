"""The training data order (training/shuffle.py): the test vector of docs/design.md, which the JS twin's test
(web_demo/test/shuffle.test.mjs) checks too, and the vectorised draws equal to one draw at a time."""

import numpy as np
import pytest

from textgen_export.sampling.rng import SplitMix64
from textgen_export.training.shuffle import below, draws, permutation, shuffle

# Shared with web_demo/test/shuffle.test.mjs and docs/design.md.
BELOW_10_SEED_42 = [3, 1, 8, 4, 0, 2, 5, 8]
PERMUTATION_10_SEED_42 = [0, 9, 5, 8, 6, 4, 7, 2, 1, 3]
SECOND_SHUFFLE_SEED_42 = [0, 3, 8, 5, 4, 2, 9, 7, 1, 6]
# n = 2**63 + 1 rejects almost half the draws: 4 indices take 10 draws from seed 42.
BELOW_HUGE_SEED_42 = [4456085495900499604, 6792609088808213253, 5545679290133000099, 2185608355395893165]


def test_the_shared_test_vector():
    rng = SplitMix64(42)
    assert [below(rng, 10) for _ in range(8)] == BELOW_10_SEED_42
    assert permutation(10, 42) == PERMUTATION_10_SEED_42
    rng, items = SplitMix64(42), np.arange(10)
    shuffle(items, rng)
    shuffle(items, rng)  # the stream goes on: the second shuffle permutes the first's order
    assert items.tolist() == SECOND_SHUFFLE_SEED_42
    rng = SplitMix64(42)
    assert [below(rng, 2**63 + 1) for _ in range(4)] == BELOW_HUGE_SEED_42
    assert rng.state == (42 + 10 * 0x9E3779B97F4A7C15) % 2**64


@pytest.mark.parametrize("n", [0, 1, 2, 3, 17, 5000])
def test_vectorised_draws_equal_one_draw_at_a_time(n):
    fast, slow = SplitMix64(7), SplitMix64(7)
    partner = draws(fast, n)
    assert [int(partner[i]) for i in range(n - 1, 0, -1)] == [below(slow, i + 1) for i in range(n - 1, 0, -1)]
    assert fast.state == slow.state


@pytest.mark.parametrize("dtype", [np.uint32, np.int64])
def test_shuffle_is_a_permutation_in_place(dtype):
    items = np.arange(1000, dtype=dtype)
    shuffle(items, SplitMix64(3))
    assert sorted(items.tolist()) == list(range(1000)) and items.tolist() != list(range(1000))
    with pytest.raises(ValueError, match="contiguous"):
        shuffle(np.arange(10)[::2], SplitMix64(3))
