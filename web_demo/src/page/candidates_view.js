// Next-token probabilities as bars: the top-k candidates of one step with the probabilities the sampler drew
// from (after temperature; the model's own at temperature 0).  Twin of top_candidates in
// textgen_export/sampling/trace.py: the same order (most likely first, ties: lower index), padding excluded.

import { tempered } from "../sampling/sampler.js";
import { describe, visible } from "./attention_view.js";

/** [{token, p}] for one probability row (Float32Array V), most likely first. */
export function topCandidates(row, temperature, k, vocab) {
  const dist = temperature === 0 ? Float64Array.from(row) : tempered(row, temperature);
  const best = []; // indices, kept sorted: O(V * k), no full sort per step
  for (let i = 1; i < dist.length; i++) {
    if (best.length === k && dist[i] <= dist[best[k - 1]]) continue;
    let at = best.length;
    while (at > 0 && dist[best[at - 1]] < dist[i]) at--;
    best.splice(at, 0, i);
    if (best.length > k) best.pop();
  }
  return best.map((i) => ({ token: vocab.token(i), p: dist[i] }));
}

/** Draw `candidates` into `box` under `caption`; `chosen` (a token or null) is marked. */
export function drawCandidates(box, caption, candidates, chosen) {
  const title = document.createElement("p");
  title.className = "candidates-caption";
  title.textContent = caption;
  const list = document.createElement("ol");
  list.className = "candidates";
  for (const { token, p } of candidates) {
    const item = document.createElement("li");
    item.dataset.p = String(p);
    item.dataset.token = token;
    if (token === chosen) item.classList.add("chosen");
    const label = document.createElement("span");
    label.className = "candidate-token";
    label.textContent = visible(token);
    label.title = describe(token);
    const track = document.createElement("span");
    track.className = "bar-track";
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.width = `${(p * 100).toFixed(2)}%`;
    track.append(bar);
    const value = document.createElement("span");
    value.className = "candidate-p";
    value.textContent = `${(p * 100).toFixed(1)} %${token === chosen ? " ✓" : ""}`;
    item.append(label, track, value);
    item.setAttribute("aria-label", `${describe(token)}: ${(p * 100).toFixed(1)} percent${token === chosen ? ", chosen" : ""}`);
    list.append(item);
  }
  box.replaceChildren(title, list);
}
