import math

import numpy as np
import pytest

from textgen_export.errors import UserError
from textgen_export.sampling.rng import SplitMix64
from textgen_export.sampling.sampler import check_temperatures, pick, tempered, top_options


def test_splitmix64_matches_published_reference_values():
    # First outputs for seed 0 of the reference splitmix64 (Vigna's C implementation).
    rng = SplitMix64(0)
    assert [rng.next_u64() for _ in range(3)] == [
        0xE220A8397B1DCDAF,
        0x6E789E6AA1B965F4,
        0x06C45D188009454F,
    ]


def test_uniform_is_53_bit_in_unit_interval():
    rng = SplitMix64(123)
    values = [rng.uniform() for _ in range(1000)]
    assert all(0.0 <= v < 1.0 for v in values)
    assert abs(np.mean(values) - 0.5) < 0.05


def test_greedy_is_argmax_with_first_index_on_ties():
    probs = np.array([[0.1, 0.4, 0.4, 0.1]], dtype=np.float32)
    assert pick(probs, 0.0, [SplitMix64(1)]).tolist() == [1]


def test_tempered_distribution_is_normalised_and_sharpens():
    probs = np.array([[0.0, 0.2, 0.8]])
    cold = tempered(probs, 0.2)
    assert math.isclose(cold.sum(), 1.0, rel_tol=1e-12)
    assert cold[0, 2] > 0.99
    hot = tempered(probs, 100.0)
    assert hot[0, 1] > 0.3


def test_draw_follows_the_running_sum_contract():
    probs = np.array([[0.0, 0.25, 0.25, 0.5]])
    rng = SplitMix64(42)
    u = SplitMix64(42).uniform()
    dist = tempered(probs, 1.0)[0]
    expected = int(np.argmax(np.cumsum(dist) > u))
    assert pick(probs, 1.0, [rng]).tolist() == [expected]


def test_index_zero_draw_becomes_second_most_likely():
    # All mass on padding: the draw is 0, so the sampler takes the second most likely index.
    probs = np.array([[0.9, 0.02, 0.08]])
    picks = {int(pick(probs, 1.0, [SplitMix64(s)])[0]) for s in range(200)}
    assert 0 not in picks
    assert 2 in picks  # whenever 0 was drawn


def test_seeded_rows_are_reproducible_and_independent():
    probs = np.full((3, 50), 1 / 50)
    rngs = [SplitMix64(7 + i) for i in range(3)]
    draws = np.array([pick(probs, 1.0, rngs) for _ in range(20)])  # 20 steps x 3 rows
    again = [SplitMix64(7 + i) for i in range(3)]
    assert draws.tolist() == [pick(probs, 1.0, again).tolist() for _ in range(20)]  # reproducible
    for i in range(3):  # row i depends on its own stream only: alone, it draws the same
        alone = SplitMix64(7 + i)
        assert draws[:, i].tolist() == [int(pick(probs[:1], 1.0, [alone])[0]) for _ in range(20)]
    assert len({tuple(draws[:, i]) for i in range(3)}) == 3  # and the rows' streams differ


def test_top_options_excludes_padding_and_orders_by_probability():
    assert top_options(np.array([0.5, 0.1, 0.3, 0.1]), 3) == [2, 1, 3]


@pytest.mark.parametrize("bad", [float("nan"), -0.1, 1e9, [], "hot", [0.5, float("inf")]])
def test_bad_temperatures_are_user_errors(bad):
    with pytest.raises(UserError, match="temperature"):
        check_temperatures(bad)


def test_temperature_list_is_kept():
    assert check_temperatures([1.0, 0.5]) == [1.0, 0.5]
    assert check_temperatures(0) == [0.0]


def test_reused_buffers_never_leak_between_batches_of_other_shapes():
    rng = np.random.default_rng(3)
    vocab = 4218  # a word-level model's
    big = rng.dirichlet(np.full(vocab, 0.05), size=64).astype(np.float32)
    small = rng.dirichlet(np.full(vocab, 0.05), size=3).astype(np.float32)
    big[::5, 0] = 0.95  # padding most likely in some rows: the second-best rule reads the buffers too
    together = [SplitMix64(100 + b) for b in range(64)]
    alone = [SplitMix64(100 + b) for b in range(64)]
    for temperature in (0.2, 1.0):
        for probs in (big, small, big):  # shapes alternate: buffers are re-made, then reused
            picked = pick(probs, temperature, together[: len(probs)])
            one_by_one = [pick(probs[b : b + 1], temperature, [alone[b]])[0] for b in range(len(probs))]
            assert picked.tolist() == one_by_one
            assert 0 not in picked.tolist()


