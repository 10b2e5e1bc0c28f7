"""`textgen-export demo` (what `make demo` runs), end to end on a small corpus: every step runs for real."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.node]


def test_demo_runs_every_step_and_every_runtime_agrees(demo):
    out, done = demo
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    for step in range(1, 8):
        assert f"== [{step}/7]" in done.stdout
    assert "identical in every runtime: yes" in done.stdout
    # Step 6 shows the command, with every option, that makes the text it shows.
    bundle = out / "bundle"
    command = (
        f"$ textgen-export generate --bundle {bundle} --prefix 'Return the ' --temperature 0.5 --max-length 120 "
        "--seed 7"
    )
    assert command in done.stdout, done.stdout
    assert "(skipped" not in done.stdout, "a runtime was skipped"
    assert "Page ready: http://127.0.0.1:8000/" in done.stdout
    for name in ("model.onnx", "tfjs/model.json", "manifest.json"):
        assert (out / "bundle" / name).is_file()
