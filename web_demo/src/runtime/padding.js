// How much padding windows share: what a fast-path adapter skips (twin of textgen_export/runtime/padding.py).
// Leading zeros are padding to the model whatever their origin (a leading unknown token is index 0 too).  A call
// can skip the padding all its rows share: the fewest leading zeros of any row.  Rows with more keep the rest of
// their zeros in the tail, where the LSTMs read them as ordinary inputs, which is what the full window does too.

/** The padding every row of windows (Int32Array [B*L]) shares: the fewest leading zeros of any row. */
export function sharedPadding(windows, batch, maxLength) {
  let shared = maxLength;
  for (let b = 0; b < batch && shared > 0; b++) {
    let p = 0;
    const row = b * maxLength;
    while (p < shared && windows[row + p] === 0) p++;
    shared = p;
  }
  return batch ? shared : 0;
}

/**
 * `outputs(windows, batch) -> {probs, attention}` called once per group of rows with the same leading zeros, so
 * that every window of a mixed set reaches a fast path with exactly its own padding skipped (by_padding in
 * textgen_export/export/validate.py); the results in the rows' order.
 */
export async function byPadding(outputs, windows, batch, maxLength) {
  const L = maxLength;
  const groups = new Map();
  for (let b = 0; b < batch; b++) {
    const p = sharedPadding(windows.subarray(b * L, (b + 1) * L), 1, L);
    groups.set(p, [...(groups.get(p) ?? []), b]);
  }
  let probs = null;
  const attention = new Float32Array(batch * L);
  for (const rows of groups.values()) {
    const group = new Int32Array(rows.length * L);
    rows.forEach((b, i) => group.set(windows.subarray(b * L, (b + 1) * L), i * L));
    const out = await outputs(group, rows.length);
    const V = out.probs.length / rows.length;
    probs ??= new Float32Array(batch * V);
    rows.forEach((b, i) => {
      probs.set(out.probs.subarray(i * V, (i + 1) * V), b * V);
      attention.set(out.attention.subarray(i * L, (i + 1) * L), b * L);
    });
  }
  return { probs: probs ?? new Float32Array(0), attention };
}
