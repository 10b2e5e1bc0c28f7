"""The ONNX Runtime adapter's threads rule: every core from SMALL_BATCH windows, the faster of one thread / all
cores (timed once at open) below — and whichever it picks, the same probabilities bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from textgen_export.runtime import onnx as onnx_runtime
from textgen_export.runtime.onnx import SMALL_BATCH, OnnxRuntime, open_session


@pytest.fixture(scope="module")
def model_path(tiny_onnx_bundle):
    return tiny_onnx_bundle / "model.onnx"


def test_rule_routes_batches_and_never_changes_results(model_path, monkeypatch):
    adapter = OnnxRuntime(model_path)
    assert adapter.small_batch_threads in ("1", "all")
    pinned = open_session(model_path, 1)
    rng = np.random.default_rng(0)
    max_length = pinned.get_inputs()[0].shape[1]
    for batch in (1, SMALL_BATCH - 1, SMALL_BATCH, 33):
        windows = rng.integers(0, 20, (batch, max_length), dtype=np.int32)
        expected = pinned.run(["probs"], {"windows": windows})[0]
        assert np.array_equal(adapter.probs(windows), expected)

    used = []
    for name in ("_small", "_large"):
        session = getattr(adapter, name)
        monkeypatch.setattr(adapter, name, _Recording(session, name, used))
    adapter.probs(np.zeros((1, max_length), np.int32))
    adapter.probs(np.zeros((SMALL_BATCH, max_length), np.int32))
    assert used == ["_small", "_large"]


def test_rule_follows_the_calibration(model_path, monkeypatch):
    for fastest, threads in ((0, "1"), (1, "all")):
        monkeypatch.setattr(onnx_runtime, "faster_on_one_window", lambda sessions, n, k=fastest: k)
        assert OnnxRuntime(model_path).small_batch_threads == threads
    assert OnnxRuntime(model_path, threads=1).small_batch_threads == "all"  # pinned: one session for all


def test_calibration_picks_the_lower_median(model_path):
    sessions = [open_session(model_path, 1), _Slow(open_session(model_path, 1))]
    max_length = sessions[0].get_inputs()[0].shape[1]
    assert onnx_runtime.faster_on_one_window(sessions, max_length) == 0
    assert onnx_runtime.faster_on_one_window(sessions[::-1], max_length) == 1


class _Recording:
    def __init__(self, session, name, used):
        self.session, self.name, self.used = session, name, used

    def run(self, fetch, feed):
        self.used.append(self.name)
        return self.session.run(fetch, feed)


class _Slow:
    """A session that takes 5 ms longer per call (a stand-in for a slower thread count)."""

    def __init__(self, session):
        self.session = session

    def __getattr__(self, name):  # get_inputs() and the rest: the real session's
        return getattr(self.session, name)

    def run(self, fetch, feed):
        import time

        time.sleep(0.005)
        return self.session.run(fetch, feed)
