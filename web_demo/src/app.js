// The page: load a bundle, pick a runtime, generate (streamed) or write interactively, and show what the model
// did: per generated token its attention over the window (a matrix) and the candidates the sampler chose among.
// Model tokens are untrusted text: they only ever reach the DOM through textContent.

import { BundleError, CONFIG, MANIFEST, ONNX, TFJS_MODEL, VOCAB, filesSource, openBundle, urlSource } from "./contract/bundle.js";
import { Detokenizer, META_TOKEN } from "./contract/tokens.js";
import { InteractiveSession } from "./sampling/interactive.js";
import { Generator } from "./sampling/generator.js";
import { checkTemperatures } from "./sampling/sampler.js";
import { chosenLabel, showLabels } from "./page/labels_menu.js";
import { LABELS, browserLacks, openBrowserRuntime, probeWebgl, probeWebgpu } from "./runtime/browser.js";
import { MEASURE_ORDER, countChars, fastest, measure } from "./runtime/choose.js";
import { readProbe, selfCheck } from "./runtime/self_check.js";
import { SelfCheckView } from "./page/self_check_view.js";
import { AttentionMatrix, describe, visible } from "./page/attention_view.js";
import { drawCandidates, topCandidates } from "./page/candidates_view.js";
import { drawLegend } from "./page/colour.js";
import { TrainPanel } from "./page/train_panel.js";

const $ = (id) => document.getElementById(id);
const DEFAULT_BUNDLE = "bundle/";
const YIELD_MS = 30; // hand the event loop back this often so the text and readouts repaint
const MATRIX_MS = 500; // the attention matrix grows this often while generating (its rows cost more than text)
// What each runtime needs from the bundle (file names of the bundle contract, textgen_export/contract/bundle.py).
const NEEDS = {
  onnx: { file: ONNX, model: "ONNX model", flag: "--onnx" },
  tfjs: { file: TFJS_MODEL, model: "TF.js model", flag: "--tfjs" },
};
const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|software|basic render/i;

const state = {
  bundle: null,
  runtime: null,
  runtimeName: null,
  running: false,
  stopRequested: false,
  session: null,
  errorKind: null, // "settings" errors clear as soon as the settings are valid again
  steps: [], // per text of the last run: one record per generated token
  renderer: null, // WebGL renderer string, when the browser reveals it
  head: null, // {name, bundle, runtime}: the context head's runtime, when a label was chosen
  webgpu: null, // {adapter} or {reason}: what navigator.gpu offers
  probe: null, // the bundle's parity probe (float64 reference), when it has one
  failed: new Map(), // runtime -> why it is off on this device (failed its self-check, or could not run)
  readerChose: false, // the reader named a runtime (?runtime= or the menu): no measuring picks for them
};

let matrix = null;
let checkView = null;

// --- messages ---------------------------------------------------------------------------------------------

function showError(err, kind = "other") {
  if (kind !== "settings") console.warn(err);
  const box = $("error");
  if (err instanceof ModelDirError) {
    const code = document.createElement("code");
    code.textContent = err.command;
    box.replaceChildren(`${err.message} Export it first, then pick the bundle folder: `, code);
  } else {
    box.textContent = err instanceof BundleError ? `Bad bundle: ${err.message}` : `Error: ${err.message ?? err}`;
  }
  box.hidden = false;
  state.errorKind = kind;
  if (kind !== "settings") setStatus("");
}

function clearError() {
  $("error").hidden = true;
  $("error").textContent = "";
  state.errorKind = null;
}

function setStatus(text) {
  $("status").textContent = text;
}

const nextTick = () => new Promise((resolve) => setTimeout(resolve, 0));

class ModelDirError extends Error {
  constructor(folder) {
    super(`“${folder}” is a model directory (weights.hdf5, vocab.json, config.json), not an exported bundle.`);
    this.command = `textgen-export export ${folder}/ --out ${folder}_bundle/ --onnx --tfjs`;
  }
}

// --- runtimes ---------------------------------------------------------------------------------------------

