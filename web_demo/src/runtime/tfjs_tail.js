// The padding fast path for the TF.js adapter: twin of textgen_export/runtime/keras_fast.py, with the semantics of
// model_tail.onnx (textgen_export/export/tail.py).  A call whose rows share p leading zeros runs the model's own
// layers over the last k = L − p positions only: each LSTM starts from the state it has after p padding steps,
// and attention combines the tail with the padding prefix's summary (log-sum-exp: common max, the prefix's sums
// rescaled, the 1e-7 kept), so the outputs equal the whole window's up to float rounding.
//
// The padding tables are twin of textgen_export/keras/padding.py: computed once, in float64 (JavaScript numbers),
// from the weights TF.js runs (a quantized bundle's decoded ones), stored as float32 tensors.  Weights changed in
// place (model.fit, setWeights) give their variables new data, which the next call sees: the tables are made
// again, never stale.  Bidirectional models (the backward pass reads the padding last) have no fast path.

import { sharedPadding } from "./padding.js";

const EPSILON = 1e-7;
const sigmoid = (x) => 1 / (1 + Math.exp(-x));

/** z += v · M for a row vector v [D] and a matrix M [D, G] (row-major). */
function accumulate(z, v, m) {
  const width = z.length;
  for (let d = 0; d < v.length; d++) {
    const a = v[d];
    const row = d * width;
    for (let g = 0; g < width; g++) z[g] += a * m[row + g];
  }
}

/** Float64 copies of a layer's weights (Float32Array of TF.js → Float64Array), in the layer's order. */
function weightsOf(layer) {
  return layer.getWeights().map((t) => ({ shape: t.shape, data: Float64Array.from(t.dataSync()) }));
}

/** The padding tables of the model's weights as TF.js holds them (see keras/padding.py for the rule). */
export function paddingTables(layers, length) {
  const [embedding] = weightsOf(layers.embedding);
  const width = embedding.shape[1];
  let x = Array.from({ length }, () => embedding.data.subarray(0, width)); // index 0 at every position
  const features = [x];
  const states = [];
  for (const rnn of layers.rnns) {
    const [kernel, recurrent, bias] = weightsOf(rnn);
    const units = recurrent.shape[0];
    const gates = 4 * units;
    const h = new Float64Array((length + 1) * units);
    const c = new Float64Array((length + 1) * units);
    const z = new Float64Array(gates);
    const outputs = [];
    for (let t = 0; t < length; t++) {
      z.set(bias.data);
      accumulate(z, x[t], kernel.data);
      const prev = t * units;
      accumulate(z, h.subarray(prev, prev + units), recurrent.data);
      const next = (t + 1) * units;
      for (let u = 0; u < units; u++) {
        const i = sigmoid(z[u]);
        const f = sigmoid(z[units + u]);
        const g = Math.tanh(z[2 * units + u]);
        const o = sigmoid(z[3 * units + u]);
        c[next + u] = f * c[prev + u] + i * g;
        h[next + u] = o * Math.tanh(c[next + u]);
      }
      outputs.push(h.subarray(next, next + units));
    }
    states.push({ h, c, units });
    x = outputs;
    features.push(x);
  }
  const [W] = weightsOf(layers.attention);
  const channels = W.shape[0];
  const concat = Array.from({ length }, (_, t) => {
    const row = new Float64Array(channels);
    let at = 0;
    for (const f of features) {
      row.set(f[t], at);
      at += f[t].length;
    }
    return row;
  });
  const logits = concat.map((row) => row.reduce((s, v, j) => s + v * W.data[j], 0));
  const prefixMax = new Float64Array(length + 1).fill(-Infinity);
  const prefixSum = new Float64Array(length + 1);
  const prefixWeighted = new Float64Array((length + 1) * channels);
  for (let p = 1; p <= length; p++) {
    const m = Math.max(...logits.slice(0, p));
    prefixMax[p] = m;
    for (let t = 0; t < p; t++) {
      const e = Math.exp(logits[t] - m);
      prefixSum[p] += e;
      for (let j = 0; j < channels; j++) prefixWeighted[p * channels + j] += e * concat[t][j];
    }
  }
  return { states, logits: Float64Array.from(logits), prefixMax, prefixSum, prefixWeighted, channels };
}

// The backends that run it.  On the GPU backends (webgl, webgpu) every tail length is a new shape with its own
// compiled shader programs: on Chromium's software WebGL the page's self-check alone, which meets every padding
// count, took over two minutes instead of seconds, so they keep the whole window (one shape).
const BACKENDS = new Set(["cpu", "wasm"]);

/** The fast path of a loaded tf.LayersModel, or null where it has none (bidirectional, other layers, a GPU
 * backend). */
