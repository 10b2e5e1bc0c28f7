// Choosing a runtime by measuring it on the reader's device: each candidate is opened, checked against the
// bundle's float64 reference (self_check.js) and, if it passes, timed; the fastest passing one wins.
//   cold start: open (download + compile the runtime, load the model) until the first call has answered
//   steady: visible characters per second (code points) generating one text after that, seeded
// A runtime that fails its check, or cannot open here, is never chosen.

import { Generator } from "../sampling/generator.js";
import { selfCheck } from "./self_check.js";

// Steady speed: texts of this many tokens, seeds 1, 2, ..., until STEADY_MS have passed (at least one text).
export const STEADY_TOKENS = 40;
export const STEADY_MS = 400;

/** Characters as a reader counts them (and Python's len): code points, not UTF-16 units. */
export function countChars(text) {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** Visible characters per second of `adapter` generating at temperature 0.5, batch 1. */
export async function steadySpeed(adapter, bundle) {
  const generator = new Generator(adapter, bundle.vocab, bundle.config);
  let chars = 0;
  let seed = 0;
  const started = performance.now();
  do {
    seed += 1;
    const [text] = await generator.generate({ n: 1, temperature: 0.5, maxGenLength: STEADY_TOKENS, seed });
    chars += countChars(text);
  } while (performance.now() - started < STEADY_MS);
  const seconds = (performance.now() - started) / 1000;
  return { chars, seconds, charsPerSecond: chars / seconds };
}

// Candidates are measured CPU-side first: a GPU runtime that is too slow here (a software renderer) may keep the
// GPU busy after its limit, which must not slow the others' figures.
export const MEASURE_ORDER = ["onnx-wasm", "tfjs-wasm", "tfjs-cpu", "tfjs-webgl", "tfjs-webgpu", "onnx-webgpu"];
// A runtime that cannot open, pass its check and generate one short text within this is too slow to offer here.
export const LIMIT_MS = 20000;

export class TooSlow extends Error {
  constructor(message) {
    super(message);
    this.name = "TooSlow";
  }
}

/**
 * Open, check and (if it passes) time runtime `name`.  `open(name)` returns an adapter; the adapter is
 * disposed once its work has ended.  Returns {name, passed, check, coldMs, steady}, or {name, passed: false,
 * error} if it cannot open or run here, or needs more than `limitMs`.
 */
export async function measure(name, { open, bundle, probe, limitMs = LIMIT_MS }) {
  const started = performance.now();
  let adapter = null;
  const found = { name, passed: false, check: null, coldMs: null, steady: null };
  const work = (async () => {
    adapter = await open(name);
    found.check = await selfCheck(adapter, probe, { onFirstCall: () => (found.coldMs = performance.now() - started) });
    found.passed = found.check.passed;
    if (found.passed) found.steady = await steadySpeed(adapter, bundle);
    return found;
  })();
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new TooSlow(`too slow on this device: no answer within ${limitMs / 1000} s`)), limitMs);
  });
  try {
    return await Promise.race([work, limit]);
  } catch (err) {
    // Checked in time but too slow to time: it stays selectable (never the default); otherwise it is off.
    if (err instanceof TooSlow && found.check) return { ...found, slow: err.message };
    return { ...found, passed: false, error: err };
  } finally {
    clearTimeout(timer);
    work.catch(() => {}).finally(() => {
      try {
        adapter?.dispose();
      } catch {
        // a runtime that failed half-way may not dispose cleanly; it is not used again
      }
    });
  }
}

/** The passing measurement with the highest steady speed (ties: the earlier candidate), or null. */
export function fastest(results) {
  let best = null;
  for (const r of results) {
    if (r.passed && r.steady && (!best || r.steady.charsPerSecond > best.steady.charsPerSecond)) best = r;
  }
  return best;
}
