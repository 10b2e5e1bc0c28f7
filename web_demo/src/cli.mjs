#!/usr/bin/env node
// Generate text from a bundle in Node with the page's own modules:
//   node src/cli.mjs BUNDLE [--runtime tfjs-cpu|tfjs-wasm|onnx|onnx-web] [--seed S] [--prefix P]
//                           [--max-length N] [--temperature T[,T...]] [--n N]
// Prints the texts, one per line (JSON-escaped with --json).

import { parseArgs } from "node:util";
import { Generator } from "./sampling/generator.js";
import { openDir, openRuntime } from "./runtime/node.js";

const USAGE = `usage: node src/cli.mjs BUNDLE [--runtime tfjs-cpu|tfjs-wasm|onnx|onnx-web] [--seed S] [--prefix P]
                        [--max-length N] [--temperature T[,T...]] [--n N] [--json]`;

const OPTIONS = {
  runtime: { type: "string", default: "tfjs-cpu" },
  seed: { type: "string" },
  prefix: { type: "string", default: "" },
  "max-length": { type: "string", default: "300" },
  temperature: { type: "string", default: "0.5" },
  n: { type: "string", default: "1" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
};

/** Control characters written to a terminal could forge output: escape them there (files get the exact text). */
function forTerminal(text) {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) =>
    `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function count(name, text, low) {
  const value = Number(text);
  if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(value) || value < low) {
    throw new Error(`--${name} must be an integer of at least ${low}, got ${JSON.stringify(text)}`);
  }
  return value;
}

try {
  let parsed;
  try {
    parsed = parseArgs({ allowPositionals: true, options: OPTIONS });
  } catch (err) {
    throw new Error(`${err.message.split("\n")[0]} (see --help)`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    process.exit(0);
  }
  if (positionals.length !== 1) throw new Error("give exactly one BUNDLE folder (see --help)");
  if (values.seed !== undefined && !/^-?[0-9]+$/.test(values.seed)) throw new Error(`--seed must be an integer, got ${JSON.stringify(values.seed)}`);
  const temperature = values.temperature.split(",").map(Number);
  if (temperature.some((t) => !Number.isFinite(t) || t < 0)) throw new Error(`--temperature must be numbers of at least 0, got ${JSON.stringify(values.temperature)}`);
  const n = count("n", values.n, 1);
  const maxGenLength = count("max-length", values["max-length"], 1);
  const bundle = await openDir(positionals[0]);
  const runtime = await openRuntime(values.runtime, bundle);
  const generator = new Generator(runtime, bundle.vocab, bundle.config);
  const texts = await generator.generate({
    n,
    prefix: values.prefix || null,
    maxGenLength,
    temperature,
    seed: values.seed === undefined ? null : BigInt(values.seed),
  });
  const show = values.json ? JSON.stringify : process.stdout.isTTY ? forTerminal : (t) => t;
  for (const text of texts) process.stdout.write(show(text) + "\n");
} catch (err) {
  process.stderr.write(`error: ${forTerminal(String(err?.message ?? err)).split("\n")[0]}\n`);
  process.exit(2);
}
