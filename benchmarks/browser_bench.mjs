// In-page side of the Chromium benchmark: window.runBench(job) → one result row (see jsjob.py).
// Runtime bindings return {open, generateE2E, noSampler} or {unavailable}; bench_core.mjs does the rest.
import { benchRuntime, demoSampler } from "./bench_core.mjs";

// ONNX Runtime Web (wasm): the session is the runtime; the adapter only shapes the feed.
async function ortWebWasm(job) {
  const ort = await import("onnxruntime-web");
  ort.env.wasm.wasmPaths = "/web_demo/node_modules/onnxruntime-web/dist/";
  ort.env.wasm.numThreads = job.threads;
  const length = job.config.max_length;
  const open = async () => {
    const session = await ort.InferenceSession.create(job.files[job.format], { executionProviders: ["wasm"] });
    return {
      async probs(windows, batch) {
        const feed = { windows: new ort.Tensor("int32", windows, [batch, length]) };
        return (await session.run(feed, ["probs"])).probs.data;
      },
    };
  };
  return { open, ...(await demoSampler(job)) };
}

const BINDINGS = { "chromium-ort-web-wasm": ortWebWasm };

async function bind(job) {
  const binding = BINDINGS[job.runtime];
  if (!binding) {
    return { unavailable: `the web demo's TF.js adapter (web_demo/src/runtimes/tfjs.js) is not in this checkout` };
  }
  return binding(job);
}

window.runBench = async (job) => {
  const row = { runtime: job.runtime, threads: String(job.threads), format: job.format, status: "failed", reason: "" };
  try {
    const bound = await bind(job);
    if (bound.unavailable) {
      row.status = "unavailable";
      row.reason = bound.unavailable;
      return row;
    }
    await benchRuntime(job, row, { ...bound, memory: null });
  } catch (error) {
    row.status = "failed";
    row.reason = `${error?.name ?? "Error"}: ${String(error?.message ?? error).split("\n")[0].slice(0, 200)}`;
  }
  return row;
};
