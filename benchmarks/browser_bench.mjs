// In-page side of the Chromium benchmark: window.runBench(job) → one result row (see jsjob.py).
// Runtimes are opened the way the web demo's page opens them (web_demo/src: bundle.js, runtimes/tfjs.js,
// runtimes/onnx.js) from the bundle served at /bundle/; bench_core.mjs times and checks them.
import { benchRuntime, demoSampler } from "./bench_core.mjs";

const NODE_MODULES = "/web_demo/node_modules";
const UNAVAILABLE = /is not available here/;

async function bundle() {
  const { openBundle, urlSource } = await import("../web_demo/src/contract/bundle.js");
  return openBundle(urlSource("/bundle/"));
}

function tfjs(backend) {
  return async (job) => {
    const tf = await import("@tensorflow/tfjs");
    if (backend === "wasm") {
      const wasm = await import("@tensorflow/tfjs-backend-wasm");
      wasm.setWasmPaths(`${NODE_MODULES}/@tensorflow/tfjs-backend-wasm/dist/`);
      wasm.setThreadsCount?.(job.threads);
    }
    const { openTfjs, setBackend } = await import("../web_demo/src/runtime/tfjs.js");
    await setBackend(tf, backend); // throws "... is not available here" where the browser lacks it
    return { open: async () => openTfjs(tf, await bundle()), ...(await demoSampler(job)) };
  };
}

async function ortWebWasm(job) {
  const ortModule = await import("onnxruntime-web");
  const ort = ortModule.default ?? ortModule;
  ort.env.wasm.wasmPaths = `${NODE_MODULES}/onnxruntime-web/dist/`;
  ort.env.wasm.numThreads = job.threads; // threads need cross-origin isolation, which the bench server gives
  const { openOnnx } = await import("../web_demo/src/runtime/onnx.js");
  const open = async () => openOnnx(ort, await bundle(), { file: job.model_file, executionProviders: ["wasm"] });
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
