// The page: load a bundle, pick a runtime, generate (streamed) or write interactively, show the attention.
// Model tokens are untrusted text: they only ever reach the DOM through textContent.

import { BundleError, filesSource, openBundle, urlSource } from "./spec/bundle.js";
import { InteractiveSession } from "./sampling/interactive.js";
import { Generator } from "./sampling/generator.js";
import { checkTemperatures } from "./sampling/sampler.js";
import { openOnnx } from "./runtime/onnx.js";
import { openTfjs, setBackend } from "./runtime/tfjs.js";

const $ = (id) => document.getElementById(id);
const DEFAULT_BUNDLE = "bundle/";
// Relative to the page, so the same files work at / (textgen-export serve) and under any sub-path (a static site).
const pageUrl = (path) => new URL(path, document.baseURI).href;
const YIELD_MS = 30; // hand the event loop back this often so the text and readouts repaint

const state = { bundle: null, runtime: null, runtimeName: null, running: false, stopRequested: false, session: null };

function showError(err) {
  console.warn(err);
  const box = $("error");
  box.textContent = err instanceof BundleError ? `Bad bundle: ${err.message}` : `Error: ${err.message ?? err}`;
  box.hidden = false;
  setStatus("");
}

function clearError() {
  $("error").hidden = true;
  $("error").textContent = "";
}

function setStatus(text) {
  $("status").textContent = text;
}

const nextTick = () => new Promise((resolve) => setTimeout(resolve, 0));

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

async function openRuntime(name, bundle) {
  if (name.startsWith("tfjs-")) return openTfjs(await loadTf(name.slice(5)), bundle);
  if (name === "onnx-wasm") return openOnnx(await loadOrt(), bundle, { name: "ONNX Runtime Web wasm" });
  throw new Error(`unknown runtime ${name}`);
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
  $("runtime-name").textContent = state.runtime.name;
  $("runtime").value = name;
  setStatus(`Ready: ${state.runtime.name}.`);
  return state.runtime;
}

// --- loading a bundle -------------------------------------------------------------------------------------

async function loadBundle(source, label) {
  clearError();
  setBusy(true);
  setStatus(`Loading model from ${label}…`);
  state.runtime?.dispose();
  state.runtime = null;
  state.runtimeName = null;
  state.bundle = null;
  $("model-name").textContent = "–";
  try {
    const bundle = await openBundle(source);
    state.bundle = bundle;
    const cfg = bundle.config;
    $("model-name").textContent =
      `${cfg.name || "unnamed"} (${cfg.word_level ? "word" : "char"} level, ${bundle.vocab.numClasses} classes, ` +
      `${cfg.rnn_layers}×${cfg.rnn_size} LSTM, window ${cfg.max_length})`;
    await useRuntime($("runtime").value);
  } catch (err) {
    showError(err);
  } finally {
    setBusy(false);
  }
}

// --- generation -------------------------------------------------------------------------------------------

function readOptions() {
  const temps = $("temperature").value.split(",").map((t) => t.trim()).filter((t) => t !== "");
  const seedText = $("seed").value.trim();
  if (seedText !== "" && !/^-?\d+$/.test(seedText)) throw new Error(`seed must be a whole number, got "${seedText}"`);
  const options = {
    prefix: $("prefix").value || null,
    temperature: checkTemperatures(temps),
    maxGenLength: Number($("max-length").value),
    n: Number($("count").value),
    seed: seedText === "" ? null : BigInt(seedText),
  };
  if (!Number.isInteger(options.n) || options.n < 1 || options.n > 64) throw new Error("number of texts must be 1 to 64");
  return options;
}

function setBusy(busy) {
  state.running = busy;
  $("generate").disabled = busy;
  $("interactive-start").disabled = busy;
  $("runtime").disabled = busy;
  $("bundle-picker").disabled = busy;
  $("stop").disabled = !busy;
}