/** The runtime for the chosen label: the text path's (useRuntime), or the context head's, opened once per runtime. */
async function runtimeFor(name, label) {
  const runtime = await useRuntime(name);
  if (label === null) return runtime;
  if (state.head?.name !== name || state.head.bundle !== state.bundle) {
    state.head?.runtime.dispose();
    state.head = { name, bundle: state.bundle, runtime: await openBrowserRuntime(name, state.bundle, true) };
  }
  return state.head.runtime;
}

async function useRuntime(name) {
  if (state.runtime && state.runtimeName === name) return state.runtime;
  state.runtime?.dispose();
  state.runtime = null;
  delete document.body.dataset.runtime;
  $("runtime-name").textContent = "loading…";
  setStatus(`Loading ${name}…`);
  let runtime;
  let check = null;
  try {
    runtime = await openBrowserRuntime(name, state.bundle);
    if (state.probe) check = await selfCheck(runtime, state.probe);
  } catch (err) {
    runtime?.dispose();
    $("runtime-name").textContent = "–";
    if (!state.probe) throw err;
    showError(err);
    return fallBack(name, { name, passed: false, error: err, label: LABELS[name] });
  }
  if (check) checkView.show({ name, passed: check.passed, check, label: LABELS[name] });
  if (check && !check.passed) {
    runtime.dispose();
    $("runtime-name").textContent = "–";
    return fallBack(name, { name, passed: false, check, label: LABELS[name] });
  }
  state.runtime = runtime;
  state.runtimeName = name;
  document.body.dataset.runtime = name; // lets tests (and CSS) see which runtime is live
  document.body.dataset.fastPath = String(Boolean(state.runtime.fast)); // the padding fast path (ONNX, TF.js) is on
  $("runtime-name").textContent = state.runtime.name;
  $("runtime").value = name;
  setStatus(`Ready: ${state.runtime.name}.`);
  return state.runtime;
}

/** Wraps an adapter so the page sees every call's probabilities and attention (both adapters have outputs()). */
class Recorder {
  constructor(runtime) {
    this.runtime = runtime;
    this.name = runtime.name;
    this.lastProbs = null;
    this.lastAttention = null;
  }

  async probs(windows, batch, context = null) {
    const { probs, attention } = await this.runtime.outputs(windows, batch, context);
    this.lastProbs = probs;
    this.lastAttention = attention;
    return probs;
  }
}

/** A runtime failed on this device: mark it off with the reason and continue with one that passes. */
async function fallBack(name, result) {
  state.failed.set(name, checkView.reason(result));
  checkView.show(result);
  offerRuntimes(state.bundle);
  const next = [...$("runtime").options].find((o) => !o.disabled);
  if (!next) throw new Error(`no runtime passes its self-check on this device (${checkView.reason(result)})`);
  const used = await useRuntime(next.value);
  const said = checkView.switched(result, { name: state.runtimeName, label: LABELS[state.runtimeName] });
  setStatus(said);
  return used;
}

/** Why a runtime cannot be used here, or null: the browser lacks it, it failed here, or the bundle lacks it. */
function unavailable(name, bundle) {
  const lacks = browserLacks(name, { renderer: state.renderer, webgpu: state.webgpu }) ?? state.failed.get(name);
  if (lacks) return lacks;
  if (bundle?.manifest.trained && !name.startsWith("tfjs-")) return "trained here, not validated: export the model to use ONNX Runtime";
  const need = NEEDS[name.startsWith("tfjs-") ? "tfjs" : "onnx"];
  if (bundle && !bundle.has(need.file)) return `this bundle has no ${need.model}; export with ${need.flag}`;
  return null;
}

