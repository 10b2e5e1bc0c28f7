// Driven by benchmarks/web_page.py (the suite's web scenario): chars/s of one runtime in Node, with the page's own sampler.
//   node test/speed.mjs BUNDLE RUNTIME N MIN_CHARS MAX_SECONDS
// Generates n texts per run (seeds 1, 2, ...) after one warm-up run until MIN_CHARS visible characters or
// MAX_SECONDS; prints {"runtime", "n", "chars", "seconds", "runs"}.

import { Generator } from "../src/sampling/generator.js";
import { openDir, openRuntime } from "../src/runtime/node.js";

const [dir, name, nText, minCharsText, maxSecondsText] = process.argv.slice(2);
const n = Number(nText);
const bundle = await openDir(dir);
const runtime = await openRuntime(name, bundle);
const generator = new Generator(runtime, bundle.vocab, bundle.config);
const options = (seed) => ({ n, temperature: 0.5, maxGenLength: 300, seed });
await generator.generate({ ...options(0), maxGenLength: 20 }); // warm-up: kernels compiled, caches filled
let chars = 0;
let runs = 0;
const started = performance.now();
while (chars < Number(minCharsText) && performance.now() - started < 1000 * Number(maxSecondsText)) {
  runs += 1;
  for (const text of await generator.generate(options(runs))) chars += text.length;
}
const seconds = (performance.now() - started) / 1000;
process.stdout.write(JSON.stringify({ runtime: runtime.name, n, chars, seconds, runs }));
