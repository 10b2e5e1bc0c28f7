// Node half of the padding fast path section (benchmarks/fast_path.py): full vs fast path through the page's own
// adapters and generation loop (bench_core.comparePaths).  Prints one JSON object.
//   node benchmarks/fast_path.mjs SPEC.json     SPEC: see js_spec in benchmarks/fast_path.py; runtimes:
//     onnxruntime-node  one intra-op thread (as the Python rows), model.onnx / + model_tail.onnx
//     tfjs-node-wasm    TF.js wasm, openRuntime("tfjs-wasm", {fast})
import { readFileSync } from "node:fs";
import { comparePaths } from "./bench_core.mjs";

const spec = JSON.parse(readFileSync(process.argv[2], "utf8"));
const { openDir, openRuntime } = await import("../web_demo/src/runtime/node.js");
const { OnnxRuntime } = await import("../web_demo/src/runtime/onnx.js");
const { Generator } = await import("../web_demo/src/sampling/generator.js");
const { ONNX, ONNX_TAIL } = await import("../web_demo/src/contract/bundle.js");
const ortModule = await import("../web_demo/node_modules/onnxruntime-node/dist/index.js");
const ort = ortModule.default ?? ortModule;

const bundle = await openDir(spec.bundle);
const options = { executionProviders: ["cpu"], intraOpNumThreads: 1, executionMode: "sequential", graphOptimizationLevel: "all" };
const session = async (file) => ort.InferenceSession.create(await bundle.read(file), options);

async function open(runtime, fast) {
  if (runtime === "onnxruntime-node") {
    const tail = fast ? await session(ONNX_TAIL) : null;
    return new OnnxRuntime(ort, await session(ONNX), bundle.config.max_length, "onnxruntime-node", tail);
  }
  if (runtime === "tfjs-node-wasm") return openRuntime("tfjs-wasm", bundle, { fast });
  throw new Error(`no Node binding for ${runtime}`);
}

const reply = await comparePaths(spec, bundle.vocab, bundle.config, open, Generator);
process.stdout.write(JSON.stringify(reply));
process.exit(0); // wasm worker threads would otherwise keep the process alive
