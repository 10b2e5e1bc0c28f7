// Node half of benchmarks/fast_path.py: onnxruntime-node (one intra-op thread, as the Python rows), full path vs
// the padding fast path, through the page's own adapter and generation loop.  Prints one JSON object.
//   node benchmarks/fast_path.mjs SPEC.json     SPEC: {bundle, batches, scenarios: {name: maxGenLength},
//                                                      temperature, seed, minTime}
import { readFileSync } from "node:fs";

const spec = JSON.parse(readFileSync(process.argv[2], "utf8"));
const { openDir } = await import("../web_demo/src/runtime/node.js");
const { OnnxRuntime } = await import("../web_demo/src/runtime/onnx.js");
const { Generator } = await import("../web_demo/src/sampling/generator.js");
const ortModule = await import("../web_demo/node_modules/onnxruntime-node/dist/index.js");
const ort = ortModule.default ?? ortModule;

const bundle = await openDir(spec.bundle);
const options = { executionProviders: ["cpu"], intraOpNumThreads: 1, executionMode: "sequential", graphOptimizationLevel: "all" };
const session = async (file) => ort.InferenceSession.create(await bundle.read(file), options);
const L = bundle.config.max_length;
const adapters = {
  full: new OnnxRuntime(ort, await session("model.onnx"), L, "onnxruntime-node"),
  fast: new OnnxRuntime(ort, await session("model.onnx"), L, "onnxruntime-node", await session("model_tail.onnx")),
};

async function generate(path, batch, maxGenLength) {
  const generator = new Generator(adapters[path], bundle.vocab, bundle.config);
  const start = performance.now();
  const texts = await generator.generate({ n: batch, temperature: spec.temperature, maxGenLength, seed: BigInt(spec.seed) });
  return { texts, seconds: (performance.now() - start) / 1000 };
}

const cells = [];
for (const [scenario, maxGenLength] of Object.entries(spec.scenarios)) {
  for (const batch of spec.batches) {
    const full = await generate("full", batch, maxGenLength); // warm-up, and the texts to compare
    const fast = await generate("fast", batch, maxGenLength);
    const times = { full: [], fast: [] };
    let spent = 0;
    while (spent < spec.minTime || times.full.length < 3) {
      for (const path of ["full", "fast"]) {
        const { seconds } = await generate(path, batch, maxGenLength);
        times[path].push(seconds);
        spent += seconds;
      }
    }
    cells.push({ scenario, batch, times, texts: fast.texts, same: JSON.stringify(full.texts) === JSON.stringify(fast.texts) });
  }
}
process.stdout.write(JSON.stringify({ runtime: "onnxruntime-node", threads: 1, cells }));