export function tfjsTail(tf, model, config) {
  if (config.rnn_bidirectional || !BACKENDS.has(tf.getBackend())) return null;
  let layers;
  try {
    layers = {
      embedding: model.getLayer("embedding"),
      rnns: Array.from({ length: config.rnn_layers }, (_, n) => model.getLayer(`rnn_${n + 1}`)),
      attention: model.getLayer("attention"),
      output: model.getLayer("output"),
    };
  } catch {
    return null; // not the network of docs/design.md §3
  }
  const sigmoidLstm = (l) => l.getClassName() === "LSTM" && l.cell?.recurrentActivation?.getClassName?.() === "sigmoid";
  if (!layers.rnns.every(sigmoidLstm)) return null;
  return new TfjsTail(tf, layers, config.max_length);
}

class TfjsTail {
  constructor(tf, layers, length) {
    this.tf = tf;
    this.layers = layers;
    this.length = length;
    this.watched = [layers.embedding, ...layers.rnns, layers.attention].flatMap((l) => l.weights);
    this.seen = null; // the watched variables' data the tables were made from
    this.tables = null;
  }

  /** The tables as float32 tensors, made again when a watched weight got new data since they were made. */
  current() {
    const data = this.watched.map((v) => v.read().dataId);
    if (this.seen && data.every((d, i) => d === this.seen[i])) return this.tables;
    this.dispose();
    const tf = this.tf;
    const t = paddingTables(this.layers, this.length);
    const L = this.length;
    this.tables = {
      h: t.states.map((s) => tf.keep(tf.tensor2d(Float32Array.from(s.h), [L + 1, s.units]))),
      c: t.states.map((s) => tf.keep(tf.tensor2d(Float32Array.from(s.c), [L + 1, s.units]))),
      logits: tf.keep(tf.tensor2d(Float32Array.from(t.logits), [1, L])),
      prefixMax: Float32Array.from(t.prefixMax),
      prefixSum: Float32Array.from(t.prefixSum),
      prefixWeighted: tf.keep(tf.tensor2d(Float32Array.from(t.prefixWeighted), [L + 1, t.channels])),
    };
    this.seen = data;
    return this.tables;
  }

  /** The padding every row of windows (Int32Array [B*L]) shares when this path serves them (0 < p < L), else 0. */
  padding(windows, batch) {
    const p = sharedPadding(windows, batch, this.length);
    return p > 0 && p < this.length ? p : 0;
  }

  /** [probs [B, V], attention [B, L]] tensors of windows whose rows share `p` leading zeros (0 < p < L). */
  outputs(windows, batch, p) {
    const tf = this.tf;
    const L = this.length;
    const k = L - p;
    const tables = this.current();
    return tf.tidy(() => {
      const tail = tf.slice(tf.tensor2d(windows, [batch, L], "int32"), [0, p], [batch, k]);
      let x = tf.gather(this.layers.embedding.weights[0].read(), tail); // the layer itself insists on L inputs
      const features = [x];
      this.layers.rnns.forEach((rnn, n) => {
        const start = (table) => tf.tile(tf.slice(table, [p, 0], [1, -1]), [batch, 1]);
        x = rnn.apply(x, { initialState: [start(tables.h[n]), start(tables.c[n])] });
        features.push(x);
      });
      const concat = tf.concat(features, -1); // [B, k, C]
      const channels = concat.shape[2];
      const logits = tf.reshape(tf.matMul(tf.reshape(concat, [-1, channels]), this.layers.attention.W.read()), [batch, k]);
      const mP = tf.scalar(tables.prefixMax[p]);
      const top = tf.maximum(tf.max(logits, 1, true), mP); // [B, 1]
      const e = tf.exp(tf.sub(logits, top));
      const scale = tf.exp(tf.sub(mP, top));
      const total = tf.add(tf.mul(scale, tables.prefixSum[p]), tf.sum(e, 1, true));
      const denominator = tf.add(total, EPSILON);
      const prefix = tf.mul(tf.slice(tables.prefixWeighted, [p, 0], [1, -1]), scale); // [B, C]
      const weighted = tf.add(prefix, tf.sum(tf.mul(concat, tf.expandDims(e, -1)), 1));
      const probs = this.layers.output.apply(tf.div(weighted, denominator));
      const padded = tf.exp(tf.sub(tf.slice(tables.logits, [0, 0], [1, p]), top)); // [B, p]
      const attention = tf.div(tf.concat([padded, e], 1), denominator);
      return [probs, attention];
    });
  }

  dispose() {
    if (!this.tables) return;
    for (const t of [...this.tables.h, ...this.tables.c, this.tables.logits, this.tables.prefixWeighted]) t.dispose();
    this.tables = null;
    this.seen = null;
  }
}