/** Enable the runtimes this browser and bundle offer, label the others with the reason; keep a usable choice. */
function offerRuntimes(bundle) {
  const select = $("runtime");
  for (const option of select.options) {
    option.dataset.label ??= option.textContent;
    const reason = unavailable(option.value, bundle);
    option.disabled = reason !== null;
    let label = option.dataset.label;
    if (reason) label += ` — off: ${reason}`;
    else if (option.value === "tfjs-webgl" && isSoftwareRenderer()) label += " (software renderer: slow)";
    option.textContent = label;
    option.title = reason ?? "";
  }
  let moved = null;
  if (select.selectedOptions[0]?.disabled) {
    moved = select.selectedOptions[0];
    const usable = [...select.options].find((o) => !o.disabled);
    if (usable) select.value = usable.value;
  }
  updateRuntimeNote(moved);
}

function isSoftwareRenderer() {
  return Boolean(state.renderer && SOFTWARE_RENDERER.test(state.renderer));
}

/** The line under the runtime choice: what the bundle lacks, or that WebGL runs on a software renderer. */
function updateRuntimeNote(moved = null) {
  const notes = [];
  if (moved) notes.push(`${moved.dataset.label} is off: ${unavailable(moved.value, state.bundle)}.`);
  for (const kind of ["onnx", "tfjs"]) {
    const need = NEEDS[kind];
    if (state.bundle && !state.bundle.has(need.file) && !moved?.value.startsWith(kind)) {
      notes.push(`This bundle has no ${need.model} (export with ${need.flag}).`);
    }
  }
  if ($("runtime").value === "tfjs-webgl" && isSoftwareRenderer()) {
    notes.push(
      `WebGL here runs on a software renderer (${state.renderer}), not a GPU: it is much slower than the ` +
        "WebAssembly runtimes.",
    );
  }
  const note = $("runtime-note");
  note.textContent = notes.join(" ");
  note.hidden = notes.length === 0;
}

// --- loading a bundle -------------------------------------------------------------------------------------

/** The name and description a static site gives its own bundle (textgen-export site --title/--description). */
function siteMeta(name) {
  return document.querySelector(`meta[name="textgen-model-${name}"]`)?.content || null;
}

async function loadBundle(source, label, files = null, own = false) {
  clearError();
  setBusy(true);
  setStatus(`Loading model from ${label}…`);
  state.runtime?.dispose();
  state.runtime = null;
  state.runtimeName = null;
  state.bundle = null;
  delete document.body.dataset.runtime;
  $("model-name").textContent = "–";
  $("model-details").textContent = "";
  $("model-description").hidden = true;
  try {
    const bundle = await openBundleOrExplain(source, files);
    state.bundle = bundle;
    const cfg = bundle.config;
    const manifest = bundle.manifest;
    const mine = (key) => (own ? siteMeta(key) : null); // the site's words for its own bundle only
    $("model-name").textContent = mine("name") || manifest.name || cfg.name || "unnamed";
    $("model-details").textContent =
      `(${cfg.word_level ? "word" : "char"} level, ${bundle.vocab.numClasses} classes, ` +
      `${cfg.rnn_layers}×${cfg.rnn_size} LSTM, window ${cfg.max_length})`;
    const description = mine("description") ?? manifest.description;
    if (typeof description === "string" && description) {
      $("model-description").textContent = description;
      $("model-description").hidden = false;
    }
    $("window-size").textContent = String(cfg.max_length);
    state.failed.clear();
    offerRuntimes(bundle);
    showLabels($("context"), $("context-choice"), bundle);
    state.probe = await readProbe(bundle);
    checkView.reset(state.probe);
    if (!state.readerChose && state.probe) await chooseFastest();
    await useRuntime($("runtime").value);
  } catch (err) {
    showError(err);
  } finally {
    setBusy(false);
  }
}

/** Check and time every runtime this browser and bundle offer; select the fastest that passes. */
async function chooseFastest() {
  const results = [];
  const offered = new Set([...$("runtime").options].filter((o) => !o.disabled).map((o) => o.value));
  for (const name of MEASURE_ORDER.filter((n) => offered.has(n))) {
    setStatus(`Checking and timing ${LABELS[name]}…`);
    const open = (runtime) => openBrowserRuntime(runtime, state.bundle);
    const result = { ...(await measure(name, { open, bundle: state.bundle, probe: state.probe })), label: LABELS[name] };
    checkView.show(result);
    if (!result.passed) state.failed.set(name, checkView.reason(result));
    results.push(result);
  }
  offerRuntimes(state.bundle);
  const best = fastest(results);
  if (best) {
    $("runtime").value = best.name;
    checkView.chose(best);
  }
  updateRuntimeNote();
}

