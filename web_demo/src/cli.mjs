#!/usr/bin/env node
// Generate text from a bundle in Node with the page's own modules:
//   node src/cli.mjs BUNDLE [--runtime tfjs-cpu|tfjs-wasm|onnx|onnx-web] [--seed S] [--prefix P]
//                           [--max-length N] [--temperature T[,T...]] [--n N]
// Prints the texts, one per line (JSON-escaped with --json).

import { parseArgs } from "node:util";
import { Generator } from "./sampling/generator.js";
import { openDir, openRuntime } from "./runtime/node.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runtime: { type: "string", default: "tfjs-cpu" },
    seed: { type: "string" },
    prefix: { type: "string", default: "" },
    "max-length": { type: "string", default: "300" },
    temperature: { type: "string", default: "0.5" },
    n: { type: "string", default: "1" },
    json: { type: "boolean", default: false },
  },
});

try {
  if (positionals.length !== 1) throw new Error("give exactly one BUNDLE folder");
  const bundle = await openDir(positionals[0]);
  const runtime = await openRuntime(values.runtime, bundle);
  const generator = new Generator(runtime, bundle.vocab, bundle.config);
  const texts = await generator.generate({
    n: Number(values.n),
    prefix: values.prefix || null,
    maxGenLength: Number(values["max-length"]),
    temperature: values.temperature.split(",").map(Number),
    seed: values.seed === undefined ? null : BigInt(values.seed),
  });
  for (const text of texts) process.stdout.write((values.json ? JSON.stringify(text) : text) + "\n");
} catch (err) {
  process.stderr.write(`error: ${err.message}\n`);
  process.exit(2);
}
