// The page's self-check panel (#self-check): one line per runtime checked on this device against the bundle's
// float64 reference, with its cold start and steady speed when it was timed, and which runtime is in use and why.
// Each line carries its figures as data-* attributes (data-runtime, data-passed, data-max-diff, data-tolerance,
// data-fast-path, data-cold-ms, data-chars-per-second) for tests and benchmarks.

import { describeCheck } from "../runtime/self_check.js";

const seconds = (ms) => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`);

export class SelfCheckView {
  constructor(box) {
    this.box = box;
    this.list = document.createElement("ul");
    this.summary = document.createElement("p");
    this.summary.className = "self-check-summary";
    this.results = new Map(); // runtime -> its latest result, figures kept
    box.replaceChildren(this.summary, this.list);
  }

  /** A new bundle: clear the lines; say so when the bundle carries no probe to check against. */
  reset(probe) {
    this.list.replaceChildren();
    this.results.clear();
    this.summary.textContent = probe
      ? `Each runtime is checked on this device against the model's float64 reference (${probe.rows} probe windows and the greedy path; tolerance ${probe.tolerance.toExponential(1)}, ${probe.rule}).`
      : "This bundle has no parity/probe.json: runtimes cannot be checked here (re-export it with a current textgen-export).";
    delete this.box.dataset.chosen;
  }

  /** Why a failed result is off, in a few words (for the runtime menu). */
  reason(result) {
    if (result.error?.name === "TooSlow") return `not checked: ${result.error.message}`;
    if (result.error) return `could not run here (${String(result.error.message ?? result.error).split("\n")[0].slice(0, 160)})`;
    const c = result.check;
    if (c.maxAbsDiff > c.tolerance || !c.greedy.firstDifference) {
      return `failed its self-check: differs by ${c.maxAbsDiff.toExponential(1)} from float64 (tolerance ${c.tolerance.toExponential(1)})`;
    }
    return "failed its self-check: writes different greedy text than float64";
  }

  /** Show (or update) the line of one runtime: {name, label, passed, check?, error?, coldMs?, steady?, slow?};
   * figures measured earlier are kept when a later check (a switch back to it) has none. */
  show(result) {
    const earlier = this.results.get(result.name) ?? {};
    const r = { ...result, coldMs: result.coldMs ?? earlier.coldMs, steady: result.steady ?? earlier.steady };
    this.results.set(r.name, r);
    let item = this.list.querySelector(`li[data-runtime="${r.name}"]`);
    if (!item) {
      item = document.createElement("li");
      item.dataset.runtime = r.name;
      this.list.append(item);
    }
    item.dataset.passed = String(r.passed);
    item.classList.toggle("pass", r.passed);
    item.classList.toggle("fail", !r.passed);
    let text = r.check && !r.error ? describeCheck(r.label ?? r.name, r.check) : `✗ ${r.label ?? r.name}: ${this.reason(r)}`;
    if (r.check) {
      item.dataset.maxDiff = String(r.check.maxAbsDiff);
      item.dataset.tolerance = String(r.check.tolerance);
      item.dataset.fastPath = String(Boolean(r.check.fastPath)); // the padding fast path answered its padded windows
    }
    if (r.coldMs !== undefined && r.coldMs !== null) {
      item.dataset.coldMs = r.coldMs.toFixed(1);
      text += ` · cold start ${seconds(r.coldMs)}`;
    }
    if (r.steady) {
      item.dataset.charsPerSecond = r.steady.charsPerSecond.toFixed(1);
      text += ` · ${Math.round(r.steady.charsPerSecond)} chars/s`;
    } else if (r.slow) {
      text += ` · not timed (${r.slow})`;
    }
    item.textContent = text;
  }

  /** The measured default. */
  chose(best) {
    this.box.dataset.chosen = best.name;
    for (const item of this.list.children) item.classList.toggle("chosen", item.dataset.runtime === best.name);
    this.summary.textContent += ` Fastest that passes: ${best.label} (chosen; you can pick another).`;
  }

  /** A runtime failed and the page moved to another that passes: say so. */
  switched(result, to) {
    const note = document.createElement("li");
    note.className = "switched";
    note.dataset.switchedFrom = result.name;
    note.dataset.switchedTo = to.name;
    note.textContent = `Not using ${result.label ?? result.name} on this device (${this.reason(result)}): switched to ${to.label}, which passes.`;
    this.list.append(note);
    return note.textContent;
  }
}
