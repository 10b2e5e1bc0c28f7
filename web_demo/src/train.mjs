#!/usr/bin/env node
// Fine-tune a bundle's TF.js model on a text file in Node, with the page's own training module
// (training/fine_tune.js).  `node src/train.mjs --help` says how.  Errors a user can cause: one line on stderr,
// exit status 2.

import { readFile } from "node:fs/promises";
import { TFJS_MODEL } from "./contract/bundle.js";
import { UsageError, integer, runMain } from "./cli_common.js";
import { openDir } from "./runtime/node.js";
import { openTfjs, setBackend } from "./runtime/tfjs.js";
import { fineTune, prepareTraining } from "./training/fine_tune.js";
import { sourceOf, trainedFiles } from "./training/trained_bundle.js";
import { checkOut, writeTrained } from "./training/out_dir.js";

const BACKENDS = ["wasm", "cpu"];
const USAGE = `usage: node src/train.mjs BUNDLE CORPUS --out DIR [options]

Fine-tune an exported bundle's TF.js model (textgen-export export MODEL --out BUNDLE --tfjs) on CORPUS, a UTF-8
text file with one training text per line, as \`textgen-export train CORPUS\` does: the same windows, split,
batch order (for the same --seed), optimiser and schedule. DIR receives the trained model (TF.js files, vocab,
config and a manifest marking it as trained in Node and not yet validated); turn it into a full bundle with
\`textgen-export export DIR --onnx --tfjs\`.

options:
  --out DIR           the folder to write (new or empty, or one this command wrote before, which is replaced)
  --steps N           each epoch is N batches, the data repeating (train's --steps-per-epoch); default one pass
  --epochs E          epochs (default 1); the learning rate decays linearly per epoch
  --batch-size B      pairs per batch (default 128)
  --train-size F      fraction to train on; the rest measures the validation loss (default 1: none)
  --seed S            seed of the split and the batch order (an integer; default random)
  --header            skip CORPUS's first line
  --largetext         CORPUS is one long text (single_text mode)
  --backend B         TF.js backend: ${BACKENDS.join(", ")} (default wasm)
  -h, --help          show this help

example:
  node src/train.mjs bundle/ corpus.txt --steps 200 --batch-size 64 --train-size 0.9 --seed 7 --out trained/`;

const VALUED = ["--out", "--steps", "--epochs", "--batch-size", "--train-size", "--seed", "--backend"];
const SWITCHES = ["--header", "--largetext", "-h", "--help"];

function parse(argv) {
  const values = {};
  const positionals = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (SWITCHES.includes(flag) && eq < 0) {
      values[flag === "-h" ? "--help" : flag] = true;
    } else if (VALUED.includes(flag)) {
      if (eq < 0 && (i + 1 >= argv.length || (argv[i + 1].startsWith("-") && !/^-\d/.test(argv[i + 1])))) {
        throw new UsageError(`argument ${flag}: expected one value`);
      }
      values[flag] = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    } else if (arg.startsWith("-") && arg !== "-") {
      throw new UsageError(`Unknown option '${arg}'`);
    } else {
      positionals.push(arg);
    }
  }
  if (values["--help"]) return { help: true };
  if (positionals.length !== 2) {
    throw new UsageError(`give BUNDLE and CORPUS (got ${positionals.length ? positionals.map((p) => JSON.stringify(p)).join(", ") : "none"})`);
  }
  if (values["--out"] === undefined || values["--out"] === "") throw new UsageError("give --out DIR, the folder to write the trained model to");
  const backend = values["--backend"] ?? "wasm";
  if (!BACKENDS.includes(backend)) throw new UsageError(`--backend must be one of ${BACKENDS.join(", ")}, got ${JSON.stringify(backend)}`);
  const trainSize = values["--train-size"] === undefined ? 1 : Number(values["--train-size"]);
  if (!(values["--train-size"] === undefined || (values["--train-size"].trim() !== "" && trainSize > 0 && trainSize <= 1))) {
    throw new UsageError(`--train-size must be in (0, 1], got ${JSON.stringify(values["--train-size"])} (e.g. 0.9 holds out 10%)`);
  }
  return {
    bundle: positionals[0],
    corpus: positionals[1],
    out: values["--out"],
    steps: values["--steps"] === undefined ? null : integer("--steps", values["--steps"], 1),
    epochs: values["--epochs"] === undefined ? 1 : integer("--epochs", values["--epochs"], 1),
    batchSize: values["--batch-size"] === undefined ? 128 : integer("--batch-size", values["--batch-size"], 1),
    trainSize,
    seed: values["--seed"] === undefined ? null : integer("--seed", values["--seed"]),
    header: Boolean(values["--header"]),
    largetext: Boolean(values["--largetext"]),
    backend,
  };
}

