// ONNX Runtime adapter (onnxruntime-web in the page, onnxruntime-web or -node in Node): loads the bundle's
// model.onnx (input "windows" int32 [B, L]; outputs "probs" [B, V], "attention" [B, L]).

import { BundleError } from "../contract/bundle.js";

export class OnnxRuntime {
  constructor(ort, session, maxLength, name) {
    this.ort = ort;
    this.session = session;
    this.maxLength = maxLength;
    this.name = name;
    this.lastAttention = null;
  }

  async probs(windows, batch) {
    const { probs, attention } = await this.outputs(windows, batch);
    this.lastAttention = attention;
    return probs;
  }

  async outputs(windows, batch) {
    const feeds = { windows: new this.ort.Tensor("int32", windows, [batch, this.maxLength]) };
    const out = await this.session.run(feeds);
    return { probs: out.probs.data, attention: out.attention.data };
  }

  dispose() {
    this.session.release?.();
  }
}

/** Create an ONNX Runtime session for an opened bundle; `file` may be "model.int8.onnx". */
export async function openOnnx(ort, bundle, { file = "model.onnx", executionProviders = ["wasm"], name = "ONNX Runtime wasm", sessionOptions = {} } = {}) {
  const bytes = await bundle.read(file);
  let session;
  try {
    session = await ort.InferenceSession.create(bytes, { ...sessionOptions, executionProviders });
  } catch (err) {
    throw new BundleError(`${file}: ONNX Runtime could not load the model (${err.message ?? err})`);
  }
  for (const need of ["probs", "attention"]) {
    if (!session.outputNames.includes(need)) throw new BundleError(`${file}: has no "${need}" output`);
  }
  if (!session.inputNames.includes("windows")) throw new BundleError(`${file}: has no "windows" input`);
  return new OnnxRuntime(ort, session, bundle.config.max_length, name);
}
