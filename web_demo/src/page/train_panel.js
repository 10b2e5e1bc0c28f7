// The Train panel: the reader's text (a dropped or picked file, or pasted) fine-tunes the loaded model's TF.js
// weights in a Web Worker (train_worker.js, training/fine_tune.js), with a progress bar, windows/s and the
// validation loss in the unit `textgen-export train` prints (nats per token); Stop keeps what was trained.  The
// trained model (training/trained_bundle.js: not a bundle until exported) opens in the page at once from memory, on
// the TF.js runtimes only, and downloads as one .zip (files/zip.js) that `textgen-export export MODEL.zip --onnx
// --tfjs` validates and turns into a bundle.
// A bad upload or setting is one line in the panel; the loaded model is untouched.

import { BundleError, FORMAT, FORMAT_VERSION, MANIFEST, TFJS_DIR, TFJS_MODEL } from "../contract/bundle.js";
import { zipStored } from "../files/zip.js";
import { sourceOf } from "../training/trained_bundle.js";

const $ = (id) => document.getElementById(id);
const MAX_TEXT_BYTES = 64 * 1024 * 1024;
const NATS = "nats per token";

class UploadError extends Error {}

/** The text of an uploaded file, or an UploadError saying why it is not a plain text file. */
export async function readTextFile(file) {
  if (file.size > MAX_TEXT_BYTES) {
    throw new UploadError(`${file.name} is ${file.size} bytes, over the ${MAX_TEXT_BYTES} byte limit; give a smaller text file`);
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    text = null;
  }
  if (text === null || text.includes("\0")) {
    throw new UploadError(`${file.name} is not a UTF-8 text file; drop a plain text file (.txt), one text per line`);
  }
  return text;
}

function wholeNumber(id, what, low, high) {
  const text = $(id).value.trim();
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < low || value > high) {
    throw new UploadError(`${what} must be a whole number from ${low} to ${high}, got "${text}"`);
  }
  return value;
}

/** The trained model's files (Map path -> bytes) as a source contract/bundle.js's openBundle reads, for this page
 * only: its own manifest restated as a bundle manifest (same files, sizes and sha256) marked trained, not validated. */
export function trainedSource(files) {
  const own = JSON.parse(new TextDecoder().decode(files.get(MANIFEST)));
  const view = {
    format: FORMAT,
    format_version: FORMAT_VERSION,
    name: own.name ?? "trained model",
    config: own.config,
    num_classes: own.num_classes,
    meta_token: own.meta_token,
    files: own.files,
    trained: { in: own.trained_in, validated: false },
  };
  const bytes = new Map(files);
  bytes.set(MANIFEST, new TextEncoder().encode(JSON.stringify(view)));
  return {
    name: "the trained model",
    async read(path, limit) {
      const data = bytes.get(path);
      if (!data) throw new BundleError(`${path}: not in the trained model`);
      if (data.length > limit) throw new BundleError(`${path}: ${data.length} bytes, over the ${limit} expected`);
      return data;
    },
  };
}

export class TrainPanel {
  /** `bundle()`: the loaded bundle (contract/bundle.js); `open(source)`: load the trained model as the page's. */
  constructor({ bundle, open }) {
    this.bundle = bundle;
    this.open = open;
    this.worker = null;
    this.files = null;
    this.name = null;
    this.text = null; // {text, name} of the dropped or picked file
    this.stop = null; // the shared stop flag, when the page is cross-origin isolated
    this.training = false;
    $("train-form").addEventListener("submit", (event) => {
      event.preventDefault();
      if (!this.training) this.start();
    });
    $("train-stop").addEventListener("click", () => this.requestStop());
    $("train-download").addEventListener("click", () => this.download());
    $("train-file").addEventListener("change", (event) => this.take(event.target.files?.[0]));
    const zone = $("train-drop");
    zone.addEventListener("dragover", (event) => {
      event.preventDefault();
      zone.classList.add("over");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("over");
      this.take(event.dataTransfer?.files?.[0]);
    });
  }

  fail(message) {
    $("train-error").textContent = message;
    $("train-error").hidden = false;
  }

  clearError() {
    $("train-error").hidden = true;
    $("train-error").textContent = "";
  }

  async take(file) {
    if (!file) return;
    this.clearError();
    this.text = null;
    $("train-file-name").textContent = "";
    try {
      this.text = { text: await readTextFile(file), name: file.name };
      $("train-file-name").textContent = `${file.name} (${file.size} bytes)`;
    } catch (err) {
      this.fail(err instanceof UploadError ? err.message : `Cannot read ${file.name}: ${err.message ?? err}`);
    }
  }