/** openBundle, but a model directory (what `train` writes) gets its own message with the export command. */
async function openBundleOrExplain(source, files) {
  if (files) {
    const names = new Set(files.map((f) => (f.webkitRelativePath || f.name).split("/").slice(1).join("/") || f.name));
    if (!names.has(MANIFEST) && names.has(CONFIG) && (names.has("weights.hdf5") || names.has(VOCAB))) {
      throw new ModelDirError((files[0].webkitRelativePath || "MODEL_DIR").split("/")[0]);
    }
  }
  try {
    return await openBundle(source);
  } catch (err) {
    if (!files && err instanceof BundleError && err.message.startsWith(MANIFEST)) {
      const isModelDir = await source.read("weights.hdf5").then(() => true, () => false);
      if (isModelDir) throw new ModelDirError(source.name.replace(/\/$/, "").split("/").pop() || "MODEL_DIR");
    }
    throw err;
  }
}

// --- settings ---------------------------------------------------------------------------------------------

class SettingsError extends Error {
  constructor(field, message) {
    super(message);
    this.field = field;
  }
}

function wholeNumber(id, what, low, high) {
  const input = $(id);
  const text = input.value.trim();
  if (input.validity.badInput || !/^-?\d+$/.test(text)) {
    throw new SettingsError(id, `${what} must be a whole number from ${low} to ${high}, got "${text || input.value}"`);
  }
  const value = Number(text);
  if (value < low || value > high) throw new SettingsError(id, `${what} must be from ${low} to ${high}, got ${value}`);
  return value;
}

/** Every setting, validated; throws a SettingsError naming the field. */
function readOptions() {
  const temps = $("temperature").value.split(",").map((t) => t.trim()).filter((t) => t !== "");
  let temperature;
  try {
    temperature = checkTemperatures(temps);
  } catch (err) {
    throw new SettingsError("temperature", err.message);
  }
  const seedText = $("seed").value.trim();
  if (seedText !== "" && !/^-?\d+$/.test(seedText)) {
    throw new SettingsError("seed", `seed must be a whole number (or empty for a random one), got "${seedText}"`);
  }
  return {
    prefix: $("prefix").value || null,
    temperature,
    maxGenLength: wholeNumber("max-length", "max length", 1, 100000),
    n: wholeNumber("count", "number of texts", 1, 64),
    topN: wholeNumber("top-n", "choices shown", 1, 20),
    seed: seedText === "" ? null : BigInt(seedText),
  };
}

/** Run on every change: show the first problem (marking its field), or clear a settings error once fixed. */
function revalidate() {
  for (const input of document.querySelectorAll("#generate-form [aria-invalid]")) input.removeAttribute("aria-invalid");
  try {
    const options = readOptions();
    if (state.errorKind === "settings") clearError();
    return options;
  } catch (err) {
    if (!(err instanceof SettingsError)) throw err;
    $(err.field).setAttribute("aria-invalid", "true");
    showError(err, "settings");
    return null;
  }
}

function setBusy(busy) {
  state.running = busy;
  $("generate").disabled = busy;
  $("interactive-start").disabled = busy;
  $("runtime").disabled = busy;
  $("context").disabled = busy;
  $("bundle-picker").disabled = busy;
  $("stop").disabled = !busy;
}

// --- generation -------------------------------------------------------------------------------------------

/** The window the model reads after `tokens`: its last L tokens, left-padded with null. */
function windowOf(tokens, L) {
  const last = tokens.slice(-L);
  return [...Array(L - last.length).fill(null), ...last];
}

