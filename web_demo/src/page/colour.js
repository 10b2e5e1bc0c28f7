// The attention colour scale: weight in [0, 1] -> colour, linear or logarithmic (1e-4 .. 1), and its legend.

export const LOG_FLOOR = 1e-4; // weights below this share the lightest colour on the log scale

// Light (no attention) to dark (all of it): cream, orange, deep brown.
const STOPS = [
  [255, 251, 235],
  [251, 146, 60],
  [194, 65, 12],
  [67, 20, 7],
];

/** Position of weight `w` on the scale, 0..1. */
export function scaled(w, log) {
  if (!log) return Math.min(Math.max(w, 0), 1);
  const v = Math.log10(Math.max(w, LOG_FLOOR));
  return (v - Math.log10(LOG_FLOOR)) / -Math.log10(LOG_FLOOR);
}

/** CSS colour for position t in 0..1, and whether text on it should be light. */
export function colourAt(t) {
  const x = t * (STOPS.length - 1);
  const i = Math.min(Math.floor(x), STOPS.length - 2);
  const f = x - i;
  const rgb = STOPS[i].map((c, k) => Math.round(c + (STOPS[i + 1][k] - c) * f));
  return { css: `rgb(${rgb.join(", ")})`, dark: t > 0.55 };
}

/** Tick values for the legend. */
export function ticks(log) {
  return log ? [1e-4, 1e-3, 1e-2, 0.1, 1] : [0, 0.25, 0.5, 0.75, 1];
}

export function formatTick(v, log) {
  if (!log) return String(v);
  return v >= 0.1 ? String(v) : `1e${Math.round(Math.log10(v))}`;
}

/** Fill `legend` with a colour bar and its ticks. */
export function drawLegend(legend, log) {
  const bar = document.createElement("div");
  bar.className = "legend-bar";
  const N = 40;
  for (let i = 0; i < N; i++) {
    const swatch = document.createElement("span");
    swatch.style.backgroundColor = colourAt(i / (N - 1)).css;
    bar.append(swatch);
  }
  const labels = document.createElement("div");
  labels.className = "legend-ticks";
  for (const v of ticks(log)) {
    const tick = document.createElement("span");
    tick.textContent = formatTick(v, log);
    labels.append(tick);
  }
  legend.replaceChildren(bar, labels);
}