  /** What the worker needs of the loaded bundle: training/trained_bundle.js's source, the weights, the vocab. */
  async source(bundle) {
    if (!bundle.has(TFJS_MODEL)) {
      throw new UploadError("this model has no TF.js files to train; load a bundle exported with --tfjs");
    }
    const source = await sourceOf(bundle);
    const parts = [];
    for (const path of source.modelJson.weightsManifest?.[0]?.paths ?? []) parts.push(await bundle.read(`${TFJS_DIR}/${path}`));
    const weightData = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const part of parts) {
      weightData.set(part, offset);
      offset += part.length;
    }
    return { ...source, weightData, vocab: Object.fromEntries(bundle.vocab.tokenToIndex) };
  }

  settings() {
    const pasted = $("train-text").value;
    const given = pasted.trim() ? { text: pasted, name: "pasted text" } : this.text;
    if (!given) throw new UploadError("give text to train on: drop or pick a text file, or paste text");
    const amount = wholeNumber("train-amount", $("train-unit").value, 1, 1_000_000);
    const seedText = $("train-seed").value.trim();
    if (!/^\d+$/.test(seedText)) throw new UploadError(`seed must be a whole number, got "${seedText}"`);
    const percent = wholeNumber("train-validation", "validation share (%)", 1, 50);
    return {
      text: given.text,
      options: {
        steps: $("train-unit").value === "steps" ? amount : undefined,
        epochs: $("train-unit").value === "epochs" ? amount : undefined,
        batchSize: wholeNumber("train-batch", "batch size", 1, 4096),
        seed: seedText,
        trainSize: 1 - percent / 100,
        backend: $("train-backend").value,
      },
    };
  }

  async start() {
    this.clearError();
    const bundle = this.bundle();
    let job;
    let source;
    try {
      if (!bundle) throw new UploadError("no model is loaded yet");
      job = this.settings();
      source = await this.source(bundle);
    } catch (err) {
      return this.fail(err.message ?? String(err));
    }
    this.setTraining(true);
    this.files = null;
    $("train-download").disabled = true;
    $("train-log").replaceChildren();
    $("train-progress").value = 0;
    $("train-readout").textContent = "Starting…";
    this.worker ??= new Worker(new URL("./train_worker.js", import.meta.url));
    this.worker.onmessage = (event) => this.receive(event.data);
    this.worker.onerror = (event) => {
      event.preventDefault();
      this.finish();
      this.fail(`Training stopped: ${event.message || "the worker failed"}`);
    };
    this.stop = globalThis.crossOriginIsolated ? new SharedArrayBuffer(4) : null;
    this.worker.postMessage({ type: "train", source, text: job.text, options: job.options, stop: this.stop });
  }

  requestStop() {
    if (!this.training) return;
    if (this.stop) Atomics.store(new Int32Array(this.stop), 0, 1);
    this.worker?.postMessage({ type: "stop" });
    $("train-readout").textContent += " Stopping…";
  }

  async receive(message) {
    if (message.type === "progress") return this.progress(message);
    if (message.type === "error") {
      this.finish();
      return this.fail(message.user ? message.message : `Training failed: ${message.message}`);
    }
    if (message.type === "done") {
      const s = message.summary;
      this.files = message.files;
      this.name = JSON.parse(new TextDecoder().decode(message.files.get(MANIFEST))).name;
      this.finish();
      $("train-download").disabled = false;
      document.body.dataset.trained = String(Number(document.body.dataset.trained || 0) + 1);
      await this.open(trainedSource(message.files));
      const loss = s.validationLoss === null ? "" : `, validation loss ${s.validationLoss.toFixed(4)} (${NATS})`;
      $("train-readout").textContent =
        `${s.stopped ? "Stopped" : "Done"} after ${s.stepsDone} steps${loss}. The page now generates with the ` +
        "trained weights (TF.js); export the download to use ONNX Runtime.";
    }
  }

  progress(p) {
    $("train-progress").max = p.steps;
    $("train-progress").value = p.step;
    const parts = [`step ${p.step}/${p.steps}`];
    if (p.epochs > 1) parts.push(`epoch ${p.epoch}/${p.epochs}`);
    if (Number.isFinite(p.loss)) parts.push(`loss ${p.loss.toFixed(4)}`);
    if (Number.isFinite(p.validationLoss)) parts.push(`validation loss ${p.validationLoss.toFixed(4)} (${NATS})`);
    if (p.step > 0) parts.push(`${Math.round(p.windowsPerSecond)} windows/s`);
    if (p.backend) parts.push(`TF.js ${p.backend}`);
    $("train-readout").textContent = parts.join(" · ");
    const line = document.createElement("li");
    line.textContent = parts.join(" · ");
    line.dataset.step = String(p.step);
    line.dataset.at = performance.now().toFixed(1); // when the page heard of it (benchmarks/training_browser.py)
    if (Number.isFinite(p.loss)) line.dataset.loss = String(p.loss);
    if (Number.isFinite(p.validationLoss)) line.dataset.validationLoss = String(p.validationLoss);
    if (p.step > 0) line.dataset.windowsPerSecond = String(p.windowsPerSecond);
    if (p.epochDone) line.dataset.epochDone = "true"; // the epoch's validation, after its last step
    $("train-log").append(line);
  }

  setTraining(on) {
    this.training = on;
    $("train-start").disabled = on;
    $("train-stop").disabled = !on;
    document.body.dataset.training = String(on);
  }

  finish() {
    this.setTraining(false);
  }

  download() {
    if (!this.files) return;
    const entries = [...this.files].map(([path, bytes]) => ({ path, bytes }));
    const blob = new Blob([zipStored(entries)], { type: "application/zip" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `${(this.name || "textgen").replace(/[^A-Za-z0-9_.-]+/g, "_")}-trained.zip`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
  }
}
