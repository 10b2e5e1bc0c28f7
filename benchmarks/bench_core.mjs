// The timing rule (web_demo/src/timing.js, twin of textgen_export/runtime/speed.py) for the Node and Chromium
// runtimes, with median and p10/p90 as numpy computes them; plus the checks and the cells.
// Environment-free: node_bench.mjs and browser_bench.mjs pass in the adapter and the sampler; memory is
// sampled from Python (benchmarks/nodejs.py, browser.py).

import { callSeconds } from "../web_demo/src/timing.js";

const now = () => performance.now() / 1000;

export function percentile(sorted, q) {
  // numpy's default (linear interpolation between closest ranks)
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function summarize(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    median: percentile(sorted, 0.5),
    p10: percentile(sorted, 0.1),
    p90: percentile(sorted, 0.9),
    reps: sorted.length,
  };
}

export async function measure(call, budget) {
  return summarize(await callSeconds(call, budget));
}

export function flatWindows(rows, length) {
  const out = new Int32Array(rows.length * length);
  rows.forEach((row, i) => out.set(row, i * length));
  return out;
}

// job: see benchmarks/jsjob.py.  adapter: {probs(Int32Array, batch) -> Float32Array-like [B*V]}.
// generateE2E(adapter, n, options) -> {tokens, chars} and greedy(adapter) -> text: the web demo's sampler.
// generateE2E may be null (no JS sampler available): generation cells are then skipped with `noSampler` as the note.
export async function benchRuntime(job, row, { open, generateE2E, greedy, noSampler, log = () => {} }) {
  const length = job.config.max_length;
  const classes = job.num_classes;
  let t = now();
  const adapter = await open();
  row.load_s = now() - t;
  const first = flatWindows(job.windows["1"], length);
  t = now();
  await adapter.probs(first, 1);
  row.first_token_s = now() - t;
  const checks = await adapter.probs(flatWindows(job.check_windows, length), job.check_windows.length);
  row.probs = [];
  for (let i = 0; i < job.check_windows.length; i++) {
    row.probs.push(Array.from(checks.slice(i * classes, (i + 1) * classes)));
  }
  if (greedy) row.greedy_text = await greedy(adapter);
  else row.greedy_tokens = await greedyTokens(job, adapter);
  row.cells = [];
  const e2eOptions = { temperature: job.temperature, maxGenLength: job.gen_length, seed: job.seed };
  let previous = null; // [batch, seconds per call] of the last measured batch size
  for (const batch of job.batches) {
    // linear in batch, once calls are compute-bound (≥ 1 s): see slow_call in benchmarks/runtimes.py
    const estimate = previous && previous[1] >= 1 ? (previous[1] * batch) / previous[0] : 0;
    if (estimate > job.slow_call_s) {
      const note = `skipped: ≈${estimate.toFixed(0)} s per call (from B=${previous[0]})`;
      row.cells.push({ batch, mode: "call", tokens: 0, chars: 0, timing: null, note });
      row.cells.push({ batch, mode: "e2e", tokens: 0, chars: 0, timing: null, note });
      continue;
    }
    const windows = flatWindows(job.windows[String(batch)], length);
    const call = await measure(() => adapter.probs(windows, batch), job.budget);
    previous = [batch, call.median];
    row.cells.push({ batch, mode: "call", tokens: batch, chars: 0, timing: call });
    const generation = call.median * job.gen_length;
    if (!generateE2E || generation > job.e2e_max_s) {
      const note = generateE2E ? `skipped: ≈${generation.toFixed(0)} s per generation` : `skipped: ${noSampler}`;
      row.cells.push({ batch, mode: "e2e", tokens: 0, chars: 0, timing: null, note });
      continue;
    }
    const once = await generateE2E(adapter, batch, e2eOptions); // warm-up for this batch's shapes
    const e2e = await measure(() => generateE2E(adapter, batch, e2eOptions), job.e2e_budget);
    row.cells.push({ batch, mode: "e2e", tokens: once.tokens, chars: once.chars, timing: e2e });
    log(`B=${batch} call ${(batch / call.median).toFixed(0)} tok/s, e2e ${(once.tokens / e2e.median).toFixed(0)} tok/s`);
  }
  row.status = "ok";
  return row;
}

// Greedy tokens (temperature 0 = argmax, first index on ties: the sampling contract's T=0 rule) from the job's
// start tokens (`<s>` + prefix, as Python's Generator.start_tokens) until `<s>` or greedy_max_tokens tokens.
// Python turns them into text with Generator.finish_text (jsjob.py): one detokenizer for every runtime.
export async function greedyTokens(job, adapter) {
  const byIndex = new Map(Object.entries(job.vocab).map(([token, index]) => [index, token]));
  const length = job.config.max_length;
  const tokens = [...job.start_tokens];
  while (tokens.length < job.greedy_max_tokens) {
    const ids = tokens.slice(-length).map((t) => job.vocab[t] ?? 0);
    const window = new Int32Array(length);
    window.set(ids, length - ids.length);
    const probs = await adapter.probs(window, 1);
    let best = 0;
    for (let i = 1; i < job.num_classes; i++) if (probs[i] > probs[best]) best = i;
    const token = byIndex.get(best) ?? "";
    tokens.push(token);
    if (token === "<s>") break;
  }
  return tokens;
}

