#!/usr/bin/env node
// Generate text from a bundle in Node with the page's own modules.  `node src/cli.mjs --help` says how.
// Errors a user can cause: one line on stderr, exit status 2.

import { ONNX, TFJS_MODEL } from "./contract/bundle.js";
import { Generator } from "./sampling/generator.js";
import { RUNTIMES, openDir, openRuntime } from "./runtime/node.js";
import { ONNX_CONTEXT, TFJS_CONTEXT } from "./contract/bundle.js";
import { checkContext } from "./contract/labels.js";
import { describeCheck, readProbe, selfCheck } from "./runtime/self_check.js";
import { UsageError, forTerminal, integer, runMain } from "./cli_common.js";

const USAGE = `usage: node src/cli.mjs BUNDLE [options]

Generate text from an exported bundle (textgen-export export MODEL --out BUNDLE --onnx --tfjs) in Node,
with the same modules the web page uses. Seeded output equals Python's. The options are
\`textgen-export generate\`'s, written the same way.

options:
  --bundle DIR           the bundle folder (or give it as BUNDLE)
  --runtime R            ${RUNTIMES.join(", ")} (default tfjs-cpu)
  --seed S               seed for reproducible sampling (an integer; default random)
  --prefix P             text to start from
  --max-length N         maximum tokens per text, counting the start token (default 300)
  --temperature T [T ...]  temperature, or several that cycle per token (default 0.5; 0 = greedy);
                         a comma list such as 1.0,0.5 works too
  -n N, --n N            number of texts (default 1)
  --context L [L ...]    generate for this context label, or several (a bundle of a model trained with --context)
  --json                 print each text JSON-escaped (one per line)
  --check                instead of generating, check the runtime against the bundle's float64 reference
                         (parity/probe.json) and print one line; exit status 1 if it differs
  -h, --help             show this help

example:
  node src/cli.mjs bundle/ --runtime onnx --seed 7 --prefix "The " --temperature 1.0 0.5 0.2`;

// Python's argparse grammar: "--flag value" or "--flag=value"; a value may be a negative number; --temperature
// takes one or more values (more only while they are numbers, so "--temperature 0.5 bundle/" still works);
// --context takes one or more labels (every word up to the next option, as argparse's nargs="+").
const VALUED = { "--runtime": "runtime", "--seed": "seed", "--prefix": "prefix", "--max-length": "max-length", "--temperature": "temperature", "-n": "n", "--n": "n", "--bundle": "bundle", "--context": "context" };
const SWITCHES = { "--json": "json", "--check": "check", "-h": "help", "--help": "help" };
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$|^[-+]?(inf|infinity|nan)$/i;
// Messages of the shared modules name their keyword; this CLI names the flag.
const FLAGS = [["n (number of texts)", "-n"], ["max_gen_length", "--max-length"], ["temperature", "--temperature"], ["seed", "--seed"], ["prefix", "--prefix"]];

function readArgs(argv) {
  const values = { runtime: "tfjs-cpu", prefix: "", "max-length": "300", temperature: ["0.5"], n: "1", json: false, help: false };
  const spelled = { n: "-n" }; // each option as the user wrote it, for the messages
  const positionals = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (flag in SWITCHES && eq < 0) {
      values[SWITCHES[flag]] = true;
    } else if (flag in VALUED) {
      const name = VALUED[flag];
      spelled[name] = flag;
      const given = eq > 0 ? [arg.slice(eq + 1)] : [];
      if (!given.length) {
        if (i + 1 >= argv.length || (argv[i + 1].startsWith("-") && !NUMBER.test(argv[i + 1]))) {
          throw new UsageError(`argument ${flag}: expected ${name === "temperature" || name === "context" ? "at least one" : "one"} value`);
        }
        given.push(argv[++i]);
      }
      if (name === "temperature") {
        while (eq < 0 && i + 1 < argv.length && NUMBER.test(argv[i + 1])) given.push(argv[++i]);
        values.temperature = given.flatMap((t) => t.split(","));
      } else if (name === "context") {
        while (eq < 0 && i + 1 < argv.length && !argv[i + 1].startsWith("-")) given.push(argv[++i]);
        values.context = given;
      } else {
        values[name] = given[0];
      }
    } else if (arg.startsWith("-") && arg !== "-" && !NUMBER.test(arg)) {
      throw new UsageError(`Unknown option '${arg}'`);
    } else {
      positionals.push(arg);
    }
  }
  return { values, positionals, spelled };
}

function parse(argv) {
  const { values, positionals, spelled } = readArgs(argv);
  const labels = values.context ?? [];
  if (values.help) return { help: true };
  const bundles = [...positionals, ...(values.bundle === undefined ? [] : [values.bundle])];
  if (bundles.length !== 1) {
    const what = bundles.length ? `got ${bundles.map((b) => JSON.stringify(b)).join(", ")}` : "got none";
    throw new UsageError(`give exactly one BUNDLE folder (${what})`);
  }
  if (!RUNTIMES.includes(values.runtime)) {
    throw new UsageError(`--runtime must be one of ${RUNTIMES.join(", ")}, got ${JSON.stringify(values.runtime)}`);
  }
  const temperature = values.temperature.map((t) => {
    const value = t.trim() === "" ? NaN : Number(t);
    if (!Number.isFinite(value)) throw new UsageError(`--temperature must be numbers such as 0.5 or 1.0 0.5 0.2, got ${JSON.stringify(values.temperature.join(" "))}`);
    return value;
  });
  return {
    bundle: bundles[0],
    runtime: values.runtime,
    json: values.json,
    check: values.check,
    options: {
      n: integer(spelled.n, values.n, 1),
      prefix: values.prefix || null,
      maxGenLength: integer("--max-length", values["max-length"], 1),
      temperature,
      seed: values.seed === undefined ? null : integer("--seed", values.seed),
      context: labels.length ? labels : null,
    },
  };
}

/** A shared module's message in this CLI's words: "max_gen_length must be…" → "--max-length must be…". */
function inFlags(message) {
  for (const [keyword, flag] of FLAGS) {
    if (message.startsWith(keyword + " ")) return flag + message.slice(keyword.length);
  }
  return message;
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
  const [file, flag, what] = args.runtime.startsWith("tfjs-") ? [TFJS_MODEL, "--tfjs", "TF.js"] : [ONNX, "--onnx", "ONNX"];
  if (!bundle.has(file)) throw new Error(`bundle ${args.bundle} has no ${what} model for --runtime ${args.runtime}; export with ${flag}`);
  const head = args.options.context !== null;
  checkContext(bundle.labels, args.options.context); // an unknown label fails before any model loads
  const headFile = args.runtime.startsWith("tfjs-") ? TFJS_CONTEXT : ONNX_CONTEXT;
  if (head && !bundle.has(headFile)) throw new Error(`bundle ${args.bundle} has no ${headFile} (its context head for --runtime ${args.runtime}); re-export it`);
  const runtime = await openRuntime(args.runtime, bundle, { head });
  if (args.check) return check(runtime, bundle, args.bundle);
  const generator = new Generator(runtime, bundle.vocab, bundle.config, bundle.labels);
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

await runMain(main, inFlags);
