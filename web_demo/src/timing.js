// The timing rule: twin of measure() in textgen_export/runtime/speed.py (the benchmark lab's JS runners use it too).
// Untimed warm-up calls, then calls until budget.min_time seconds and budget.min_reps calls have passed (a call
// slower than budget.max_time is timed once).  Returns each timed call's seconds; Python takes the percentiles.

const now = () => performance.now() / 1000;

export async function callSeconds(call, budget) {
  for (let i = 0; i < budget.warmup; i++) {
    const start = now();
    await call();
    if (now() - start > budget.max_time) break;
  }
  const samples = [];
  let total = 0;
  while (samples.length < budget.max_reps) {
    const start = now();
    await call();
    const elapsed = now() - start;
    samples.push(elapsed);
    total += elapsed;
    if (total >= budget.min_time && samples.length >= budget.min_reps) break;
    if (elapsed > budget.max_time) break;
  }
  return samples;
}
