// `npm test` in web_demo: the JS sampler's contract on hand-made distributions (no model, no npm packages).
// Cross-language equality with Python is tested from pytest (tests/e2e/test_node_parity.py).

import assert from "node:assert/strict";
import { test } from "node:test";
import { SplitMix64 } from "../src/sampling/rng.js";
import { checkTemperatures, pickOne, tempered, topOptions } from "../src/sampling/sampler.js";
import { Vocabulary } from "../src/contract/vocabulary.js";

test("temperature 0 is argmax, first index on ties", () => {
  assert.equal(pickOne(Float32Array.of(0.1, 0.4, 0.4, 0.1), 0, null), 1);
});

test("a draw of padding (index 0) becomes the second most likely index", () => {
  // All mass on index 0 after tempering: every draw lands on 0, so the rule must apply.
  const row = Float32Array.of(1, 0, 0, 0);
  assert.equal(pickOne(row, 0.01, new SplitMix64(1)), 1);
});

test("tempered rows are normalised and sharpen with low temperature", () => {
  const row = Float32Array.of(0.1, 0.2, 0.7);
  const cold = tempered(row, 0.1);
  assert.ok(Math.abs(cold.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  assert.ok(cold[2] > 0.99);
});

test("draws follow the distribution", () => {
  const rng = new SplitMix64(7);
  const counts = [0, 0, 0];
  for (let i = 0; i < 20000; i++) counts[pickOne(Float32Array.of(0, 0.25, 0.75), 1, rng)]++;
  assert.equal(counts[0], 0);
  assert.ok(Math.abs(counts[2] / 20000 - 0.75) < 0.02, String(counts));
});

test("top options exclude padding, most likely first", () => {
  assert.deepEqual(topOptions(Float32Array.of(0.5, 0.1, 0.3, 0.1), 2), [2, 1]);
});

test("temperatures are validated", () => {
  assert.deepEqual(checkTemperatures([0.2, "0.5"]), [0.2, 0.5]);
  assert.throws(() => checkTemperatures([]), /empty/);
  assert.throws(() => checkTemperatures(-1), /between 0/);
  assert.throws(() => checkTemperatures(NaN), /between 0/);
});

test("windows keep the last max_length tokens, left-padded with 0, unknown tokens as 0", () => {
  const vocab = new Vocabulary({ a: 1, b: 2, "<s>": 3 }, false);
  assert.deepEqual(Array.from(vocab.windows([["<s>", "a"], ["a", "b", "?", "a"]], 3)), [0, 3, 1, 2, 0, 1]);
});
