// ONNX Runtime adapter (onnxruntime-web in the page, onnxruntime-web or -node in Node): loads the bundle's
// model.onnx (input "windows" int32 [B, L]; outputs "probs" [B, V], "attention" [B, L]).

import { ATTENTION, BundleError, INPUT, ONNX, PROBS } from "../contract/bundle.js";
import { checkShapes } from "./shapes.js";

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
    const feeds = { [INPUT]: new this.ort.Tensor("int32", windows, [batch, this.maxLength]) };
    const out = await this.session.run(feeds);
    return { probs: out[PROBS].data, attention: out[ATTENTION].data };
  }

  dispose() {
    this.session.release?.();
  }
}

/** Create an ONNX Runtime session for an opened bundle; `file` may be "model.int8.onnx". */
export async function openOnnx(ort, bundle, { file = ONNX, executionProviders = ["wasm"], name = "ONNX Runtime wasm" } = {}) {
  const bytes = await bundle.read(file);
  let session;
  try {
    // ORT's own log lines (coloured warnings such as unused initialisers) are not the user's business: every
    // failure reaches the user as one error instead (as in textgen_export/runtime/onnx.py).
    session = await ort.InferenceSession.create(bytes, { executionProviders, logSeverityLevel: 4 });
  } catch (err) {
    throw new BundleError(`${file}: ONNX Runtime could not load the model (${err.message ?? err})`);
  }
  for (const need of [PROBS, ATTENTION]) {
    if (!session.outputNames.includes(need)) throw new BundleError(`${file}: has no "${need}" output`);
  }
  if (!session.inputNames.includes(INPUT)) throw new BundleError(`${file}: has no "${INPUT}" input`);
  return checkShapes(new OnnxRuntime(ort, session, bundle.config.max_length, name), bundle, file);
}