async function generate() {
  if (!state.bundle) return showError(new Error("no model loaded"));
  const options = revalidate();
  if (!options) return;
  clearError();
  setBusy(true);
  state.stopRequested = false;
  try {
    const label = chosenLabel($("context"));
    const runtime = await runtimeFor($("runtime").value, label);
    const recorder = new Recorder(runtime);
    const { vocab, config, labels } = state.bundle;
    const generator = new Generator(recorder, vocab, config, labels);
    const batch = generator.start({ ...options, context: label });
    const L = config.max_length;
    const first = generator.firstVisible();
    const outputs = $("outputs");
    outputs.replaceChildren();
    state.steps = batch.rows.map(() => []);
    const joiners = batch.rows.map(() => new Detokenizer(config.word_level));
    const pending = batch.rows.map(() => []); // [piece, step] waiting for the next repaint
    const boxes = batch.rows.map((row, i) => {
      const pre = document.createElement("pre");
      pre.className = "text";
      pre.dir = "auto"; // right-to-left scripts (Arabic, Hebrew) run right to left
      pre.dataset.index = String(i);
      pre.setAttribute("aria-label", `text ${i + 1}`);
      pre.textContent = row.tokens.slice(first).map((t) => joiners[i].push(t)).join(""); // the prefix
      outputs.append(pre);
      return pre;
    });
    showTextChoices(batch.rows.length);
    const shown = () => Number($("attention-text").value);
    let drawn = 0; // matrix rows drawn for the shown text
    let chars = 0;
    const started = performance.now();
    let lastYield = started;
    let lastMatrix = started;
    const pieces = batch.rows.map(() => []); // every [piece, step] of each text, for splitIntoTokens
    const prefixes = boxes.map((box) => box.textContent);
    setStatus(`Generating with ${runtime.name}…`);
    while (batch.active.length && !state.stopRequested) {
      const active = [...batch.active];
      const temps = batch.temperatures;
      const temperature = temps[(batch.rows[active[0]].tokens.length - 1) % temps.length];
      const windows = active.map((r) => windowOf(batch.rows[r].tokens, L));
      const events = await generator.advance(batch);
      const V = recorder.lastProbs.length / active.length;
      events.forEach(([r, token], b) => {
        const record = {
          token,
          window: windows[b],
          attention: recorder.lastAttention.slice(b * L, (b + 1) * L),
          temperature,
          candidates: topCandidates(recorder.lastProbs.subarray(b * V, (b + 1) * V), temperature, options.topN, vocab),
          text: r,
          step: state.steps[r].length,
        };
        state.steps[r].push(record);
        if (batch.rows[r].tokens.length <= first) return; // single_text's warm-up window
        if (token === META_TOKEN && !config.single_text) return; // the end marker is not text
        const piece = joiners[r].push(token);
        if (piece) pending[r].push([piece, record.step]);
      });
      const now = performance.now();
      if (now - lastYield >= YIELD_MS || !batch.active.length) {
        chars += flush(boxes, pending, pieces);
        if (now - lastMatrix >= MATRIX_MS) {
          drawn = drawRows(state.steps[shown()] ?? [], drawn);
          lastMatrix = now;
        }
        const seconds = (now - started) / 1000;
        $("speed").textContent = seconds > 0 ? Math.round(chars / seconds).toString() : "0";
        lastYield = now;
        await nextTick();
      }
    }
    chars += flush(boxes, pending, pieces);
    drawRows(state.steps[shown()] ?? [], drawn);
    boxes.forEach((box, i) => {
      splitIntoTokens(box, prefixes[i], pieces[i]);
      box.classList.add("done");
    });
    setStatus(state.stopRequested ? "Stopped." : `Done: ${chars} characters with ${runtime.name}.`);
    // Exact figures of the last run for the benchmark lab's web scenario (the readout above is rounded).
    document.body.dataset.lastChars = String(chars);
    document.body.dataset.lastMs = (performance.now() - started).toFixed(1);
    document.body.dataset.generated = String(Number(document.body.dataset.generated || 0) + 1);
  } catch (err) {
    showError(err);
  } finally {
    setBusy(false);
  }
}

