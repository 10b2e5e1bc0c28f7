// The Train panel's Web Worker (a classic worker: it loads TF.js's UMD builds with importScripts, since a worker
// has no import map to resolve the ES builds' bare imports; its own modules come by dynamic import()).
// It fine-tunes the page's TF.js model on the reader's text off the main thread, so the page stays responsive.
//   page → worker: {type: "train", source, text, options}, {type: "stop"} (also a shared flag when the page is
//                  cross-origin isolated, seen even while training holds this thread)
//   worker → page: {type: "progress", ...fineTune's figures}, {type: "done", files, summary} (the trained model's
//                  files, training/trained_bundle.js; fineTune's result), {type: "error", message, user} (user: the
//                  text or settings were refused: one line)

/* global importScripts, tf */
const here = (path) => new URL(path, self.location.href).href;
const TFJS_DIST = "../../node_modules/@tensorflow/tfjs/dist/";
const WASM_DIST = "../../node_modules/@tensorflow/tfjs-backend-wasm/dist/";

let stopRequested = false;
let stopFlag = null; // Int32Array over a SharedArrayBuffer: 1 = stop

self.onmessage = (event) => {
  const message = event.data;
  if (message.type === "stop") stopRequested = true;
  if (message.type === "train") {
    train(message).catch((err) => {
      self.postMessage({ type: "error", message: String(err?.message ?? err), user: err?.name === "TrainingError" });
    });
  }
};

async function loadTf(backend) {
  if (!self.tf) importScripts(here(`${TFJS_DIST}tf.min.js`));
  if (backend === "wasm" && !tf.findBackend("wasm")) {
    importScripts(here(`${WASM_DIST}tf-backend-wasm.min.js`));
    tf.wasm.setWasmPaths(here(WASM_DIST));
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false); // as the page's runtime (runtime/browser.js)
  }
  const { setBackend } = await import("../runtime/tfjs.js");
  await setBackend(tf, backend);
  return tf;
}

async function train({ source, text, options, stop }) {
  stopRequested = false;
  stopFlag = stop ? new Int32Array(stop) : null;
  const [{ Vocabulary }, { fineTune, prepareTraining }, { trainedFiles }, { registerAttentionLayer }] = await Promise.all([
    import("../contract/vocabulary.js"),
    import("../training/fine_tune.js"),
    import("../training/trained_bundle.js"),
    import("../runtime/attention_layer.js"),
  ]);
  const config = source.config;
  const prepared = prepareTraining({
    vocabulary: new Vocabulary(source.vocab, config.word_level),
    config,
    text,
    trainSize: options.trainSize,
    seed: options.seed,
    batchSize: options.batchSize,
  });
  const tfjs = await loadTf(options.backend);
  registerAttentionLayer(tfjs);
  const model = await tfjs.loadLayersModel(
    tfjs.io.fromMemory({
      modelTopology: source.modelJson.modelTopology,
      weightSpecs: source.modelJson.weightsManifest[0].weights,
      weightData: source.weightData.buffer,
    }),
  );
  const backend = tfjs.getBackend();
  try {
    const result = await fineTune(tfjs, model, prepared, {
      steps: options.steps,
      epochs: options.epochs,
      batchSize: options.batchSize,
      onProgress: (progress) => self.postMessage({ type: "progress", ...progress, backend }),
      shouldStop: () => stopRequested || (stopFlag !== null && Atomics.load(stopFlag, 0) === 1),
    });
    const files = await trainedFiles(model, source, result, {
      trainedIn: "browser",
      steps: options.steps,
      epochs: options.epochs,
      batchSize: options.batchSize,
      trainSize: options.trainSize,
      seed: prepared.seed,
    });
    const { history, ...summary } = result;
    self.postMessage({ type: "done", files, summary: { ...summary, backend } });
  } finally {
    model.dispose();
  }
}
