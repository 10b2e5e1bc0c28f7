// Fine-tuning a bundle's TF.js model with `train`'s semantics (textgen_export/training/trainer.py): the same
// windows, targets and split (prepare.js), the same batch order (shuffle.js, the data seed), Keras's Adam at
// textgenrnn's 4e-3 decayed linearly per epoch, Keras's loss, validation measured as Keras measures it.
// `tf` is passed in (as runtime/attention_layer.js), so one file runs in Node and in a Web Worker.
//
// THE API (stable; the page's Train panel and Web Worker, and `node src/train.mjs`, use exactly this):
//
//   prepareTraining({vocabulary, config, text | texts, trainSize = 1, seed, singleText, batchSize = 128,
//                    header = false})                                      (re-exported from prepare.js)
//     -> {corpus, train, validation, seed, texts, singleText}     throws TrainingError (one-line message)
//        text: a file's content, one text per line (singleText: one text); texts: string[].
//        seed: the data seed, any integer (Number or BigInt; default random), as train's --seed.
//   await fineTune(tf, model, prepared, {steps, epochs = 1, batchSize = 128, onProgress, shouldStop})
//     -> {stepsDone, epochsDone, stopped, trainLoss, initialValidationLoss, validationLoss, seconds,
//         windowsPerSecond (training steps only), history: [{epoch, learningRate, loss, validationLoss, steps, windows,
//         seconds (its steps' own)}]}
//        model: the tf.LayersModel of the bundle's tfjs/model.json (runtime/tfjs.js openTfjs(...).model),
//        trained in place.  steps: each epoch is `steps` batches of a repeating, reshuffled stream (train's
//        --steps-per-epoch); without it an epoch is one pass.  Losses are in nats per token (the unit train
//        prints), validation losses null without a validation split.
//        onProgress({step, steps, epoch, epochs, windowsPerSecond, loss, validationLoss, epochDone}) once
//        before training (step 0, validationLoss: the starting weights'), after every step (loss: the epoch's
//        running mean; validationLoss: the last measured, or null) and after each epoch's validation
//        (epochDone: true); shouldStop() is asked before every step: true ends training there, keeping what was
//        trained (the result says stopped: true).  Between steps the loop yields to the event loop, so a
//        worker's "stop" message is seen.
//   await sourceOf(bundle) -> source            (trained_bundle.js; bundle: contract/bundle.js openBundle's)
//   await trainedFiles(model, source, result, {trainedIn: "node" | "browser", steps, epochs, batchSize,
//                      trainSize, seed})                                   (trained_bundle.js)
//     -> Map path -> Uint8Array: the folder `train.mjs --out DIR` writes and the page downloads
//        (format: docs/design.md, "A bundle trained outside Python").
//
// Dropout: the bundle's model has none (train's default --dropout 0); this trainer trains without it.

import { SplitMix64 } from "../sampling/rng.js";
import { pairs } from "./corpus.js";
import { shuffle } from "./shuffle.js";
import { TrainingError } from "./texts.js";

export { prepareTraining } from "./prepare.js";
export { TrainingError } from "./texts.js";

// textgenrnn's optimiser as Keras 3 builds it: Adam(learning_rate=4e-3), beta_1 0.9, beta_2 0.999, epsilon 1e-7.
export const BASE_LEARNING_RATE = 4e-3;
const BETA_1 = 0.9;
const BETA_2 = 0.999;
const EPSILON = 1e-7;

/** The learning rate of 0-based `epoch` of `epochs`: base · (1 − epoch / epochs) (training/schedule.py). */
export function learningRate(epoch, epochs) {
  return BASE_LEARNING_RATE * (1 - epoch / epochs);
}

/**
 * Keras 3's Adam update (keras/src/optimizers/adam.py), in float32 tf ops:
 *   m += (g − m)(1 − β1);  v += (g² − v)(1 − β2);  α = lr · √(1 − β2^t) / (1 − β1^t);  w −= α · m / (√v + ε)
 * (tf.train.adam differs: it puts ε inside the bias correction).
 */
