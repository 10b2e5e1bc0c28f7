// The one generation loop for every JS runtime: twin of textgen_export/sampling/generator.py.
// A runtime adapter only turns windows into probabilities
// (`await adapter.probs(windows Int32Array[B*L], B) -> Float32Array[B*V]`).  Seeded output equals Python's.
// Generating for context labels (`{context: "fruit"}`) takes the bundle's labels and a context-head adapter,
// which is also given the label vectors: `probs(windows, B, context Float32Array[B*labels])`.

import { checkContext } from "../contract/labels.js";
import { Detokenizer, META_TOKEN, detokenize } from "../contract/tokens.js";
import { SplitMix64 } from "./rng.js";
import { checkFinite, checkTemperatures, pickOne } from "./sampler.js";

export const MAX_GEN_LENGTH = 100000;
export const MAX_N = 100000;
export const MAX_PREFIX_CHARS = 100000;

function checkInt(name, value, low, high) {
  if (!Number.isInteger(value) || value < low || value > high) {
    throw new Error(`${name} must be an integer from ${low} to ${high}, got ${JSON.stringify(value)}`);
  }
  return value;
}


export class Generator {
  constructor(adapter, vocab, config, labels = null) {
    this.adapter = adapter;
    this.vocab = vocab;
    this.config = config;
    this.labels = labels;
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
  start({ n = 1, temperature = 0.5, prefix = null, maxGenLength = 300, seed = null, context = null } = {}) {
    checkInt("n (number of texts)", n, 1, MAX_N);
    const vector = checkContext(this.labels, context);
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
    return { rows, temperatures, maxGenLength, windows, active: finished ? [] : rows.map((_, i) => i), context: vector };
  }

  /** One model call for the active rows; returns the [row index, token] pairs it produced. */
  async advance(batch) {
    const L = this.config.max_length;
    const active = batch.active;
    const B = active.length;
    const input = new Int32Array(B * L);
    active.forEach((r, b) => input.set(batch.windows.subarray(r * L, (r + 1) * L), b * L));
    let probs;
    if (batch.context) {
      const C = batch.context.length;
      const rows = new Float32Array(B * C);
      for (let b = 0; b < B; b++) rows.set(batch.context, b * C);
      probs = checkFinite(await this.adapter.probs(input, B, rows));
    } else {
      probs = checkFinite(await this.adapter.probs(input, B));
    }
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

  /** Index of the first token the user sees: after `<s>`, or after single_text's warm-up window. */
  firstVisible() {
    return this.config.single_text ? this.config.max_length : 1;
  }

  /**
   * Yields [row, text piece] as tokens arrive; the pieces of row i join to its final text.
   * Linear in the text's length: each token is detokenised once (an incremental Detokenizer per row).
   */
  async *stream(options = {}) {
    const batch = this.start(options);
    const first = this.firstVisible();
    const joiners = batch.rows.map(() => new Detokenizer(this.config.word_level));
    for (let i = 0; i < batch.rows.length; i++) {
      const piece = batch.rows[i].tokens.slice(first).map((t) => joiners[i].push(t)).join("");
      if (piece) yield [i, piece];
    }
    while (batch.active.length) {
      for (const [i, tok] of await this.advance(batch)) {
        if (batch.rows[i].tokens.length <= first) continue; // single_text's warm-up window
        if (tok === META_TOKEN && !this.config.single_text) continue; // the end marker is not text
        const piece = joiners[i].push(tok);
        if (piece) yield [i, piece];
      }
    }
  }
}

function randomSeed() {
  const words = new Uint32Array(2);
  globalThis.crypto.getRandomValues(words);
  return (BigInt(words[0] & 0x7fffffff) << 32n) | BigInt(words[1]);
}
