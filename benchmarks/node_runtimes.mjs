// Node runtimes for node_bench.mjs, opened through the web demo's own Node helpers (web_demo/src/runtime/node.js):
// each binding returns {open, generateE2E, greedy, noSampler} (see bench_core.benchRuntime) or {unavailable}.
// Every runtime runs the whole window (no padding fast path): the fast path has its own section (fast_path.mjs).
import { demoSampler } from "./bench_core.mjs";

// The demo's modules import npm packages by bare name; they resolve from web_demo/node_modules.
const demo = () => import("../web_demo/src/runtime/node.js");

function tfjs(backend) {
  return async (job) => {
    const { openDir, openRuntime } = await demo();
    return { open: async () => openRuntime(`tfjs-${backend}`, await openDir(job.bundle), { fast: false }), ...(await demoSampler(job)) };
  };
}

// onnxruntime-node with a pinned thread count: the demo's OnnxRuntime adapter around a session made here,
// because the demo's openOnnx leaves threads to ORT's default.
async function onnxruntimeNode(job) {
  const { openDir } = await demo();
  const { OnnxRuntime } = await import("../web_demo/src/runtime/onnx.js");
  const ortModule = await import("../web_demo/node_modules/onnxruntime-node/dist/index.js");
  const ort = ortModule.default ?? ortModule;
  const open = async () => {
    const bundle = await openDir(job.bundle);
    const bytes = await bundle.read(job.model_file);
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: ["cpu"],
      intraOpNumThreads: job.threads,
      executionMode: "sequential",
      graphOptimizationLevel: "all",
    });
    return new OnnxRuntime(ort, session, bundle.config.max_length, "onnxruntime-node");
  };
  return { open, ...(await demoSampler(job)) };
}

// onnxruntime-web's wasm build running in Node, as the demo opens it (one thread).
async function onnxWebInNode(job) {
  const { openDir, openRuntime } = await demo();
  const open = async () => openRuntime("onnx-web", await openDir(job.bundle), { onnxFile: job.model_file, fast: false });
  return { open, ...(await demoSampler(job)) };
}

const BINDINGS = {
  "tfjs-node-cpu": tfjs("cpu"),
  "tfjs-node-wasm": tfjs("wasm"),
  "onnxruntime-node": onnxruntimeNode,
  "ort-web-wasm-in-node": onnxWebInNode,
};

export async function openNode(job) {
  const bind = BINDINGS[job.runtime];
  if (!bind) return { unavailable: `no Node binding for ${job.runtime}` };
  return bind(job);
}
