// `npm test` in web_demo: the self-check's rule (runtime/self_check.js, twin of compare() in
// textgen_export/export/validate.py) on hand-made probes.  Real runtimes and real bundles are checked from pytest
// (tests/e2e/test_self_check.py).

import assert from "node:assert/strict";
import { test } from "node:test";
import { compare, describeCheck, greedyCheck } from "../src/runtime/self_check.js";

const L = 2;
const V = 3;
const TOL = 1e-6;

/** One probe window (reference probs / attention) and a greedy path of two steps. */
function probe() {
  return {
    rows: 1,
    windows: Int32Array.of(1, 2),
    probs: Float64Array.of(0.1, 0.5, 0.4),
    attention: Float64Array.of(0.25, 0.75),
    tolerance: TOL,
    rule: "float32 floor 2^-20",
    greedy: {
      count: 2,
      best: Int32Array.of(1, 2),
      runnerUp: Int32Array.of(2, 1),
      margin: Float64Array.of(0.1, 1e-6),
    },
  };
}

const outputs = (dp = 0, da = 0) => ({ probs: Float32Array.of(0.1, 0.5 + dp, 0.4), attention: Float32Array.of(0.25, 0.75 + da) });
const greedyRows = (second) => Float32Array.of(0.1, 0.5, 0.4, ...second);

test("within tolerance on probabilities, attention and the greedy path: passes", () => {
  const r = compare(probe(), outputs(5e-7, -5e-7), greedyRows([0.1, 0.3, 0.6]), V, L);
  assert.equal(r.passed, true);
  assert.ok(r.maxAbsDiff <= TOL && r.greedy.identical);
  assert.match(describeCheck("TF.js · WebGL", r), /^✓ TF\.js · WebGL: max diff \d\.\de-\d vs float64, tolerance 1\.0e-6$/);
});

test("a difference over the tolerance fails and names the window and output", () => {
  const r = compare(probe(), outputs(0, 3e-3), greedyRows([0.1, 0.3, 0.6]), V, L);
  assert.equal(r.passed, false);
  assert.equal(r.maxAbsDiffAttention.toExponential(1), "3.0e-3");
  assert.match(describeCheck("TF.js · WebGL", r), /^✗ TF\.js · WebGL differs by 3\.0e-3 from float64 \(tolerance 1\.0e-6/);
});

test("NaN is the worst difference", () => {
  const r = compare(probe(), outputs(NaN), greedyRows([0.1, 0.3, 0.6]), V, L);
  assert.equal(r.passed, false);
  assert.equal(r.maxAbsDiff, Infinity);
});

test("the runner-up picked within 2 x tolerance of a tie is faithful; elsewhere it is not", () => {
  const p = probe();
  const tie = greedyCheck(p.greedy, greedyRows([0.1, 0.6, 0.3]), V, TOL); // step 1: margin 1e-6 <= 2e-6
  assert.deepEqual([tie.identical, tie.ties, tie.firstDifference], [false, 1, undefined]);
  const wrong = greedyCheck(p.greedy, Float32Array.of(0.1, 0.3, 0.6, 0.1, 0.3, 0.6), V, TOL); // step 0: margin 0.1
  assert.deepEqual(wrong.firstDifference, { step: 0, picked: 2, expected: 1, margin: 0.1 });
  const r = compare(p, outputs(), Float32Array.of(0.1, 0.3, 0.6, 0.1, 0.3, 0.6), V, L);
  assert.equal(r.passed, false);
  assert.match(describeCheck("x", r), /writes different greedy text: step 0 picks 2 where float64 picks 1/);
});
