// TF.js runtime adapter: loads the bundle's tfjs/model.json (+ shards) with tf.loadLayersModel, or the context
// head's tfjs/context.json (inputs windows and context, the label vectors).
// `tf` is passed in, with the wanted backend already set (see setBackend), so Node and the page share this file.

import { registerAttentionLayer } from "./attention_layer.js";
import { BundleError } from "../contract/bundle.js";

const MODEL_JSON = "tfjs/model.json";

/** Switch TF.js to `backend` ("cpu", "wasm", "webgl"); throws if this environment does not offer it. */
export async function setBackend(tf, backend) {
  const ok = await tf.setBackend(backend);
  await tf.ready();
  if (!ok || tf.getBackend() !== backend) throw new Error(`TF.js backend "${backend}" is not available here`);
}

export class TfjsRuntime {
  constructor(tf, model, maxLength) {
    this.tf = tf;
    this.model = model;
    this.maxLength = maxLength;
    this.name = `TF.js ${tf.getBackend()}`;
    this.lastAttention = null;
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
    const outs = tf.tidy(() => {
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
    this.model.dispose();
  }
}

/** Load the TF.js model of an opened bundle (bundle.js): `file` tfjs/model.json, or tfjs/context.json. */
export async function openTfjs(tf, bundle, file = MODEL_JSON) {
  registerAttentionLayer(tf);
  const modelJson = await bundle.readJson(file);
  if (modelJson?.format !== "layers-model" || !modelJson.modelTopology || !Array.isArray(modelJson.weightsManifest)) {
    throw new BundleError(`${file}: not a TF.js layers-model (re-export with --tfjs)`);
  }
  const specs = [];
  const parts = [];
  for (const group of modelJson.weightsManifest) {
    specs.push(...group.weights);
    for (const path of group.paths) parts.push(await bundle.read(`tfjs/${path}`));
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
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
  return new TfjsRuntime(tf, model, bundle.config.max_length);
}
