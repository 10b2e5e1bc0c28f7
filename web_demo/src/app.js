// The page: load a bundle, pick a runtime, generate (streamed) or write interactively, and show what the model
// did: per generated token its attention over the window (a matrix) and the candidates the sampler chose among.
// Model tokens are untrusted text: they only ever reach the DOM through textContent.

import { BundleError, CONFIG, MANIFEST, ONNX, ONNX_CONTEXT, TFJS_CONTEXT, TFJS_MODEL, VOCAB, filesSource, openBundle, urlSource } from "./contract/bundle.js";
import { Detokenizer, META_TOKEN } from "./contract/tokens.js";
import { InteractiveSession } from "./sampling/interactive.js";
import { Generator } from "./sampling/generator.js";
import { checkTemperatures } from "./sampling/sampler.js";
import { openOnnx } from "./runtime/onnx.js";
import { chosenLabel, showLabels } from "./page/labels_menu.js";
import { openTfjs, setBackend } from "./runtime/tfjs.js";
import { AttentionMatrix, describe, visible } from "./page/attention_view.js";
import { drawCandidates, topCandidates } from "./page/candidates_view.js";
import { drawLegend } from "./page/colour.js";

const $ = (id) => document.getElementById(id);
const DEFAULT_BUNDLE = "bundle/";
// Relative to the page, so the same files work at / (textgen-export serve) and under any sub-path (a static site).
const pageUrl = (path) => new URL(path, document.baseURI).href;
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
};

let matrix = null;

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

let tfModule = null;
let ortModule = null;

async function loadTf(backend) {
  if (!tfModule) tfModule = await import("@tensorflow/tfjs");
  const tf = tfModule;
  if (backend === "wasm" && !tf.findBackend("wasm")) {
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    wasm.setWasmPaths(pageUrl("node_modules/@tensorflow/tfjs-backend-wasm/dist/"));
    // The threaded build's workers importScripts() the backend, which fails for ES-module builds; one stream of
    // small matrices gains little from threads anyway, so use the single-threaded SIMD build.
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  }
  await setBackend(tf, backend);
  return tf;
}

async function loadOrt() {
  if (!ortModule) {
    ortModule = await import("onnxruntime-web");
    ortModule.env.wasm.wasmPaths = pageUrl("node_modules/onnxruntime-web/dist/");
    ortModule.env.wasm.numThreads = 1; // one stream of small matrices: threads cost more than they give
  }
  return ortModule;
}

async function openRuntime(name, bundle, head = false) {
  if (name.startsWith("tfjs-")) return openTfjs(await loadTf(name.slice(5)), bundle, head ? TFJS_CONTEXT : undefined);
  if (name === "onnx-wasm") {
    const file = head ? ONNX_CONTEXT : ONNX;
    return openOnnx(await loadOrt(), bundle, { name: "ONNX Runtime Web wasm", file });
  }
  throw new Error(`unknown runtime ${name}`);
}

/** The runtime for the chosen label: the text path's (useRuntime), or the context head's, opened once per runtime. */
async function runtimeFor(name, label) {
  const runtime = await useRuntime(name);
  if (label === null) return runtime;
  if (state.head?.name !== name || state.head.bundle !== state.bundle) {
    state.head?.runtime.dispose();
    state.head = { name, bundle: state.bundle, runtime: await openRuntime(name, state.bundle, true) };
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
  try {
    state.runtime = await openRuntime(name, state.bundle);
  } catch (err) {
    $("runtime-name").textContent = "–";
    throw err;
  }
  state.runtimeName = name;
  document.body.dataset.runtime = name; // lets tests (and CSS) see which runtime is live
  document.body.dataset.fastPath = String(Boolean(state.runtime.fast)); // the padding fast path (ONNX) is on
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

/** Why a runtime cannot be used here, or null: the browser lacks it, or the bundle has no model for it. */
function unavailable(name, bundle) {
  if (name === "tfjs-webgl" && state.renderer === null) return "no WebGL in this browser";
  if (name.endsWith("wasm") && !globalThis.WebAssembly) return "no WebAssembly in this browser";
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

function probeWebgl() {
  try {
    const canvas = document.createElement("canvas");
    const gl = canvas.getContext("webgl2") || canvas.getContext("webgl");
    if (!gl) return null;
    const info = gl.getExtension("WEBGL_debug_renderer_info");
    const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? "unknown");
    gl.getExtension("WEBGL_lose_context")?.loseContext();
    return renderer;
  } catch {
    return null;
  }
}

// --- loading a bundle -------------------------------------------------------------------------------------

async function loadBundle(source, label, files = null) {
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
    $("model-name").textContent = manifest.name || cfg.name || "unnamed";
    $("model-details").textContent =
      `(${cfg.word_level ? "word" : "char"} level, ${bundle.vocab.numClasses} classes, ` +
      `${cfg.rnn_layers}×${cfg.rnn_size} LSTM, window ${cfg.max_length})`;
    if (typeof manifest.description === "string" && manifest.description) {
      $("model-description").textContent = manifest.description;
      $("model-description").hidden = false;
    }
    $("window-size").textContent = String(cfg.max_length);
    offerRuntimes(bundle);
    showLabels($("context"), $("context-choice"), bundle);
    await useRuntime($("runtime").value);
  } catch (err) {
    showError(err);
  } finally {
    setBusy(false);
  }
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
    chars += text.length;
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

function init() {
  matrix = new AttentionMatrix($("attention-matrix"), $("attention-readout"), (record) => showCandidates(record));
  matrix.reset("attention matrix");
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
  state.renderer = probeWebgl();
  offerRuntimes(null); // what this browser offers; the bundle's files narrow it once it is loaded
  const params = new URLSearchParams(location.search);
  const runtime = params.get("runtime");
  if (runtime && [...$("runtime").options].some((o) => o.value === runtime && !o.disabled)) $("runtime").value = runtime;
  updateRuntimeNote();
  const model = params.get("model") || DEFAULT_BUNDLE;
  loadBundle(urlSource(model), model);
}

init();
