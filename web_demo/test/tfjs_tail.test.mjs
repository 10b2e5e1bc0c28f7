// `npm test` in web_demo: the TF.js padding fast path (runtime/tfjs_tail.js) on a small network of
// docs/design.md §3 built in real @tensorflow/tfjs, against the whole model on the same windows.  Real bundles
// are checked against the float64 reference from pytest (tests/integration/test_fast_path.py).
//
// Tolerance: a small random network in float32 is within 2^-20 (the bundle rule's floor) of float64 on both
// paths, so the two paths are within twice that of each other; stale tables are off by orders of magnitude more.

import assert from "node:assert/strict";
import { test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { registerAttentionLayer } from "../src/runtime/attention_layer.js";
import { TfjsRuntime, setBackend } from "../src/runtime/tfjs.js";
import { tfjsTail } from "../src/runtime/tfjs_tail.js";

const L = 9;
const V = 11;
const BOUND = 2 * 2 ** -20;
const CONFIG = { max_length: L, rnn_layers: 2, rnn_bidirectional: false };

function network(recurrentActivation = "sigmoid") {
  registerAttentionLayer(tf);
  const Attention = tf.serialization.SerializationMap.getMap().classNameMap.AttentionWeightedAverage[0];
  const windows = tf.input({ shape: [L], dtype: "int32", name: "windows" });
  const embedded = tf.layers.embedding({ inputDim: V, outputDim: 4, inputLength: L, name: "embedding" }).apply(windows);
  const rnn1 = tf.layers.lstm({ units: 6, returnSequences: true, recurrentActivation, name: "rnn_1" }).apply(embedded);
  const rnn2 = tf.layers.lstm({ units: 6, returnSequences: true, recurrentActivation, name: "rnn_2" }).apply(rnn1);
  const concat = tf.layers.concatenate({ name: "rnn_concat" }).apply([embedded, rnn1, rnn2]);
  const [pooled, attention] = new Attention({ name: "attention", returnAttention: true }).apply(concat);
  const probs = tf.layers.dense({ units: V, activation: "softmax", name: "output" }).apply(pooled);
  const model = tf.model({ inputs: windows, outputs: [probs, attention] });
  // Larger weights than the initialisers give, so the padding prefix matters to the outputs.
  model.setWeights(model.getWeights().map((w, i) => tf.mul(w, i === 0 ? 3 : 2)));
  return model;
}

/** Three rows whose first L − k positions are padding, then tokens; the last row also starts its tail with a 0
 * token (k > 1), which the tail keeps and reads as the whole window reads it. */
function padded(k, rows = 3) {
  const w = new Int32Array(rows * L);
  for (let b = 0; b < rows; b++) for (let t = L - k; t < L; t++) w[b * L + t] = 1 + ((b * 5 + t * 3 + k) % (V - 1));
  if (k > 1) w[(rows - 1) * L + L - k] = 0;
  return w;
}

function maxDiff(a, b) {
  assert.equal(a.length, b.length);
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
}

async function bothPaths(model, tail) {
  const fast = new TfjsRuntime(tf, model, L, tail);
  const full = new TfjsRuntime(tf, model, L);
  let worst = 0;
  for (let k = 1; k < L; k++) {
    const w = padded(k);
    const [a, b] = [await fast.outputs(w, 3), await full.outputs(w, 3)];
    worst = Math.max(worst, maxDiff(a.probs, b.probs), maxDiff(a.attention, b.attention));
  }
  return worst;
}

await setBackend(tf, "cpu");

test("the fast path gives the whole window's outputs at every padding count", async () => {
  const model = network();
  const tail = tfjsTail(tf, model, CONFIG);
  assert.ok(tail);
  assert.equal(tail.padding(padded(4), 3), L - 4);
  assert.equal(tail.padding(new Int32Array(3 * L), 3), 0); // nothing but padding: the whole model answers
  assert.ok((await bothPaths(model, tail)) <= BOUND);
});

test("weights changed in place (training, setWeights) make the tables again, never stale", async () => {
  const model = network();
  const tail = tfjsTail(tf, model, CONFIG);
  await bothPaths(model, tail); // tables made from the weights as they are now
  const rnn = model.getLayer("rnn_1");
  const [kernel, recurrent, bias] = rnn.getWeights();
  rnn.setWeights([kernel, tf.mul(recurrent, 1.5), tf.add(bias, 0.3)]);
  assert.ok((await bothPaths(model, tail)) <= BOUND);
});

test("bidirectional models and other networks have no fast path", () => {
  assert.equal(tfjsTail(tf, network("hardSigmoid"), CONFIG), null); // not the gates the tables are made with
  const model = network();
  assert.equal(tfjsTail(tf, model, { ...CONFIG, rnn_bidirectional: true }), null);
  assert.equal(tfjsTail(tf, model, { ...CONFIG, rnn_layers: 3 }), null); // no layer rnn_3
});
