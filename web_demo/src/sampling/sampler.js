// The shared sampler and generation loop: twin of textgen_export/sampling.py + generation.py.
// One sampler for every JS runtime: an adapter only turns windows into probabilities
// (`await adapter.probs(windows Int32Array[B*L], B) -> Float32Array[B*V]`).  Seeded output equals Python's.

import { SplitMix64 } from "./rng.js";
import { META_TOKEN, detokenize } from "./tokens.js";

export const EPSILON = 1e-7;
export const MAX_TEMPERATURE = 100;
export const MAX_GEN_LENGTH = 100000;
export const MAX_N = 100000;
export const MAX_PREFIX_CHARS = 100000;

/** A temperature or a cycling list of them, validated like Python's check_temperatures. */
export function checkTemperatures(temperature) {
  const temps = Array.isArray(temperature) ? temperature : [temperature];
  if (temps.length === 0) throw new Error("temperature list is empty; give at least one temperature such as 0.5");
  return temps.map((t) => {
    const value = typeof t === "string" && t.trim() !== "" ? Number(t) : t;
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > MAX_TEMPERATURE) {
      throw new Error(`temperature must be between 0 and ${MAX_TEMPERATURE} (0 = greedy), got ${JSON.stringify(t)}`);
    }
    return value;
  });
}

function checkInt(name, value, low, high) {
  if (!Number.isInteger(value) || value < low || value > high) {
    throw new Error(`${name} must be an integer from ${low} to ${high}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Indices of row `probs` sorted by probability, descending (ties: lower index first). */
export function ranked(row) {
  const order = Array.from(row.keys());
  order.sort((a, b) => row[b] - row[a] || a - b);
  return order;
}

/** Tempered, normalised float64 distribution of one row (temperature > 0), sequential sums as in Python. */
export function tempered(row, temperature) {
  const q = new Float64Array(row.length);
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) {
    q[i] = Math.log(row[i] + EPSILON) / temperature;
    if (q[i] > max) max = q[i];
  }
  let total = 0;
  for (let i = 0; i < row.length; i++) {
    q[i] = Math.exp(q[i] - max);
    total += q[i];
  }
  for (let i = 0; i < row.length; i++) q[i] /= total;
  return q;
}

/** One token index for one probability row, drawing from `rng` (the contract in sampling.py). */
export function pickOne(row, temperature, rng) {
  if (temperature === 0) {
    let best = 0;
    for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
    return best;
  }
  const dist = tempered(row, temperature);
  const u = rng.uniform();
  let running = 0;
  let chosen = -1;
  let lastNonZero = 0;
  for (let i = 0; i < dist.length; i++) {
    running += dist[i];
    if (dist[i] !== 0) lastNonZero = i;
    if (chosen < 0 && running > u) chosen = i;
  }
  if (chosen < 0) chosen = lastNonZero;
  if (chosen === 0) chosen = ranked(row)[1];
  return chosen;
}

/** The topN most likely next indices, most likely first, padding excluded (interactive mode). */
export function topOptions(row, topN) {
  return ranked(row).filter((i) => i !== 0).slice(0, topN);
}

/** Generates text with textgenrnn semantics from a runtime adapter, a Vocabulary and a config object. */
export class Generator {
  constructor(adapter, vocab, config) {
    this.adapter = adapter;
    this.vocab = vocab;
    this.config = config;
  }

  startTokens(prefix) {
    const prefixTokens = prefix ? this.vocab.tokenize(prefix) : [];
    if (this.config.single_text) return prefixTokens.length ? prefixTokens : [""];
    return [META_TOKEN, ...prefixTokens];
  }

  /** The user-visible text: drop `<s>` markers (or single_text's warm-up window) and join. */
  finishText(tokens) {
    let visible;
    if (this.config.single_text) {
      visible = tokens.slice(this.config.max_length);
    } else {
      visible = tokens.slice(1);
      const meta = visible.indexOf(META_TOKEN);
      if (meta >= 0) visible.splice(meta, 1);
    }
    return detokenize(visible, this.config.word_level);
  }

  /** Validate options and set up a batch of n texts (text i draws from the stream seeded seed + i). */
  start({ n = 1, temperature = 0.5, prefix = null, maxGenLength = 300, seed = null } = {}) {
    checkInt("n (number of texts)", n, 1, MAX_N);
    const temperatures = checkTemperatures(temperature);
    checkInt("max_gen_length", maxGenLength, 1, MAX_GEN_LENGTH);
    if (prefix && prefix.length > MAX_PREFIX_CHARS) throw new Error(`prefix is over ${MAX_PREFIX_CHARS} characters`);
    if (seed !== null && seed !== undefined && !Number.isSafeInteger(Number(seed)) && typeof seed !== "bigint") {
      throw new Error(`seed must be an integer, got ${JSON.stringify(seed)}`);
    }
    if (this.config.single_text) maxGenLength += this.config.max_length;
    const base = seed === null || seed === undefined ? randomSeed() : BigInt(seed);
    const tokens = this.startTokens(prefix || null);
    const finished = tokens.length >= maxGenLength;
    const rows = Array.from({ length: n }, (_, i) => ({
      tokens: [...tokens],
      rng: new SplitMix64(base + BigInt(i)),
      done: finished,
    }));
    const L = this.config.max_length;
    const windows = this.vocab.windows(Array(n).fill(tokens), L);
    return { rows, temperatures, maxGenLength, windows, active: finished ? [] : rows.map((_, i) => i) };
  }

  /** One model call for the active rows; returns the [row index, token] pairs it produced. */
  async advance(batch) {
    const L = this.config.max_length;
    const active = batch.active;
    const B = active.length;
    const input = new Int32Array(B * L);
    active.forEach((r, b) => input.set(batch.windows.subarray(r * L, (r + 1) * L), b * L));
    const probs = await this.adapter.probs(input, B);
    const V = probs.length / B;
    const temps = batch.temperatures;
    const temp = temps[(batch.rows[active[0]].tokens.length - 1) % temps.length];
    const events = [];
    const keep = [];
    active.forEach((r, b) => {
      const row = batch.rows[r];
      const idx = pickOne(probs.subarray(b * V, (b + 1) * V), temp, row.rng);
      const tok = this.vocab.token(idx);
      row.tokens.push(tok);
      events.push([r, tok]);
      const w = batch.windows.subarray(r * L, (r + 1) * L);
      w.copyWithin(0, 1);
      w[L - 1] = idx;
      if (tok === META_TOKEN || row.tokens.length >= batch.maxGenLength) row.done = true;
      else keep.push(r);
    });
    batch.active = keep;
    return events;
  }

  async generate(options = {}) {
    const batch = this.start(options);
    while (batch.active.length) await this.advance(batch);
    return batch.rows.map((r) => this.finishText(r.tokens));
  }

  /** Yields [row, text piece] as tokens arrive; the pieces of row i join to its final text. */
  async *stream(options = {}) {
    const batch = this.start(options);
    const shown = batch.rows.map((r) => this.finishText(r.tokens));
    for (let i = 0; i < shown.length; i++) if (shown[i]) yield [i, shown[i]];
    while (batch.active.length) {
      for (const [i] of await this.advance(batch)) {
        const text = this.finishText(batch.rows[i].tokens);
        if (text.length > shown[i].length) {
          yield [i, text.slice(shown[i].length)];
          shown[i] = text;
        }
      }
    }
  }
}

function randomSeed() {
  const words = new Uint32Array(2);
  globalThis.crypto.getRandomValues(words);
  return (BigInt(words[0] & 0x7fffffff) << 32n) | BigInt(words[1]);
}
