// The bundle's parity check run by a JS runtime on the device in front of it: twin of compare() and
// greedy_check() in textgen_export/export/validate.py, used by the page and the Node CLI (--check).
//
// parity/probe.json holds the probe windows, the float64 reference (probabilities and attention) on them, the
// tolerance derived at export and the reference's greedy path.  A runtime passes when
//   max |runtime − float64| ≤ tolerance, on probabilities and on attention, and
//   its greedy pick on every window of the reference's greedy path is the reference's, unless the reference's
//   two leading tokens are within 2 × tolerance of each other (a tie float32 cannot resolve).
// NaN counts as the worst possible difference.

import { BundleError, PROBE } from "../contract/bundle.js";
import { byPadding } from "./padding.js";

function flatInts(rows, width, what) {
  if (!Array.isArray(rows) || rows.some((r) => !Array.isArray(r) || r.length !== width)) {
    throw new BundleError(`${PROBE}: "${what}" is not a list of ${width}-long rows; re-export the bundle`);
  }
  return Int32Array.from(rows.flat());
}

function flatFloats(rows, count, width, what) {
  if (!Array.isArray(rows) || rows.length !== count || rows.some((r) => !Array.isArray(r) || r.length !== width)) {
    throw new BundleError(`${PROBE}: "${what}" should be ${count} rows of ${width}; re-export the bundle`);
  }
  return Float64Array.from(rows.flat());
}

/** The bundle's probe, validated against its config and vocabulary; null when the bundle has none. */
export async function readProbe(bundle) {
  if (!bundle.has(PROBE)) return null;
  const data = await bundle.readJson(PROBE);
  const L = bundle.config.max_length;
  const V = bundle.vocab.numClasses;
  const g = data?.greedy;
  const tolerance = data?.tolerance;
  if (!g || typeof tolerance !== "number" || !(tolerance > 0) || !Array.isArray(g.best)) {
    throw new BundleError(`${PROBE}: malformed or from an older version; re-export the bundle`);
  }
  const windows = flatInts(data.windows, L, "windows");
  const rows = windows.length / L;
  const greedyWindows = flatInts(g.windows, L, "greedy.windows");
  const steps = greedyWindows.length / L;
  if (g.runner_up?.length !== steps || g.best.length !== steps || g.margin?.length !== steps) {
    throw new BundleError(`${PROBE}: the greedy path's arrays disagree in length; re-export the bundle`);
  }
  for (const w of [windows, greedyWindows]) {
    if (w.some((i) => i < 0 || i >= V)) throw new BundleError(`${PROBE}: probe windows hold indices outside the vocabulary`);
  }
  return {
    windows,
    rows,
    probs: flatFloats(data.probs, rows, V, "probs"),
    attention: flatFloats(data.attention, rows, L, "attention"),
    tolerance,
    rule: String(data.tolerance_rule ?? ""),
    greedy: {
      prefixes: g.prefixes,
      steps: g.steps,
      windows: greedyWindows,
      count: steps,
      best: Int32Array.from(g.best),
      runnerUp: Int32Array.from(g.runner_up),
      margin: Float64Array.from(g.margin),
    },
  };
}

/** {diff, row, column} of the largest |reference − candidate| over rows of `width`; NaN is Infinity. */
export function worst(reference, candidate, width) {
  if (reference.length !== candidate.length) {
    throw new Error(`output has ${candidate.length} values, the reference ${reference.length}`);
  }
  let diff = 0;
  let at = 0;
  for (let i = 0; i < reference.length; i++) {
    let d = Math.abs(reference[i] - candidate[i]);
    if (Number.isNaN(d)) d = Infinity;
    if (d > diff) {
      diff = d;
      at = i;
    }
  }
  return { diff, row: Math.floor(at / width), column: at % width };
}

function argmax(probs, from, to) {
  let best = from;
  for (let i = from + 1; i < to; i++) if (probs[i] > probs[best]) best = i;
  return best - from;
}

/** Does greedy text follow the reference's path?  (greedy_check in validate.py.) */
export function greedyCheck(greedy, probs, V, bound) {
  const result = { tokens: greedy.count, identical: true, ties: 0 };
  for (let s = 0; s < greedy.count; s++) {
    const picked = argmax(probs, s * V, (s + 1) * V);
    if (picked === greedy.best[s]) continue;
    result.identical = false;
    if (picked === greedy.runnerUp[s] && greedy.margin[s] <= 2 * bound) {
      result.ties += 1;
      continue;
    }
    result.firstDifference ??= { step: s, picked, expected: greedy.best[s], margin: greedy.margin[s] };
  }
  return result;
}

/** A runtime's outputs on the probe against the float64 reference (compare() in validate.py). */
export function compare(probe, { probs, attention }, greedyProbs, V, L) {
  const p = worst(probe.probs, probs, V);
  const a = worst(probe.attention, attention, L);
  const greedy = greedyCheck(probe.greedy, greedyProbs, V, probe.tolerance);
  return {
    reference: "float64",
    maxAbsDiff: Math.max(p.diff, a.diff),
    maxAbsDiffProbs: p.diff,
    maxAbsDiffAttention: a.diff,
    worst: { window: p.row, index: p.column },
    windows: probe.rows,
    tolerance: probe.tolerance,
    toleranceRule: probe.rule,
    greedy,
    passed: p.diff <= probe.tolerance && a.diff <= probe.tolerance && !greedy.firstDifference,
  };
}

/**
 * Run `adapter` (outputs(windows, batch) -> {probs, attention}) on the probe and compare.  An adapter with a
 * padding fast path (`adapter.fast`) is run once per padding count, so the fast path answers every padded window.
 * `onFirstCall` is told when the first call has answered (the end of a runtime's cold start).
 */
export async function selfCheck(adapter, probe, { onFirstCall } = {}) {
  const L = probe.windows.length / probe.rows;
  const run = (windows, batch) =>
    adapter.fast ? byPadding((w, b) => adapter.outputs(w, b), windows, batch, L) : adapter.outputs(windows, batch);
  const outputs = await run(probe.windows, probe.rows);
  onFirstCall?.();
  const greedy = await run(probe.greedy.windows, probe.greedy.count);
  const V = outputs.probs.length / probe.rows;
  return { ...compare(probe, outputs, greedy.probs, V, L), fastPath: Boolean(adapter.fast) };
}

const e = (x) => (Number.isFinite(x) ? x.toExponential(1) : String(x));

/** One line: "✓ TF.js webgl: max diff 2.1e-6 vs float64, tolerance 3.6e-6" or "✗ … differs by …". */
export function describeCheck(what, result) {
  if (result.passed) {
    const ties = result.greedy.ties ? ` (greedy text identical up to ${result.greedy.ties} float32 tie(s))` : "";
    return `✓ ${what}: max diff ${e(result.maxAbsDiff)} vs float64, tolerance ${e(result.tolerance)}${ties}`;
  }
  if (result.maxAbsDiff > result.tolerance || !result.greedy.firstDifference) {
    return `✗ ${what} differs by ${e(result.maxAbsDiff)} from float64 (tolerance ${e(result.tolerance)}; probe window ${result.worst.window}, output ${result.worst.index})`;
  }
  const d = result.greedy.firstDifference;
  return `✗ ${what} writes different greedy text: step ${d.step} picks ${d.picked} where float64 picks ${d.expected} (max diff ${e(result.maxAbsDiff)}, tolerance ${e(result.tolerance)})`;
}
