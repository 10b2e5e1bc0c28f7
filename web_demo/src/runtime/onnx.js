// ONNX Runtime adapter (onnxruntime-web in the page, onnxruntime-web or -node in Node): loads the bundle's
// model.onnx (input "windows" int32 [B, L]; outputs "probs" [B, V], "attention" [B, L]), or the context head's
// model.context.onnx (also input "context" float32 [B, labels]).

import { BundleError, ONNX_CONTEXT } from "../contract/bundle.js";

export class OnnxRuntime {
  constructor(ort, session, maxLength, name) {
    this.ort = ort;
    this.session = session;
    this.maxLength = maxLength;
    this.name = name;
    this.lastAttention = null;
  }

  async probs(windows, batch, context = null) {
    const { probs, attention } = await this.outputs(windows, batch, context);
    this.lastAttention = attention;
    return probs;
  }

  /** `context`: the label vectors Float32Array [B*labels], for the context head's graph only. */
  async outputs(windows, batch, context = null) {
    const feeds = { windows: new this.ort.Tensor("int32", windows, [batch, this.maxLength]) };
    if (context) feeds.context = new this.ort.Tensor("float32", context, [batch, context.length / batch]);
    const out = await this.session.run(feeds);
    return { probs: out.probs.data, attention: out.attention.data };
  }

  dispose() {
    this.session.release?.();
  }
}

/** Create an ONNX Runtime session for an opened bundle; `file` may be "model.int8.onnx". */
export async function openOnnx(ort, bundle, { file = "model.onnx", executionProviders = ["wasm"], name = "ONNX Runtime wasm" } = {}) {
  const bytes = await bundle.read(file);
  let session;
  try {
    session = await ort.InferenceSession.create(bytes, { executionProviders });
  } catch (err) {
    throw new BundleError(`${file}: ONNX Runtime could not load the model (${err.message ?? err})`);
  }
  for (const need of ["probs", "attention"]) {
    if (!session.outputNames.includes(need)) throw new BundleError(`${file}: has no "${need}" output`);
  }
  if (!session.inputNames.includes("windows")) throw new BundleError(`${file}: has no "windows" input`);
  if (file === ONNX_CONTEXT && !session.inputNames.includes("context")) throw new BundleError(`${file}: has no "context" input`);
  return new OnnxRuntime(ort, session, bundle.config.max_length, name);
}