export class KerasAdam {
  constructor(tf, variables) {
    this.tf = tf;
    this.variables = variables;
    this.m = variables.map((v) => tf.variable(tf.zerosLike(v), false));
    this.v = variables.map((v) => tf.variable(tf.zerosLike(v), false));
    this.iterations = 0;
  }

  /** One update with `grads` (tensors in the order of `variables`) at learning rate `lr`; `squares`: for some
   * variables (by index) the `g²` to use (the embedding's, see network). */
  apply(grads, lr, squares = new Map()) {
    const tf = this.tf;
    this.iterations += 1;
    tf.tidy(() => {
      const t = tf.scalar(this.iterations, "float32");
      const b1 = tf.scalar(BETA_1, "float32");
      const b2 = tf.scalar(BETA_2, "float32");
      const one = tf.scalar(1, "float32");
      const alpha = tf.div(tf.mul(tf.scalar(lr, "float32"), tf.sqrt(tf.sub(one, tf.pow(b2, t)))), tf.sub(one, tf.pow(b1, t)));
      const keep1 = tf.scalar(1 - BETA_1, "float32");
      const keep2 = tf.scalar(1 - BETA_2, "float32");
      const eps = tf.scalar(EPSILON, "float32");
      this.variables.forEach((variable, k) => {
        const g = grads[k];
        const m = this.m[k];
        const v = this.v[k];
        m.assign(tf.add(m, tf.mul(tf.sub(g, m), keep1)));
        v.assign(tf.add(v, tf.mul(tf.sub(squares.get(k) ?? tf.square(g), v), keep2)));
        variable.assign(tf.sub(variable, tf.div(tf.mul(m, alpha), tf.add(tf.sqrt(v), eps))));
      });
    });
  }

  dispose() {
    for (const t of [...this.m, ...this.v]) t.dispose();
  }
}

/**
 * The model's layers by their names (docs/design.md §3) as one function of the windows, with the embedding's
 * gradient made explicit: Keras hands Adam the gradient of a gather as one slice per occurrence of a token, and
 * Adam's `g²` then sums the squares of those slices (`ops.square` keeps the slices; densifying sums them), not
 * the square of their sum.  `squares` receives that per-row sum when the gradient is computed.
 */
function network(tf, model) {
  const layer = (name) => {
    try {
      return model.getLayer(name);
    } catch {
      throw new TrainingError(`the model has no layer ${JSON.stringify(name)}; train a bundle exported by textgen-export`);
    }
  };
  const embedding = layer("embedding");
  const rnns = [];
  for (let k = 1; model.layers.some((l) => l.name === `rnn_${k}`); k++) rnns.push(layer(`rnn_${k}`));
  const [concat, attention, output] = [layer("rnn_concat"), layer("attention"), layer("output")];
  const table = embedding.trainableWeights[0].val;
  const rows = table.shape[0];
  const width = table.shape[1];
  const sink = { squares: null };
  return {
    embedding: table,
    sink,
    /** logits [B, classes] of windows x (int32 [B, L]) */
    logits(x) {
      const lookup = tf.customGrad((weights, save) => {
        save([x]); // (a tensor the gradient reads must be saved: the forward pass's others are gone by then)
        return {
          value: tf.gather(weights, x),
          gradFunc: (dy, [windows]) => {
            const slices = tf.reshape(dy, [-1, width]);
            const ids = tf.reshape(windows, [-1]);
            sink.squares = tf.keep(tf.unsortedSegmentSum(tf.square(slices), ids, rows));
            return [tf.unsortedSegmentSum(slices, ids, rows)];
          },
        };
      });
      const e = lookup(table);
      const outs = [e];
      for (const rnn of rnns) outs.push(rnn.apply(outs[outs.length - 1]));
      const pooled = attention.apply(concat.apply(outs));
      const h = Array.isArray(pooled) ? pooled[0] : pooled;
      return tf.add(tf.matMul(h, output.kernel.read()), output.bias.read());
    },
  };
}

