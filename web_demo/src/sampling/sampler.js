// Choosing the next token from a distribution: twin of textgen_export/sampling/sampler.py.
// Seeded output equals Python's (splitmix64, float64 arithmetic).

export const EPSILON = 1e-7;
export const MAX_TEMPERATURE = 100;

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

/** Refuse probabilities a damaged model gives (NaN or infinity) instead of sampling padding from them. */
export function checkFinite(probs) {
  let sum = 0;
  for (let i = 0; i < probs.length; i++) sum += probs[i];
  if (!Number.isFinite(sum)) {
    throw new Error("the model's next-token probabilities are not finite numbers: its weights hold NaN or infinity (a diverged or damaged model); retrain it or use another model");
  }
  return probs;
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
