// `npm test` in web_demo: the page's next-token candidates (twin of top_candidates in
// textgen_export/sampling/trace.py) and its attention colour scale, on hand-made rows (no model, no DOM).

import assert from "node:assert/strict";
import { test } from "node:test";
import { topCandidates } from "../src/page/candidates_view.js";
import { colourAt, scaled } from "../src/page/colour.js";
import { tempered } from "../src/sampling/sampler.js";
import { Vocabulary } from "../src/contract/vocabulary.js";

const vocab = new Vocabulary({ a: 1, b: 2, c: 3, d: 4, "<s>": 5 }, false);

test("candidates: most likely first, ties by lower index, padding left out, tempered numbers", () => {
  const row = Float32Array.of(0.5, 0.1, 0.2, 0.1, 0.05, 0.05);
  const got = topCandidates(row, 0.5, 3, vocab);
  const dist = tempered(row, 0.5);
  assert.deepEqual(got.map((c) => c.token), ["b", "a", "c"]);
  assert.deepEqual(got.map((c) => c.p), [dist[2], dist[1], dist[3]]);
});

test("candidates at temperature 0 are the model's own probabilities", () => {
  const row = Float32Array.of(0, 0.25, 0.75, 0, 0, 0);
  const got = topCandidates(row, 0, 2, vocab);
  assert.deepEqual(got, [{ token: "b", p: 0.75 }, { token: "a", p: 0.25 }]);
});

test("k larger than the vocabulary gives every token once", () => {
  const got = topCandidates(Float32Array.of(0.1, 0.2, 0.2, 0.2, 0.2, 0.1), 1, 10, vocab);
  assert.deepEqual(got.map((c) => c.token), ["a", "b", "c", "d", "<s>"]);
});

test("colour scale: log maps 1e-4..1 onto 0..1, linear clamps, ends are light and dark", () => {
  assert.equal(scaled(1, true), 1);
  assert.equal(scaled(1e-4, true), 0);
  assert.equal(scaled(1e-9, true), 0);
  assert.ok(Math.abs(scaled(1e-2, true) - 0.5) < 1e-12);
  assert.equal(scaled(1.5, false), 1);
  assert.equal(colourAt(0).dark, false);
  assert.equal(colourAt(1).dark, true);
});
