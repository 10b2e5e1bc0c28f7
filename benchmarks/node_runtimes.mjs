// Node runtimes for node_bench.mjs: each binding returns {open, generateE2E, noSampler} or {unavailable}.
// open() resolves to an adapter {probs(Int32Array windows, batch) -> Float32Array [batch * classes]}.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { demoSampler } from "./bench_core.mjs";

const here = dirname(fileURLToPath(import.meta.url));
export const webDemo = join(here, "..", "web_demo");
const requireFromDemo = createRequire(join(webDemo, "package.json"));
// Bare npm names resolve from web_demo/node_modules, where `make node-deps` installs them.
export const importFromDemo = async (name) => import(pathToFileURL(requireFromDemo.resolve(name)).href);

// ONNX Runtime for Node: the session is the runtime; the adapter only shapes the feed.
async function onnxruntimeNode(job) {
  const ort = await importFromDemo("onnxruntime-node");
  const length = job.config.max_length;
  const open = async () => {
    const session = await ort.InferenceSession.create(job.files[job.format], {
      intraOpNumThreads: job.threads,
      executionMode: "sequential",
      graphOptimizationLevel: "all",
    });
    return {
      async probs(windows, batch) {
        const feed = { windows: new ort.Tensor("int32", windows, [batch, length]) };
        return (await session.run(feed, ["probs"])).probs.data;
      },
    };
  };
  return { open, ...(await demoSampler(job)) };
}

const BINDINGS = { "onnxruntime-node": onnxruntimeNode };

export async function openNode(job) {
  const bind = BINDINGS[job.runtime];
  if (!bind) return { unavailable: `${job.runtime}: the web demo's TF.js adapter (web_demo/src/runtimes/tfjs.js) is not in this checkout` };
  return bind(job);
}
