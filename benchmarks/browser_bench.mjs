// In-page side of the Chromium benchmark: window.runBench(job) → one result row (see jsjob.py).
// Runtimes are opened the way the web demo's page opens them (web_demo/src: bundle.js, runtimes/tfjs.js,
// runtimes/onnx.js) from the bundle served at /bundle/; bench_core.mjs times and checks them.  runBench runs the
// whole window (no padding fast path); runFastPath compares both paths (benchmarks/fast_path.py).
import { benchRuntime, comparePaths, demoSampler } from "./bench_core.mjs";

const NODE_MODULES = "/web_demo/node_modules";
const UNAVAILABLE = /is not available here/;

async function bundle() {
  const { openBundle, urlSource } = await import("../web_demo/src/contract/bundle.js");
  return openBundle(urlSource("/bundle/"));
}

/** TF.js on `backend` (wasm: `threads` threads) and the page's openTfjs. */
async function loadTf(backend, threads) {
  const tf = await import("@tensorflow/tfjs");
  if (backend === "wasm") {
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    wasm.setWasmPaths(`${NODE_MODULES}/@tensorflow/tfjs-backend-wasm/dist/`);
    wasm.setThreadsCount?.(threads);
  }
  const { openTfjs, setBackend } = await import("../web_demo/src/runtime/tfjs.js");
  await setBackend(tf, backend); // throws "... is not available here" where the browser lacks it
  return { tf, openTfjs };
}

/** onnxruntime-web's wasm build on `threads` threads and the page's openOnnx. */
async function loadOrt(threads) {
  const ortModule = await import("onnxruntime-web");
  const ort = ortModule.default ?? ortModule;
  ort.env.wasm.wasmPaths = `${NODE_MODULES}/onnxruntime-web/dist/`;
  ort.env.wasm.numThreads = threads; // threads need cross-origin isolation, which the bench server gives
  const { openOnnx } = await import("../web_demo/src/runtime/onnx.js");
  return { ort, openOnnx };
}

function tfjs(backend) {
  return async (job) => {
    const { tf, openTfjs } = await loadTf(backend, job.threads);
    return { open: async () => openTfjs(tf, await bundle(), undefined, { fast: false }), ...(await demoSampler(job)) };
  };
}

async function ortWebWasm(job) {
  const { ort, openOnnx } = await loadOrt(job.threads);
  const open = async () => openOnnx(ort, await bundle(), { file: job.model_file, executionProviders: ["wasm"], fast: false });
  return { open, ...(await demoSampler(job)) };
}

// Which GL implementation WebGL ran on (with --disable-gpu: Chromium's software renderer).
function webglRenderer() {
  const gl = document.createElement("canvas").getContext("webgl2") ?? document.createElement("canvas").getContext("webgl");
  if (!gl) return "no WebGL context";
  const info = gl.getExtension("WEBGL_debug_renderer_info");
  return String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
}

const BINDINGS = {
  "chromium-tfjs-webgl": tfjs("webgl"),
  "chromium-tfjs-wasm": tfjs("wasm"),
  "chromium-tfjs-cpu": tfjs("cpu"),
  "chromium-ort-web-wasm": ortWebWasm,
};

window.runBench = async (job) => {
  const row = { runtime: job.runtime, threads: String(job.threads), format: job.format, status: "failed", reason: "" };
  try {
    const binding = BINDINGS[job.runtime];
    if (!binding) throw new Error(`no browser binding for ${job.runtime}`);
    const bound = await binding(job);
    row.cross_origin_isolated = globalThis.crossOriginIsolated;
    if (job.runtime.includes("webgl")) row.device = webglRenderer();
    await benchRuntime(job, row, bound);
  } catch (error) {
    const message = String(error?.message ?? error).split("\n")[0].slice(0, 200);
    row.status = UNAVAILABLE.test(message) ? "unavailable" : "failed";
    row.reason = row.status === "unavailable" ? message : `${error?.name ?? "Error"}: ${message}`;
  }
  return row;
};

// The padding fast path section (benchmarks/fast_path.py): full vs fast path, the page's adapters, one thread.
//   chromium-ort-web-wasm  ONNX Runtime Web wasm, openOnnx({fast})
//   chromium-tfjs-wasm     TF.js wasm, openTfjs(…, {fast})
window.runFastPath = async (spec) => {
  const opened = await bundle();
  const { Generator } = await import("../web_demo/src/sampling/generator.js");
  const open = async (runtime, fast) => {
    if (runtime === "chromium-ort-web-wasm") {
      const { ort, openOnnx } = await loadOrt(1);
      return openOnnx(ort, opened, { executionProviders: ["wasm"], fast });
    }
    if (runtime === "chromium-tfjs-wasm") {
      const { tf, openTfjs } = await loadTf("wasm", 1);
      return openTfjs(tf, opened, undefined, { fast });
    }
    throw new Error(`no browser binding for ${runtime}`);
  };
  return comparePaths(spec, opened.vocab, opened.config, open, Generator);
};