/**
 * The next-token loss of a batch, as Keras computes SparseCategoricalCrossentropy on a softmax output (it takes
 * the softmax's logits): mean over the batch of logsumexp(logits) − logits[target], in nats.
 */
function batchLoss(tf, net, windows, targets, batch, maxLength) {
  const logits = net.logits(tf.tensor2d(windows, [batch, maxLength], "int32"));
  const picked = tf.sum(tf.mul(tf.oneHot(tf.tensor1d(targets, "int32"), logits.shape[1]), logits), 1);
  return tf.mean(tf.sub(tf.logSumExp(logits, 1), picked));
}

/**
 * TF.js's wasm backend has no UnsortedSegmentSum, the gradient of a gather (the embedding's); registers it
 * there (a plain loop over the rows) when missing, so the wasm backend trains too.
 */
export function registerTrainingKernels(tf) {
  if (tf.getKernel("UnsortedSegmentSum", "wasm") || !tf.findBackend?.("wasm")) return;
  tf.registerKernel({
    kernelName: "UnsortedSegmentSum",
    backendName: "wasm",
    kernelFunc: ({ inputs: { x, segmentIds }, backend, attrs: { numSegments } }) => {
      const inner = x.shape.slice(1).reduce((n, d) => n * d, 1);
      const out = backend.makeOutput([numSegments, ...x.shape.slice(1)], x.dtype);
      const values = backend.typedArrayFromHeap(x);
      const ids = backend.typedArrayFromHeap(segmentIds);
      const sums = backend.typedArrayFromHeap(out);
      sums.fill(0);
      for (let row = 0; row < ids.length; row++) {
        const segment = ids[row];
        if (segment < 0 || segment >= numSegments) continue;
        for (let k = 0, at = segment * inner, from = row * inner; k < inner; k++) sums[at + k] += values[from + k];
      }
      return out;
    },
  });
}

function nextTick() {
  return new Promise((resolve) => (typeof setImmediate === "function" ? setImmediate(resolve) : setTimeout(resolve, 0)));
}

/** Batches of `batchSize` positions over `positions` (the last one partial), in order. */
function batchesOf(positions, batchSize) {
  const out = [];
  for (let start = 0; start < positions.length; start += batchSize) out.push(positions.subarray(start, start + batchSize));
  return out;
}