/** Append the waiting pieces as text (cheap while streaming); keep them in `pieces` for splitIntoTokens. */
function flush(boxes, pending, pieces) {
  let chars = 0;
  pending.forEach((waiting, i) => {
    if (!waiting.length) return;
    const text = waiting.map(([piece]) => piece).join("");
    boxes[i].append(text); // a text node: never parsed as HTML
    chars += countChars(text); // what a reader counts (and Python's len): code points, not UTF-16 units
    pieces[i].push(...waiting);
    waiting.length = 0;
  });
  return chars;
}

/** Once a text is done: one span per generated token, so pointing at one can show its step. Same text. */
function splitIntoTokens(box, prefix, pieces) {
  const spans = pieces.map(([piece, step]) => {
    const span = document.createElement("span");
    span.className = "tok";
    span.dataset.step = String(step);
    span.textContent = piece;
    return span;
  });
  box.replaceChildren(prefix, ...spans);
}

// --- attention matrix and next-token bars -------------------------------------------------------------------

function showTextChoices(n) {
  const select = $("attention-text");
  select.replaceChildren(
    ...Array.from({ length: n }, (_, i) => {
      const option = document.createElement("option");
      option.value = String(i);
      option.textContent = `${i + 1} of ${n}`;
      return option;
    }),
  );
  select.value = "0";
  matrix.reset("attention matrix of text 1");
}

/** Draw rows `from`.. of a text's records; returns how many rows are drawn now. */
function drawRows(records, from) {
  for (let r = from; r < records.length; r++) matrix.add(records[r]);
  return records.length;
}

function redrawMatrix() {
  const i = Number($("attention-text").value);
  matrix.reset(`attention matrix of text ${i + 1}`);
  drawRows(state.steps[i] ?? [], 0);
}

function showCandidates(record) {
  const T = record.temperature;
  const how = T === 0 ? "temperature 0 (greedy): the model's probabilities, the top one is taken" : `temperature ${T}: the probabilities the sampler drew from`;
  const caption = record.step === undefined
    ? `Next token, ${how}.`
    : `Text ${record.text + 1}, token ${record.step + 1} (chose ${describe(record.token)}), ${how}.`;
  drawCandidates($("next-token"), caption, record.candidates, record.token);
  $("next-token").dataset.text = String(record.text ?? "");
  $("next-token").dataset.step = String(record.step ?? "");
}

function pointAtToken(event) {
  const span = event.target.closest?.("span.tok");
  if (!span) return;
  const text = Number(span.parentElement.dataset.index);
  const step = Number(span.dataset.step);
  const record = state.steps[text]?.[step];
  if (!record) return;
  showCandidates(record);
  if (Number($("attention-text").value) === text) matrix.highlight(step, null);
}

// --- interactive mode -------------------------------------------------------------------------------------

async function showOptions() {
  const session = state.session;
  $("interactive-text").textContent = session.text;
  const box = $("options");
  if (session.done) {
    box.replaceChildren();
    setStatus("Interactive text finished.");
    return;
  }
  const options = await session.options();
  const recorder = session.generator.adapter;
  const L = state.bundle.config.max_length;
  const temps = session.temperatures;
  const temperature = temps[(session.tokens.length - 1) % temps.length];
  const record = {
    token: null,
    window: windowOf(session.tokens, L),
    attention: recorder.lastAttention.slice(0, L),
    temperature,
    candidates: topCandidates(recorder.lastProbs, temperature, session.topN, state.bundle.vocab),
  };
  showCandidates(record);
  matrix.reset("attention of the next token's prediction");
  matrix.add({ ...record, token: "?" });
  box.replaceChildren(
    ...options.map((tok, i) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "option";
      button.textContent = visible(tok); // untrusted: text only
      button.setAttribute("aria-label", `option ${i + 1}: ${JSON.stringify(tok)}`);
      button.addEventListener("click", () => interactiveStep(() => session.choose(tok)));
      return button;
    }),
  );
}