// The web demo's own sampler (web_demo/src/sampling/generator.js, the JS twin of sampling/generator.py) for the generation test
// and the greedy text; {generateE2E: null, greedy: null, noSampler: why} when it cannot be loaded.
export async function demoSampler(job) {
  let Generator, Vocabulary;
  try {
    ({ Generator } = await import("../web_demo/src/sampling/generator.js"));
    ({ Vocabulary } = await import("../web_demo/src/contract/vocabulary.js"));
  } catch (error) {
    const why = `the web demo's sampler (web_demo/src/sampling/generator.js) did not load: ${String(error?.message ?? error).slice(0, 120)}`;
    return { generateE2E: null, greedy: null, noSampler: why };
  }
  const vocab = new Vocabulary(job.vocab, job.config.word_level);
  const generateE2E = async (adapter, n, { temperature, maxGenLength, seed }) => {
    const generator = new Generator(adapter, vocab, job.config);
    const batch = generator.start({ n, temperature, maxGenLength, seed });
    let tokens = 0;
    while (batch.active.length) tokens += (await generator.advance(batch)).length;
    const chars = batch.rows.reduce((sum, row) => sum + generator.finishText(row.tokens).length, 0);
    return { tokens, chars };
  };
  const greedy = async (adapter) => {
    const generator = new Generator(adapter, vocab, job.config);
    const options = { n: 1, temperature: 0, prefix: job.prefix || null, maxGenLength: job.greedy_length };
    return (await generator.generate(options))[0];
  };
  return { generateE2E, greedy, noSampler: "" };
}

// The padding fast path section (benchmarks/fast_path.py): for each runtime of spec.runtimes, `open(runtime, fast)`
// gives its adapter on the full (fast = false) or the fast path; the same seeded generations run on both, in
// pairs whose order alternates, until spec.minTime and the minimum pairs.  A batch size whose generation would
// take longer than spec.maxGenerationS (the last one's time, scaled linearly with the batch) is skipped.  Returns {cells: [{runtime, threads, test, batch, tokens,
// times: {full, fast}, texts, same} or {..., note}]}.
export async function comparePaths(spec, vocab, config, open, Generator) {
  const now = () => performance.now() / 1000;
  const generate = async (adapter, n, maxGenLength) => {
    const generator = new Generator(adapter, vocab, config);
    const started = now();
    const batch = generator.start({ n, temperature: spec.temperature, maxGenLength, seed: BigInt(spec.seed) });
    let tokens = 0;
    while (batch.active.length) tokens += (await generator.advance(batch)).length;
    const seconds = now() - started;
    return { tokens, seconds, texts: batch.rows.map((row) => generator.finishText(row.tokens)) };
  };
  const cells = [];
  for (const runtime of spec.runtimes) {
    const adapters = { full: await open(runtime, false), fast: await open(runtime, true) };
    const threads = String(adapters.full.threads ?? 1);
    for (const [test, maxGenLength] of Object.entries(spec.tests)) {
      let previous = null; // [batch, seconds] of the last generation measured
      for (const batch of spec.batches) {
        const cell = { runtime, threads, test, batch };
        const estimate = previous ? (previous[1] * batch) / previous[0] : 0;
        if (estimate > spec.maxGenerationS) {
          cells.push({ ...cell, note: `skipped: ≈${estimate.toFixed(0)} s per generation (from B=${previous[0]})` });
          continue;
        }
        const full = await generate(adapters.full, batch, maxGenLength); // warm-up, and the texts to compare
        const fast = await generate(adapters.fast, batch, maxGenLength);
        const times = { full: [], fast: [] };
        const minPairs = batch === 1 ? spec.minPairsOneStream : spec.minPairs;
        let spent = 0;
        while (spent < spec.minTime || times.full.length < minPairs) {
          const order = times.full.length % 2 === 0 ? ["full", "fast"] : ["fast", "full"];
          for (const path of order) {
            const { seconds } = await generate(adapters[path], batch, maxGenLength);
            times[path].push(seconds);
            spent += seconds;
          }
        }
        const same = JSON.stringify(full.texts) === JSON.stringify(fast.texts);
        cells.push({ ...cell, tokens: full.tokens, times, texts: fast.texts, same });
        previous = [batch, Math.max(...times.full)];
      }
    }
    for (const adapter of Object.values(adapters)) adapter.dispose?.();
  }
  return { cells };
}
