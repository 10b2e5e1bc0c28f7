// The seeded data order of training: splitmix64 draws driving a Fisher–Yates shuffle, the same as Python's
// (twin of textgen_export/training/shuffle.py; the rule and its test vector are in docs/design.md).
//   index in [0, n): r = (2^64 - n) mod n; draw x = nextU64() until x >= r; the index is x mod n.
//   shuffle of n items: for i = n-1 down to 1, swap items i and index(i + 1), in place; one stream goes on
//   from shuffle to shuffle.

import { SplitMix64 } from "../sampling/rng.js";

const TWO_64 = 1n << 64n;

/** One index in [0, n) drawn from `rng` (a SplitMix64), n a positive integer (Number or BigInt). */
export function below(rng, n) {
  const big = BigInt(n);
  const reject = (TWO_64 - big) % big;
  for (;;) {
    const x = rng.nextU64();
    if (x >= reject) return Number(x % big);
  }
}

/** Fisher–Yates shuffle of `items` (an Array or typed array) in place, drawing from `rng`. */
export function shuffle(items, rng) {
  for (let i = items.length - 1; i >= 1; i--) {
    const j = below(rng, i + 1);
    const kept = items[i];
    items[i] = items[j];
    items[j] = kept;
  }
  return items;
}

/** 0..n-1 shuffled with a fresh stream from `seed` (the test vector of docs/design.md). */
export function permutation(n, seed) {
  return shuffle(Array.from({ length: n }, (_, i) => i), new SplitMix64(seed));
}
