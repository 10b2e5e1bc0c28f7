// TF.js runtime adapter: loads the bundle's tfjs/model.json (+ shards) with tf.loadLayersModel, or the context
// head's tfjs/context.json (inputs windows and context, the label vectors).
// `tf` is passed in, with the wanted backend already set (see setBackend), so Node and the page share this file.

import { registerAttentionLayer } from "./attention_layer.js";
import { BundleError, TFJS_MODEL as MODEL_JSON } from "../contract/bundle.js";
import { checkShapes } from "./shapes.js";
import { tfjsTail } from "./tfjs_tail.js";


/** Switch TF.js to `backend` ("cpu", "wasm", "webgl"); throws if this environment does not offer it. */
export async function setBackend(tf, backend) {
  const ok = await tf.setBackend(backend);
  await tf.ready();
  if (!ok || tf.getBackend() !== backend) throw new Error(`TF.js backend "${backend}" is not available here`);
}

export class TfjsRuntime {
  /** `tail`: the padding fast path (tfjs_tail.js) for the text path's calls, or null (every call whole). */
  constructor(tf, model, maxLength, tail = null) {
    this.tf = tf;
    this.model = model;
    this.maxLength = maxLength;
    this.name = `TF.js ${tf.getBackend()}`;
    this.lastAttention = null;
    this.tail = tail;
    this.fast = tail !== null;
  }

  /** Next-token probabilities for B windows (Int32Array [B*L]) -> Float32Array [B*V]; keeps the attention. */
  async probs(windows, batch, context = null) {
    const { probs, attention } = await this.outputs(windows, batch, context);
    this.lastAttention = attention;
    return probs;
  }

  /** `context`: the label vectors Float32Array [B*labels], for the context head's model only. */
  async outputs(windows, batch, context = null) {
    const tf = this.tf;
    const padding = this.tail && !context ? this.tail.padding(windows, batch) : 0;
    const outs = padding ? this.tail.outputs(windows, batch, padding) : tf.tidy(() => {
      const w = tf.tensor2d(windows, [batch, this.maxLength], "int32");
      return this.model.predict(context ? [w, tf.tensor2d(context, [batch, context.length / batch], "float32")] : w);
    });
    try {
      const [probs, attention] = await Promise.all([outs[0].data(), outs[1].data()]);
      return { probs, attention }; // (the context head's model also outputs the text path's probs, unused)
    } finally {
      for (const t of outs) t.dispose();
    }
  }

  dispose() {
    this.tail?.dispose();
    this.model.dispose();
  }
}

// Twin of decode_weights in textgen_export/export/tfjs.py: what a weights manifest may say before anything of it
// is read or allocated.
const MAX_SHARDS = 1024;
const BYTES_PER = { float32: 4, float16: 2, uint8: 1, int32: 4 };

function bad(what) {
  return new BundleError(`${MODEL_JSON}: ${what}; re-export the bundle`);
}

/** The weight specs and shard paths of a weightsManifest: one group, each shard once, shapes of sane integers. */
export function checkWeightsManifest(manifest) {
  if (manifest.length !== 1 || !Array.isArray(manifest[0]?.paths) || !Array.isArray(manifest[0]?.weights)) {
    throw bad("has no single weightsManifest group");
  }
  const { paths, weights } = manifest[0];
  if (paths.some((p) => typeof p !== "string") || new Set(paths).size !== paths.length || paths.length > MAX_SHARDS) {
    throw bad(`lists ${paths.length} shard paths, not each once and at most ${MAX_SHARDS}`);
  }
  for (const spec of weights) {
    const shape = spec?.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw bad(`weight ${JSON.stringify(spec?.name ?? null).slice(0, 80)} has shape ${JSON.stringify(shape ?? null).slice(0, 80)}, not a list of non-negative integers`);
    }
  }
  return { specs: weights, paths };
}

/** Bytes the specs occupy in the shards (as BigInt-safe arithmetic: [2**32, 2**32] is too big, not a wrap). */
function weightBytes(specs) {
  let total = 0n;
  for (const spec of specs) {
    const per = BYTES_PER[spec.quantization?.dtype ?? spec.dtype ?? "float32"] ?? 4;
    total += spec.shape.reduce((n, d) => n * BigInt(d), 1n) * BigInt(per);
  }
  return total <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(total) : Infinity;
}

/** Load the TF.js model of an opened bundle (bundle.js): `file` tfjs/model.json, or tfjs/context.json.  With
 * `fast` (the default) the text path skips the padding its calls' windows share (tfjs_tail.js). */
export async function openTfjs(tf, bundle, file = MODEL_JSON, { fast = true } = {}) {
  registerAttentionLayer(tf);
  const modelJson = await bundle.readJson(file);
  if (modelJson?.format !== "layers-model" || !modelJson.modelTopology || !Array.isArray(modelJson.weightsManifest)) {
    throw new BundleError(`${file}: not a TF.js layers-model (re-export with --tfjs)`);
  }
  const { specs, paths } = checkWeightsManifest(modelJson.weightsManifest);
  const parts = [];
  for (const path of paths) parts.push(await bundle.read(`tfjs/${path}`));
  const total = parts.reduce((n, p) => n + p.length, 0);
  if (total !== weightBytes(specs)) {
    throw new BundleError(`${file}: the shards hold ${total} bytes, the weights need ${weightBytes(specs)}; re-export the bundle`);
  }
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    weightData.set(p, offset);
    offset += p.length;
  }
  let model;
  try {
    model = await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: specs, weightData: weightData.buffer }),
    );
  } catch (err) {
    throw new BundleError(`${file}: TF.js could not load the model (${err.message})`);
  }
  const tail = fast && file === MODEL_JSON ? tfjsTail(tf, model, bundle.config) : null;
  const runtime = new TfjsRuntime(tf, model, bundle.config.max_length, tail);
  return file === MODEL_JSON ? checkShapes(runtime, bundle, file) : runtime; // the head needs label vectors
}