async function generate() {
  clearError();
  if (!state.bundle) return showError(new Error("no model loaded"));
  let options;
  try {
    options = readOptions();
  } catch (err) {
    return showError(err);
  }
  setBusy(true);
  state.stopRequested = false;
  try {
    const runtime = await useRuntime($("runtime").value);
    const generator = new Generator(runtime, state.bundle.vocab, state.bundle.config);
    const batch = generator.start(options);
    const outputs = $("outputs");
    outputs.replaceChildren();
    const boxes = batch.rows.map((_, i) => {
      const pre = document.createElement("pre");
      pre.className = "text";
      pre.dataset.index = String(i);
      pre.setAttribute("aria-label", `text ${i + 1}`);
      outputs.append(pre);
      return pre;
    });
    const shown = batch.rows.map((r) => generator.finishText(r.tokens));
    boxes.forEach((box, i) => (box.textContent = shown[i]));
    let chars = 0;
    const started = performance.now();
    let lastYield = started;
    setStatus(`Generating with ${runtime.name}…`);
    while (batch.active.length && !state.stopRequested) {
      const firstRow = batch.active[0]; // the runtime's attention row 0 belongs to this text
      await generator.advance(batch);
      const now = performance.now();
      if (now - lastYield >= YIELD_MS || !batch.active.length) {
        batch.rows.forEach((row, i) => {
          const text = generator.finishText(row.tokens);
          if (text.length > shown[i].length) {
            chars += text.length - shown[i].length;
            boxes[i].append(text.slice(shown[i].length)); // a text node: never parsed as HTML
            shown[i] = text;
          }
        });
        const seconds = (now - started) / 1000;
        $("speed").textContent = seconds > 0 ? Math.round(chars / seconds).toString() : "0";
        drawAttention(batch.rows[firstRow].tokens, runtime.lastAttention);
        lastYield = now;
        await nextTick();
      }
    }
    boxes.forEach((box) => box.classList.add("done"));
    setStatus(state.stopRequested ? "Stopped." : `Done: ${chars} characters with ${runtime.name}.`);
    // Exact figures of the last run for benchmarks/web_speed.py (the readout above is rounded).
    document.body.dataset.lastChars = String(chars);
    document.body.dataset.lastMs = (performance.now() - started).toFixed(1);
    document.body.dataset.generated = String(Number(document.body.dataset.generated || 0) + 1);
  } catch (err) {
    showError(err);
  } finally {
    setBusy(false);
  }
}

// --- attention heat-map -----------------------------------------------------------------------------------

function visible(token) {
  if (token === "\n") return "↵";
  if (token === " ") return "␣";
  if (token === "\t") return "⇥";
  return token;
}

/** Tokens of the window that produced the latest prediction, each shaded by its attention weight. */
function drawAttention(tokens, attention) {
  const map = $("heatmap");
  if (!attention || !state.bundle) return;
  const L = state.bundle.config.max_length;
  const window = tokens.slice(-L - 1, -1); // the input of the latest prediction (its output is the last token)
  const weights = attention.subarray(0, L);
  const max = Math.max(...weights, 1e-9);
  const cells = [];
  for (let k = 0; k < L; k++) {
    const tok = window[window.length - L + k];
    const cell = document.createElement("span");
    cell.className = tok === undefined ? "cell pad" : "cell";
    cell.textContent = tok === undefined ? "·" : visible(tok);
    const w = weights[k];
    cell.title = `attention ${w.toFixed(3)}`;
    cell.style.backgroundColor = `rgba(214, 80, 40, ${(w / max).toFixed(3)})`;
    cells.push(cell);
  }
  map.replaceChildren(...cells);
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
  drawAttention([...session.tokens, ""], state.runtime.lastAttention);
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
  clearError();
  if (!state.bundle) return showError(new Error("no model loaded"));
  try {
    const options = readOptions();
    const runtime = await useRuntime($("runtime").value);
    const generator = new Generator(runtime, state.bundle.vocab, state.bundle.config);
    state.session = new InteractiveSession(generator, {
      prefix: options.prefix,
      temperature: options.temperature,
      topN: Number($("top-n").value),
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
    if (!state.bundle) return;
    clearError();
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
    if (files.length) loadBundle(filesSource(files), "picked folder");
  });
  // Offer only what this browser has (the wasm runtimes need WebAssembly, TF.js webgl a WebGL context).
  for (const option of $("runtime").options) {
    const missing = option.value === "tfjs-webgl" ? !hasWebgl() : option.value.endsWith("wasm") && !globalThis.WebAssembly;
    if (missing) {
      option.disabled = true;
      option.textContent += " (not available here)";
    }
  }
  const params = new URLSearchParams(location.search);
  const runtime = params.get("runtime");
  if (runtime && [...$("runtime").options].some((o) => o.value === runtime && !o.disabled)) $("runtime").value = runtime;
  const model = params.get("model") || DEFAULT_BUNDLE;
  loadBundle(urlSource(model), model);
}

function hasWebgl() {
  try {
    const canvas = document.createElement("canvas");
    return Boolean(canvas.getContext("webgl2") || canvas.getContext("webgl"));
  } catch {
    return false;
  }
}

init();
