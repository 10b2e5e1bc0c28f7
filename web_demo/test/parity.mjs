// Driven by tests/e2e/test_node_parity.py: run one runtime on one bundle and print JSON.
//   node test/parity.mjs BUNDLE RUNTIME SPEC.json
// SPEC: {"windows": [[int]], "context": [[float]] (optional: the context head, one label vector per window),
//        "jobs": [{n, temperature, prefix, maxGenLength, seed, context}] (jobs with `context` use the head),
//        "fast": true|false} (fast: false keeps the runtime off the padding fast path; with it, the windows are run
//        once per padding count, as the self-check runs them, so each reaches the fast path with its own padding)
// Output: {"runtime", "probs": [[float]], "attention": [[float]], "texts": [[str]], "streamed": [[str]]}

import { readFileSync } from "node:fs";
import { Generator } from "../src/sampling/generator.js";
import { openDir, openRuntime } from "../src/runtime/node.js";
import { byPadding } from "../src/runtime/padding.js";

const [dir, name, specPath] = process.argv.slice(2);
const spec = JSON.parse(readFileSync(specPath, "utf8"));
const bundle = await openDir(dir);
const runtime = await openRuntime(name, bundle, { fast: spec.fast ?? true });
let headRuntime = null;
const head = async () => (headRuntime ??= await openRuntime(name, bundle, { head: true }));
const L = bundle.config.max_length;
const out = { runtime: runtime.name, fast: Boolean(runtime.fast), probs: [], attention: [], texts: [], streamed: [] };
if (spec.windows.length) {
  const B = spec.windows.length;
  const windows = Int32Array.from(spec.windows.flat());
  const { probs, attention } = spec.context
    ? await (await head()).outputs(windows, B, Float32Array.from(spec.context.flat()))
    : runtime.fast
      ? await byPadding((w, b) => runtime.outputs(w, b), windows, B, L)
      : await runtime.outputs(windows, B);
  const V = probs.length / B;
  for (let b = 0; b < B; b++) {
    out.probs.push(Array.from(probs.subarray(b * V, (b + 1) * V)));
    out.attention.push(Array.from(attention.subarray(b * L, (b + 1) * L)));
  }
}
for (const job of spec.jobs) {
  const options = { ...job, seed: job.seed === null || job.seed === undefined ? null : BigInt(job.seed) };
  const generator = new Generator(job.context ? await head() : runtime, bundle.vocab, bundle.config, bundle.labels);
  out.texts.push(await generator.generate(options));
  if (job.stream) {
    const pieces = Array.from({ length: job.n ?? 1 }, () => "");
    for await (const [i, piece] of generator.stream(options)) pieces[i] += piece;
    out.streamed.push(pieces);
  }
}
process.stdout.write(JSON.stringify(out));