async function readCorpus(path) {
  let bytes;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const why = err.code === "ENOENT" ? "not found" : err.code === "EISDIR" ? "is a directory; give a text file" : `cannot be read (${err.code ?? err.message})`;
    throw new Error(`training file ${JSON.stringify(path)} ${why}`);
  }
  if (!bytes.length) throw new Error(`training file ${JSON.stringify(path)} is empty; give a file with some text`);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new Error(`training file ${JSON.stringify(path)} is not UTF-8 text; give a UTF-8 text file (convert with e.g. iconv -t UTF-8)`);
  }
}

function nats(x) {
  return x === null ? "n/a" : x.toFixed(4);
}

async function main(argv) {
  const args = parse(argv);
  if (args.help) {
    process.stdout.write(USAGE + "\n");
    return;
  }
  await checkOut(args.out); // a folder that is not ours is refused before anything is read or trained
  const bundle = await openDir(args.bundle);
  if (!bundle.has(TFJS_MODEL)) throw new Error(`bundle ${args.bundle} has no TF.js model to train; export it with --tfjs`);
  const text = await readCorpus(args.corpus);
  const prepared = prepareTraining({
    vocabulary: bundle.vocab,
    config: bundle.config,
    text,
    trainSize: args.trainSize,
    seed: args.seed,
    singleText: args.largetext ? true : undefined,
    batchSize: args.batchSize,
    header: args.header,
  });
  const tf = await import("@tensorflow/tfjs");
  tf.env().set("PROD", true); // no "install tfjs-node" banner: the backend is chosen on purpose
  if (args.backend === "wasm") await import("@tensorflow/tfjs-backend-wasm");
  await setBackend(tf, args.backend);
  const { model } = await openTfjs(tf, bundle);
  const say = (line) => process.stdout.write(line + "\n");
  say(`${prepared.train.length} training sequences, ${prepared.validation.length} held out; TF.js ${args.backend}`);
  const result = await fineTune(tf, model, prepared, {
    steps: args.steps,
    epochs: args.epochs,
    batchSize: args.batchSize,
    onProgress: (p) => {
      if (p.step === 0 && p.validationLoss !== null) say(`before training: validation loss ${nats(p.validationLoss)}`);
      if (p.epochDone) {
        say(`epoch ${p.epoch}/${p.epochs}: loss ${nats(p.loss)}, validation loss ${nats(p.validationLoss)}, ${p.windowsPerSecond.toFixed(1)} windows/s`);
      }
    },
  });
  const files = await trainedFiles(model, await sourceOf(bundle), result, {
    trainedIn: "node",
    steps: args.steps,
    epochs: args.epochs,
    batchSize: args.batchSize,
    trainSize: args.trainSize,
    seed: prepared.seed,
  });
  await writeTrained(args.out, files);
  say(`wrote ${args.out}: ${result.stepsDone} steps, validation loss ${nats(result.validationLoss)} (nats per token); ` +
    `not validated yet: textgen-export export ${shellWord(args.out)} --onnx --tfjs`);
}

await runMain(main);

/** `path` as one shell word, so the printed next command can be pasted as it is (a folder name with a space). */
function shellWord(path) {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replaceAll("'", "'\\''")}'`;
}