/** See the API at the top of this file. */
export async function fineTune(tf, model, prepared, { steps = null, epochs = 1, batchSize = 128, onProgress = null, shouldStop = null } = {}) {
  if (!(Number.isSafeInteger(epochs) && epochs >= 1)) throw new TrainingError(`epochs must be an integer ≥ 1, got ${epochs}`);
  if (steps !== null && !(Number.isSafeInteger(steps) && steps >= 1)) throw new TrainingError(`steps must be an integer ≥ 1, got ${steps}`);
  if (!(Number.isSafeInteger(batchSize) && batchSize >= 1)) throw new TrainingError(`batch_size must be an integer ≥ 1, got ${batchSize}`);
  const { corpus, train, validation } = prepared;
  if (train.length < batchSize) {
    throw new TrainingError(`only ${train.length} training sequences, fewer than batch_size ${batchSize}; give more text or a smaller batch size`);
  }
  registerTrainingKernels(tf);
  const maxLength = corpus.maxLength;
  const net = network(tf, model);
  const variables = model.trainableWeights.map((w) => w.val);
  const embeddingIndex = variables.indexOf(net.embedding);
  const optimizer = new KerasAdam(tf, variables);
  const lossOf = (positions) => {
    const { windows, targets } = pairs(corpus, positions);
    return () => batchLoss(tf, net, windows, targets, positions.length, maxLength);
  };

  // Validation: Keras's mean over batches weighted by batch size = the mean over the pairs measured.  With
  // `steps`, each measurement takes the next min(steps, batches) batches of the held-out pairs, cycling.
  const validationBatches = batchesOf(validation, batchSize);
  const validationSteps = steps === null ? validationBatches.length : Math.min(steps, validationBatches.length);
  let validationCursor = 0;
  const measure = async (from) => {
    if (!validationBatches.length) return null;
    let sum = 0;
    let count = 0;
    for (let k = 0; k < validationSteps; k++) {
      const batch = validationBatches[(from + k) % validationBatches.length];
      const loss = tf.tidy(lossOf(batch));
      sum += (await loss.data())[0] * batch.length;
      count += batch.length;
      loss.dispose();
    }
    return sum / count;
  };

  // Training batches: one stream from the data seed; each pass reshuffles the training positions in place
  // (tfdata.dataset), an epoch being one pass, or `steps` batches of the repeating stream.
  const rng = new SplitMix64(prepared.seed);
  let passBatches = [];
  let passAt = 0;
  const nextBatch = () => {
    if (passAt >= passBatches.length) {
      shuffle(train, rng);
      passBatches = batchesOf(train, batchSize);
      passAt = 0;
    }
    return passBatches[passAt++];
  };

  const stepsPerEpoch = steps ?? Math.ceil(train.length / batchSize);
  const totalSteps = stepsPerEpoch * epochs;
  const initialValidationLoss = await measure(0);
  let validationLoss = initialValidationLoss;
  onProgress?.({ step: 0, steps: totalSteps, epoch: 1, epochs, windowsPerSecond: 0, loss: null, validationLoss, epochDone: false });
  const history = [];
  let stepsDone = 0;
  let windows = 0;
  let stopped = false;
  let trainLoss = null;
  const started = performance.now();
  let trainingSeconds = 0; // the steps' own time: windows/s leaves validation out
  const rate = () => windows / Math.max(trainingSeconds, 1e-9);
  try {
    for (let epoch = 0; epoch < epochs && !stopped; epoch++) {
      const lr = learningRate(epoch, epochs);
      let sum = 0;
      let count = 0;
      let epochSteps = 0;
      const epochTrainingSeconds = trainingSeconds;
      for (let k = 0; k < stepsPerEpoch; k++) {
        if (shouldStop?.()) {
          stopped = true;
          break;
        }
        const stepStarted = performance.now();
        const batch = nextBatch();
        const { value, grads } = tf.variableGrads(lossOf(batch), variables);
        optimizer.apply(variables.map((v) => grads[v.name]), lr, new Map([[embeddingIndex, net.sink.squares]]));
        const loss = (await value.data())[0];
        tf.dispose([value, net.sink.squares, ...Object.values(grads)]);
        net.sink.squares = null;
        trainingSeconds += (performance.now() - stepStarted) / 1000;
        sum += loss * batch.length;
        count += batch.length;
        windows += batch.length;
        stepsDone += 1;
        epochSteps += 1;
        trainLoss = sum / count;
        onProgress?.({ step: stepsDone, steps: totalSteps, epoch: epoch + 1, epochs, windowsPerSecond: rate(), loss: trainLoss, validationLoss, epochDone: false });
        await nextTick();
      }
      if (!epochSteps) break;
      const measured = await measure(validationCursor);
      validationCursor += validationSteps;
      if (measured !== null) validationLoss = measured;
      const epochSeconds = trainingSeconds - epochTrainingSeconds;
      history.push({ epoch: epoch + 1, learningRate: lr, loss: sum / count, validationLoss: measured, steps: epochSteps, windows: count, seconds: epochSeconds });
      onProgress?.({ step: stepsDone, steps: totalSteps, epoch: epoch + 1, epochs, windowsPerSecond: rate(), loss: sum / count, validationLoss, epochDone: true });
    }
  } finally {
    optimizer.dispose();
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    stepsDone,
    epochsDone: history.length,
    stopped,
    trainLoss,
    initialValidationLoss,
    validationLoss,
    seconds,
    windowsPerSecond: trainingSeconds > 0 ? windows / trainingSeconds : null,
    history,
  };
}
