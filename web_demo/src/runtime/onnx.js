// ONNX Runtime adapter (onnxruntime-web in the page, onnxruntime-web or -node in Node): loads the bundle's
// model.onnx (input "windows" int32 [B, L]; outputs "probs" [B, V], "attention" [B, L]) and, where the bundle
// has it, the padding fast path model_tail.onnx (input "tail" int32 [B, k]: the last k positions of windows whose
// first L - k are padding; same outputs).  A call skips the padding all its rows share (the fewest leading zeros
// of any row; a row with more keeps the rest in its tail, which the model reads as it reads the full window).
// Or the context head's model.context.onnx (also input "context" float32 [B, labels]; always whole windows).
// Twin of textgen_export/runtime/onnx.py (the padding rule: padding.js).

import { ATTENTION, BundleError, CONTEXT, INPUT, ONNX, ONNX_CONTEXT, ONNX_TAIL, PROBS, TAIL } from "../contract/bundle.js";
import { sharedPadding } from "./padding.js";
import { checkShapes } from "./shapes.js";

export class OnnxRuntime {
  constructor(ort, session, maxLength, name, tailSession = null) {
    this.ort = ort;
    this.session = session;
    this.tailSession = tailSession;
    this.maxLength = maxLength;
    this.name = name;
    this.fast = tailSession !== null; // model_tail.onnx serves the calls whose windows share padding
    this.lastAttention = null;
  }

  async probs(windows, batch, context = null) {
    const { probs, attention } = await this.outputs(windows, batch, context);
    this.lastAttention = attention;
    return probs;
  }

  /** `context`: the label vectors Float32Array [B*labels], for the context head's graph only. */
  async outputs(windows, batch, context = null) {
    const L = this.maxLength;
    const padding = this.tailSession && !context ? sharedPadding(windows, batch, L) : 0;
    let out;
    if (padding > 0 && padding < L) {
      const k = L - padding;
      const tail = new Int32Array(batch * k);
      for (let b = 0; b < batch; b++) tail.set(windows.subarray(b * L + padding, (b + 1) * L), b * k);
      out = await this.tailSession.run({ [TAIL]: new this.ort.Tensor("int32", tail, [batch, k]) });
    } else {
      const feeds = { [INPUT]: new this.ort.Tensor("int32", windows, [batch, L]) };
      if (context) feeds[CONTEXT] = new this.ort.Tensor("float32", context, [batch, context.length / batch]);
      out = await this.session.run(feeds);
    }
    return { probs: out[PROBS].data, attention: out[ATTENTION].data };
  }

  dispose() {
    this.session.release?.();
    this.tailSession?.release?.();
  }
}

async function createSession(ort, bundle, file, executionProviders, inputName, sessionOptions = {}) {
  const bytes = await bundle.read(file);
  let session;
  try {
    // ORT's own log lines (coloured warnings such as unused initialisers) are not the user's business: every
    // failure reaches the user as one error instead (as in textgen_export/runtime/onnx.py).
    session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 4, ...sessionOptions, executionProviders });
  } catch (err) {
    throw new BundleError(`${file}: ONNX Runtime could not load the model (${err.message ?? err})`);
  }
  for (const need of [PROBS, ATTENTION]) {
    if (!session.outputNames.includes(need)) throw new BundleError(`${file}: has no "${need}" output`);
  }
  if (!session.inputNames.includes(inputName)) throw new BundleError(`${file}: has no "${inputName}" input`);
  if (file === ONNX_CONTEXT && !session.inputNames.includes(CONTEXT)) throw new BundleError(`${file}: has no "${CONTEXT}" input`);
  return session;
}

/** Create an ONNX Runtime session for an opened bundle; `file` may be "model.int8.onnx" or the context head's
 * "model.context.onnx".  With `fast` (the default) model.onnx comes with the bundle's padding fast path where the
 * bundle has one. */
export async function openOnnx(ort, bundle, { file = ONNX, executionProviders = ["wasm"], name = "ONNX Runtime wasm", fast = true, sessionOptions = {} } = {}) {
  const session = await createSession(ort, bundle, file, executionProviders, INPUT, sessionOptions);
  const useTail = fast && file === ONNX && bundle.has(ONNX_TAIL) && !bundle.config.rnn_bidirectional;
  const tail = useTail ? await createSession(ort, bundle, ONNX_TAIL, executionProviders, TAIL, sessionOptions) : null;
  const runtime = new OnnxRuntime(ort, session, bundle.config.max_length, name, tail);
  return file === ONNX_CONTEXT ? runtime : checkShapes(runtime, bundle, file); // the head needs label vectors
}