async function interactiveStep(action) {
  const keepFocus = document.activeElement?.classList.contains("option");
  try {
    action();
    await showOptions();
    if (keepFocus) $("options").querySelector("button")?.focus(); // keyboard users stay on the choices
  } catch (err) {
    showError(err);
  }
}

async function startInteractive() {
  if (!state.bundle) return showError(new Error("no model loaded"));
  const options = revalidate();
  if (!options) return;
  clearError();
  try {
    const label = chosenLabel($("context"));
    const runtime = await runtimeFor($("runtime").value, label);
    const { vocab, config, labels } = state.bundle;
    const generator = new Generator(new Recorder(runtime), vocab, config, labels);
    state.session = new InteractiveSession(generator, {
      context: label,
      prefix: options.prefix,
      temperature: options.temperature,
      topN: options.topN,
      maxGenLength: options.maxGenLength,
    });
    $("interactive").hidden = false;
    await showOptions();
    $("options").querySelector("button")?.focus();
    setStatus("Interactive: pick the next token.");
  } catch (err) {
    showError(err);
  }
}

// --- wiring -----------------------------------------------------------------------------------------------

async function init() {
  matrix = new AttentionMatrix($("attention-matrix"), $("attention-readout"), (record) => showCandidates(record));
  matrix.reset("attention matrix");
  checkView = new SelfCheckView($("self-check"));
  drawLegend($("legend"), true);
  for (const radio of document.querySelectorAll("input[name=scale]")) {
    radio.addEventListener("change", () => {
      const log = $("scale-log").checked;
      matrix.setLog(log);
      drawLegend($("legend"), log);
    });
  }
  $("attention-text").addEventListener("change", redrawMatrix);
  $("outputs").addEventListener("mouseover", pointAtToken);
  $("outputs").addEventListener("click", (event) => {
    const pre = event.target.closest?.("pre.text");
    if (pre && $("attention-text").value !== pre.dataset.index) {
      $("attention-text").value = pre.dataset.index;
      redrawMatrix();
    }
  });
  $("generate-form").addEventListener("input", revalidate);
  $("generate-form").addEventListener("change", revalidate);
  $("generate-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (!state.running) generate();
  });
  $("stop").addEventListener("click", () => (state.stopRequested = true));
  $("interactive-start").addEventListener("click", startInteractive);
  $("backspace").addEventListener("click", () => interactiveStep(() => state.session.backspace()));
  $("interactive-stop").addEventListener("click", () => interactiveStep(() => state.session.stop()));
  $("own-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("own-text").value;
    $("own-text").value = "";
    if (text) interactiveStep(() => state.session.write(text));
  });
  $("runtime").addEventListener("change", async () => {
    state.readerChose = true;
    updateRuntimeNote();
    if (!state.bundle) return;
    if (state.errorKind !== "settings") clearError();
    setBusy(true);
    try {
      await useRuntime($("runtime").value);
    } catch (err) {
      showError(err);
    } finally {
      setBusy(false);
    }
  });
  $("bundle-picker").addEventListener("change", (event) => {
    const files = Array.from(event.target.files ?? []);
    if (files.length) loadBundle(filesSource(files), "picked folder", files);
  });
  new TrainPanel({ bundle: () => state.bundle, open: (source) => loadBundle(source, source.name) });
  state.renderer = probeWebgl();
  state.webgpu = await probeWebgpu();
  offerRuntimes(null); // what this browser offers; the bundle's files narrow it once it is loaded
  const params = new URLSearchParams(location.search);
  const runtime = params.get("runtime");
  if (runtime && [...$("runtime").options].some((o) => o.value === runtime && !o.disabled)) {
    $("runtime").value = runtime;
    state.readerChose = true;
  }
  updateRuntimeNote();
  const model = params.get("model") || DEFAULT_BUNDLE;
  loadBundle(urlSource(model), model, null, !params.get("model"));
}

init();
