#!/usr/bin/env node
// Generate text from a bundle in Node with the page's own modules.  `node src/cli.mjs --help` says how.
// Errors a user can cause: one line on stderr, exit status 2.

import { parseArgs } from "node:util";
import { Generator } from "./sampling/generator.js";
import { RUNTIMES, openDir, openRuntime } from "./runtime/node.js";
import { describeCheck, readProbe, selfCheck } from "./runtime/self_check.js";

const USAGE = `usage: node src/cli.mjs BUNDLE [options]

Generate text from an exported bundle (textgen-export export MODEL --out BUNDLE --onnx --tfjs) in Node,
with the same modules the web page uses. Seeded output equals Python's.

options:
  --runtime R          ${RUNTIMES.join(", ")} (default tfjs-cpu)
  --seed S             seed for reproducible sampling (an integer; default random)
  --prefix P           text to start from
  --max-length N       maximum tokens per text, counting the start token (default 300)
  --temperature T[,T]  temperature, or a list that cycles per token (default 0.5; 0 = greedy)
  --n N                number of texts (default 1)
  --json               print each text JSON-escaped (one per line)
  --check              instead of generating, check the runtime against the bundle's float64 reference
                       (parity/probe.json) and print one line; exit status 1 if it differs
  -h, --help           show this help

example:
  node src/cli.mjs bundle/ --runtime onnx --seed 7 --prefix "The " --temperature 0.5`;

const OPTIONS = {
  runtime: { type: "string", default: "tfjs-cpu" },
  seed: { type: "string" },
  prefix: { type: "string", default: "" },
  "max-length": { type: "string", default: "300" },
  temperature: { type: "string", default: "0.5" },
  n: { type: "string", default: "1" },
  json: { type: "boolean", default: false },
  check: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
};

class UsageError extends Error {}

/** Control characters written to a terminal could forge output: escape them there (files get the exact text). */
function forTerminal(text) {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) =>
    `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function integer(name, text, low = null) {
  const ok = /^-?\d+$/.test(text.trim()) && (low === null || (Number.isSafeInteger(Number(text)) && Number(text) >= low));
  if (!ok) {
    const atLeast = low === null ? "" : ` of at least ${low}`;
    throw new UsageError(`--${name} must be an integer${atLeast}, got ${JSON.stringify(text)}`);
  }
  return name === "seed" ? BigInt(text.trim()) : Number(text);
}

function parse(argv) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (err) {
    throw new UsageError(err.message.split("\n")[0].replace(/\. To specify a positional.*$/, ""));
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true };
  if (positionals.length !== 1) throw new UsageError("give exactly one BUNDLE folder");
  if (!RUNTIMES.includes(values.runtime)) {
    throw new UsageError(`--runtime must be one of ${RUNTIMES.join(", ")}, got ${JSON.stringify(values.runtime)}`);
  }
  const temperature = values.temperature.split(",").map((t) => {
    const value = t.trim() === "" ? NaN : Number(t);
    if (!Number.isFinite(value)) throw new UsageError(`--temperature must be numbers such as 0.5 or 0.2,1.0, got ${JSON.stringify(values.temperature)}`);
    return value;
  });
  return {
    bundle: positionals[0],
    runtime: values.runtime,
    json: values.json,
    check: values.check,
    options: {
      n: integer("n", values.n, 1),
      prefix: values.prefix || null,
      maxGenLength: integer("max-length", values["max-length"], 1),
      temperature,
      seed: values.seed === undefined ? null : integer("seed", values.seed),
    },
  };
}

async function main(argv) {
  const args = parse(argv);
  if (args.help) {
    process.stdout.write(USAGE + "\n");
    return;
  }
  if (args.runtime.startsWith("tfjs-")) {
    // TF.js's cpu backend prints an "install tfjs-node" banner on first use; this CLI chose its runtime on purpose.
    const tf = await import("@tensorflow/tfjs");
    tf.env().set("PROD", true);
  }
  const bundle = await openDir(args.bundle);
  const [file, flag, what] = args.runtime.startsWith("tfjs-") ? ["tfjs/model.json", "--tfjs", "TF.js"] : ["model.onnx", "--onnx", "ONNX"];
  if (!bundle.has(file)) throw new Error(`bundle ${args.bundle} has no ${what} model for --runtime ${args.runtime}; export with ${flag}`);
  const runtime = await openRuntime(args.runtime, bundle);
  if (args.check) return check(runtime, bundle, args.bundle);
  const generator = new Generator(runtime, bundle.vocab, bundle.config);
  const texts = await generator.generate(args.options);
  const show = args.json ? JSON.stringify : process.stdout.isTTY ? forTerminal : (t) => t;
  for (const text of texts) process.stdout.write(show(text) + "\n");
}

/** The runtime on the bundle's probe: one line on stdout; exit status 1 when it is not faithful. */
async function check(runtime, bundle, dir) {
  const probe = await readProbe(bundle);
  if (probe === null) throw new Error(`bundle ${dir} has no parity/probe.json to check against; re-export it`);
  const result = await selfCheck(runtime, probe);
  process.stdout.write(describeCheck(runtime.name, result) + "\n");
  if (!result.passed) process.exitCode = 1;
}

try {
  await main(process.argv.slice(2));
} catch (err) {
  const hint = err instanceof UsageError ? " (see --help)" : "";
  process.stderr.write(`error: ${forTerminal(String(err?.message ?? err)).split("\n")[0]}${hint}\n`);
  process.exit(2);
}
