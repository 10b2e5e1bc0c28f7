// Times one Node runtime's next-token call on a bundle, for `textgen-export bench BUNDLE`:
//   node src/bench.mjs BUNDLE RUNTIME BATCHES BUDGET      BATCHES "1,8,64"; BUDGET the JSON of speed.py's Budget
// Prints {"runtime", "cells": [{"batch", "seconds": [one per timed call]}]}; a failure is one line on stderr, exit 1.

import { openDir, openRuntime } from "./runtime/node.js";
import { callSeconds } from "./timing.js";

const [dir, name, batchesText, budgetText] = process.argv.slice(2);
try {
  const bundle = await openDir(dir);
  const runtime = await openRuntime(name, bundle);
  const { max_length: length } = bundle.config;
  const classes = bundle.vocab.numClasses;
  const cells = [];
  for (const batch of batchesText.split(",").map(Number)) {
    const windows = Int32Array.from({ length: batch * length }, () => 1 + Math.floor(Math.random() * (classes - 1)));
    cells.push({ batch, seconds: await callSeconds(() => runtime.probs(windows, batch), JSON.parse(budgetText)) });
  }
  // exit once written: wasm/ORT worker threads would otherwise keep the process alive
  process.stdout.write(JSON.stringify({ runtime: name, cells }), () => process.exit(0));
} catch (error) {
  process.stderr.write(`${String(error?.message ?? error).split("\n")[0]}\n`);
  process.exit(1);
}