class FixedDraw:
    """A stream whose next uniform is given (to reach the rounding corner where no running sum exceeds u)."""

    def __init__(self, u: float):
        self.u = u

    def uniform(self) -> float:
        return self.u


def pick_one_as_written(row, temperature: float, u: float) -> tuple[list[float], int, bool]:
    """The contract step by step in Python floats, in the JS sampler's order of operations (sampler.js pickOne):
    the tempered distribution, the index drawn with `u`, and whether no running sum exceeded u."""
    q = [math.log(float(p) + 1e-7) / temperature for p in row]
    top = max(q)
    e = [math.exp(v - top) for v in q]
    total = 0.0
    for v in e:
        total += v
    dist = [v / total for v in e]
    running, chosen, last_nonzero = 0.0, -1, 0
    for i, d in enumerate(dist):
        running += d
        if d != 0:
            last_nonzero = i
        if chosen < 0 and running > u:
            chosen = i
    none_above = chosen < 0
    chosen = last_nonzero if none_above else chosen
    if chosen == 0:
        chosen = sorted(range(len(row)), key=lambda i: (-float(row[i]), i))[1]
    return dist, chosen, none_above


def test_pick_equals_the_contract_written_out_for_one_row_and_for_batches():
    rng = np.random.default_rng(11)
    corners = 0
    for case in range(300):
        rows, width = int(rng.choice([1, 1, 5])), int(rng.choice([6, 40, 300]))
        probs = rng.dirichlet(np.full(width, rng.choice([0.02, 0.3, 3.0])), size=rows).astype(np.float32)
        if case % 4 == 0:
            probs[:, 0] = probs.max() * 3  # padding the most likely: the second-best rule
        temperature = float(rng.choice([0.05, 0.5, 1.0, 4.0]))
        draws = [float(rng.random()) for _ in range(rows)]
        if case % 3 == 0:  # u just below 1: rounding may leave no running sum above it
            draws = [1 - 2.0**-53 * int(rng.integers(1, 64)) for _ in range(rows)]
        if case % 6 == 0:  # equal weights, then zeros that underflow: "the last non-zero index", not the last
            n = int(rng.integers(3, width))
            probs[:] = 0
            probs[:, 1:n], temperature = 0.5, 0.002
        if case % 10 == 5:  # u exactly on a running sum (weights of 1/4): the next index, strictly above
            probs[:] = 0
            probs[:, 1:5] = 0.25
            draws = [0.5] * rows
        picked = pick(probs, temperature, [FixedDraw(u) for u in draws]).tolist()
        written = [pick_one_as_written(probs[b], temperature, draws[b]) for b in range(rows)]
        assert picked == [chosen for _, chosen, _ in written], case
        # libm's log and exp may differ from numpy's by an ulp, so the distributions agree to float64 rounding
        np.testing.assert_allclose(tempered(probs, temperature), [dist for dist, _, _ in written], rtol=1e-12)
        corners += sum(none_above for _, _, none_above in written)
    assert corners > 5  # the rounding corner was reached


def test_generation_from_a_model_that_outputs_nan_is_one_user_error():
    from textgen_export.contract.config import ModelConfig
    from textgen_export.contract.vocabulary import Vocabulary
    from textgen_export.sampling.generator import Generator

    class Diverged:
        def probs(self, windows):
            return np.full((len(windows), 4), np.nan, dtype=np.float32)

    vocab = Vocabulary({"a": 1, "b": 2, "<s>": 3}, word_level=False)
    generator = Generator(Diverged(), vocab, ModelConfig(max_length=5))
    for temperature in (0.0, 0.5):
        with pytest.raises(UserError, match="retrain it or use another model"):
            generator.generate(n=2, temperature=temperature, seed=1)
