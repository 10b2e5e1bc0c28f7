// `npm test` in web_demo: the training data order (src/training/shuffle.js) on the test vector that Python's
// tests/unit/test_shuffle.py checks too (docs/design.md).

import assert from "node:assert/strict";
import { test } from "node:test";
import { SplitMix64 } from "../src/sampling/rng.js";
import { below, permutation, shuffle } from "../src/training/shuffle.js";

const BELOW_10_SEED_42 = [3, 1, 8, 4, 0, 2, 5, 8];
const PERMUTATION_10_SEED_42 = [0, 9, 5, 8, 6, 4, 7, 2, 1, 3];
const SECOND_SHUFFLE_SEED_42 = [0, 3, 8, 5, 4, 2, 9, 7, 1, 6];
const BELOW_HUGE_SEED_42 = [4456085495900499604n, 6792609088808213253n, 5545679290133000099n, 2185608355395893165n];

test("the shared test vector", () => {
  const rng = new SplitMix64(42);
  assert.deepEqual(Array.from({ length: 8 }, () => below(rng, 10)), BELOW_10_SEED_42);
  assert.deepEqual(permutation(10, 42), PERMUTATION_10_SEED_42);
  const stream = new SplitMix64(42);
  const items = Int32Array.from({ length: 10 }, (_, i) => i);
  shuffle(items, stream);
  shuffle(items, stream); // the stream goes on: the second shuffle permutes the first's order
  assert.deepEqual(Array.from(items), SECOND_SHUFFLE_SEED_42);
});

test("rejected draws are redrawn (n = 2^63 + 1 rejects almost half)", () => {
  const rng = new SplitMix64(42);
  const n = (1n << 63n) + 1n;
  // below() returns a Number; compare against the exact indices through a BigInt twin of the rule
  const exact = [];
  const twin = new SplitMix64(42);
  const reject = ((1n << 64n) - n) % n;
  while (exact.length < 4) {
    const x = twin.nextU64();
    if (x >= reject) exact.push(x % n);
  }
  assert.deepEqual(exact, BELOW_HUGE_SEED_42);
  for (let k = 0; k < 4; k++) below(rng, n);
  assert.equal(rng.state, (42n + 10n * 0x9e3779b97f4a7c15n) % (1n << 64n));
});

test("a shuffle is a permutation", () => {
  const items = shuffle(Array.from({ length: 1000 }, (_, i) => i), new SplitMix64(3));
  assert.deepEqual([...items].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  assert.notDeepEqual(items, Array.from({ length: 1000 }, (_, i) => i));
});
