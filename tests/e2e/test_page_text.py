"""What the page shows of a text, in real Chromium, on a model whose vocabulary has Arabic letters, an emoji
outside the BMP, a zero width joiner and a variation selector: characters are counted as a reader (and Python's
len) counts them, right-to-left text runs right to left, invisible tokens are named in interactive mode, and a
static site's --title and --description are what the page says.
"""

from __future__ import annotations

import threading

import pytest
from test_browser import TIMEOUT_MS

from helpers import export, run_cli

PREFIX = "بسم"
JOB = {"n": 3, "temperature": 1.0, "max_gen_length": 40, "seed": 3}


def intl_textgen():
    from textgen_export.api.textgen import TextGen
    from textgen_export.contract.config import ModelConfig
    from textgen_export.contract.vocabulary import Vocabulary

    tokens = ["ب", "س", "م", "ل", "😀", "\u200d", "\ufe0f", "<s>"]
    vocab = Vocabulary({t: i + 1 for i, t in enumerate(tokens)})
    config = ModelConfig(rnn_size=8, max_length=6, dim_embeddings=4, rnn_layers=1, name="intl")
    return TextGen.new(config, vocab)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from textgen_export.web.serve import Mount, make_server

    root = tmp_path_factory.mktemp("text")
    bundle = export(intl_textgen(), root / "bundle")
    done = run_cli(
        "site",
        bundle,
        "--out",
        root / "site",
        "--title",
        "Pocket poet",
        "--description",
        "Rhymes, one letter at a time",
    )
    assert done.returncode == 0, done.stderr
    # The page at /page/ with the bundle; the static site at / (served as any static host would).
    server = make_server(
        {"/bundle/": bundle}, port=0, page_at="/page/", extra={"/": Mount(root / "site", index="index.html")}
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"url": f"http://127.0.0.1:{server.server_address[1]}", "bundle": bundle}
    server.shutdown()
    server.server_close()


@pytest.mark.browser
def test_characters_are_code_points_and_right_to_left_text_runs_right_to_left(served, page):
    from textgen_export.runtime import load_bundle

    page.open(f"{served['url']}/page/?model=/bundle/&runtime=onnx-wasm", "onnx-wasm")
    texts = page.generate(prefix=PREFIX, **JOB)
    assert texts == load_bundle(served["bundle"]).generate(prefix=PREFIX, **JOB)
    generated = [t[len(PREFIX) :] for t in texts]
    chars = sum(len(t) for t in generated)  # code points
    assert sum(len(t.encode("utf-16-le")) // 2 for t in generated) > chars, (
        "no emoji: the test would not tell"
    )
    assert page.page.text_content("#status").startswith(f"Done: {chars} characters")
    assert page.page.get_attribute("body", "data-last-chars") == str(chars)
    outputs = page.page.locator("#outputs pre")
    assert outputs.evaluate_all("pres => pres.map(p => p.matches(':dir(rtl)'))") == [True] * JOB["n"]
    assert page.page.locator("#prefix").evaluate("e => e.matches(':dir(rtl)')")
    assert page.errors == []


@pytest.mark.browser
def test_interactive_mode_names_invisible_tokens(served, page):
    page.open(f"{served['url']}/page/?model=/bundle/&runtime=onnx-wasm", "onnx-wasm")
    page.page.fill("#top-n", "10")  # the whole vocabulary: every token is a choice
    page.page.fill("#prefix", PREFIX)
    page.page.click("#interactive-start")
    page.page.locator("#options button").first.wait_for(timeout=TIMEOUT_MS)
    shown = page.page.locator("#options button").all_text_contents()
    assert all(label.strip() for label in shown), shown  # no blank choice
    assert {"⟨ZWJ⟩", "⟨VS16⟩", "😀", "ب"} <= set(shown)
    words = page.page.locator("#next-token li .candidate-token").evaluate_all("e => e.map(x => x.title)")
    assert "⟨ZWJ⟩ (zero width joiner)" in words
    assert page.page.text_content("#interactive-text") == PREFIX
    assert page.page.locator("#interactive-text").evaluate("e => e.matches(':dir(rtl)')")
    page.page.locator("#options button", has_text="⟨ZWJ⟩").click()
    page.page.locator("#interactive-text", has_text="\u200d").wait_for(timeout=TIMEOUT_MS)
    assert page.page.text_content("#interactive-text") == PREFIX + "\u200d"  # the real token, not its name
    assert page.errors == []


@pytest.mark.browser
def test_a_sites_title_and_description_are_what_the_page_says(served, page):
    page.open(f"{served['url']}/?runtime=onnx-wasm", "onnx-wasm")  # the site's own bundle
    assert page.page.title().startswith("Pocket poet · ")
    assert page.page.text_content("h1") == "Pocket poet"
    assert page.page.text_content("#model-name") == "Pocket poet"
    assert page.page.text_content("#model-description") == "Rhymes, one letter at a time"
    assert page.page.locator("body").inner_text().count("Rhymes, one letter at a time") == 1
    assert page.errors == []
