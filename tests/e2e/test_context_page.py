"""The page offers a label menu when the bundle's model has a context head, and generates Python's seeded text for
the chosen label on every page runtime; "none" is the text path; a bundle without labels shows no menu."""

from __future__ import annotations

import threading

import pytest

from helpers import context_textgen, export, random_textgen

pytestmark = [pytest.mark.browser, pytest.mark.slow]

JOB = {"n": 2, "temperature": 0.7, "max_gen_length": 14, "seed": 11}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from textgen_export.web.serve import make_server

    root = tmp_path_factory.mktemp("context_page")
    textgen = context_textgen(seed=1)
    mounts = {
        "/labelled/": export(textgen, root / "labelled"),
        "/plain/": export(random_textgen(seed=3), root / "plain", tfjs=False),
    }
    server = make_server(mounts, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", textgen
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("runtime", ["onnx-wasm", "tfjs-cpu"])
def test_the_label_menu_steers_generation_like_python(site, page, runtime):
    url, textgen = site
    page.open(f"{url}/?model=/labelled/&runtime={runtime}", runtime)
    assert page.page.locator("#context-choice").is_visible()
    options = page.page.locator("#context option").evaluate_all("o => o.map(e => e.value)")
    assert options == ["", "animal", "fruit", "plant"]
    for label in ("plant", "animal"):
        page.page.select_option("#context", label)
        assert page.generate(**JOB) == textgen.generate(**JOB, context=label), (runtime, label)
    page.page.select_option("#context", "")
    assert page.generate(**JOB) == textgen.generate(**JOB)
    assert page.errors == []


def test_a_bundle_without_labels_shows_no_menu(site, page):
    url, _ = site
    page.open(f"{url}/?model=/plain/&runtime=onnx-wasm", "onnx-wasm")
    assert page.page.locator("#context-choice").is_hidden()
    assert len(page.generate(**JOB)) == 2 and page.errors == []
