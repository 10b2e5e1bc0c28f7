// The files of a model fine-tuned outside Python (by train.mjs in Node, or by the page): the source bundle's
// TF.js layout with the trained weights, its vocabulary and config, and a manifest that says where it was trained
// and that nothing has validated it yet.  `textgen-export export DIR` turns it into a full bundle.
// The format is written down in docs/design.md ("A bundle trained outside Python"):
//
//   manifest.json      {"format": "textgen-export-trained", "format_version": 1, "trained_in": "node" | "browser",
//                       "validated": false, "name": ..., "config": {...}, "num_classes": N, "meta_token": "<s>",
//                       "trained_from": {"name": source bundle's name or null, "tfjs_sha256": its tfjs/model.json's},
//                       "training": {...what the run did: steps, epochs, batch_size, train_size, seed, losses...},
//                       "files": {path: {"size": bytes, "sha256": hex}} for every other file}
//   config.json, vocab.json   the source bundle's, byte for byte
//   tfjs/model.json    the source's modelTopology; weightsManifest: one group, float32 weights under the source's
//                      names and order, in shards group1-shardKofN.bin of at most 4 MiB

import { CONFIG, MANIFEST, TFJS_DIR, TFJS_MODEL, TRAINED_FORMAT, TRAINED_FORMAT_VERSION, VOCAB } from "../contract/bundle.js";
import { META_TOKEN } from "../contract/tokens.js";
import { TrainingError } from "./texts.js";

const SHARD_BYTES = 4 * 1024 * 1024; // as textgen_export/export/tfjs.py

async function sha256Hex(bytes) {
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The trained weights as float32 bytes in the order of the source model.json's weight specs (matched by name). */
async function weightBytes(model, specs) {
  const byName = new Map();
  for (const w of model.weights) byName.set(w.originalName ?? w.name, w);
  const parts = [];
  for (const spec of specs) {
    const weight = byName.get(spec.name);
    if (!weight) throw new TrainingError(`the model has no weight ${JSON.stringify(spec.name)} its model.json lists; re-export the bundle`);
    parts.push(new Float32Array(await weight.read().data()));
  }
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    bytes.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), at);
    at += p.byteLength;
  }
  return bytes;
}

/** What trainedFiles needs of the source bundle, read from an opened one (contract/bundle.js openBundle). */
export async function sourceOf(bundle) {
  return {
    modelJson: await bundle.readJson(TFJS_MODEL),
    config: bundle.config,
    configBytes: await bundle.read(CONFIG),
    vocabBytes: await bundle.read(VOCAB),
    name: bundle.manifest.name ?? null,
    tfjsSha256: bundle.manifest.files[TFJS_MODEL]?.sha256 ?? null,
  };
}

/**
 * The files (Map path -> Uint8Array, manifest.json last) of `model` trained from a source bundle.
 *   source: {modelJson (the source's parsed tfjs/model.json), config (object), configBytes, vocabBytes, name}
 *   result: fineTune's result; options: {trainedIn: "node" | "browser", steps, epochs, batchSize, trainSize, seed}
 */
export async function trainedFiles(model, source, result, options) {
  const specs = source.modelJson.weightsManifest[0].weights;
  const data = await weightBytes(model, specs);
  const count = Math.max(1, Math.ceil(data.length / SHARD_BYTES));
  const paths = Array.from({ length: count }, (_, k) => `group1-shard${k + 1}of${count}.bin`);
  const files = new Map();
  files.set(CONFIG, source.configBytes);
  files.set(VOCAB, source.vocabBytes);
  const modelJson = {
    format: "layers-model",
    generatedBy: "textgen_export web_demo/src/training",
    convertedBy: null,
    modelTopology: source.modelJson.modelTopology,
    weightsManifest: [{ paths, weights: specs.map((s) => ({ name: s.name, shape: s.shape, dtype: "float32" })) }],
  };
  files.set(TFJS_MODEL, new TextEncoder().encode(JSON.stringify(modelJson, null, 1) + "\n"));
  paths.forEach((path, k) => files.set(`${TFJS_DIR}/${path}`, data.subarray(k * SHARD_BYTES, (k + 1) * SHARD_BYTES)));
  const listed = {};
  for (const [path, bytes] of files) listed[path] = { size: bytes.length, sha256: await sha256Hex(bytes) };
  const vocabSize = Object.keys(JSON.parse(new TextDecoder().decode(source.vocabBytes))).length;
  const manifest = {
    format: TRAINED_FORMAT,
    format_version: TRAINED_FORMAT_VERSION,
    trained_in: options.trainedIn,
    validated: false,
    name: source.name ?? null,
    config: source.config,
    num_classes: vocabSize + 1,
    meta_token: META_TOKEN,
    trained_from: { name: source.name ?? null, tfjs_sha256: source.tfjsSha256 ?? null },
    training: {
      steps_per_epoch: options.steps ?? null,
      epochs: options.epochs,
      batch_size: options.batchSize,
      train_size: options.trainSize,
      seed: options.seed === null || options.seed === undefined ? null : String(options.seed),
      steps_done: result.stepsDone,
      epochs_done: result.epochsDone,
      stopped: result.stopped,
      train_loss: result.trainLoss,
      initial_validation_loss: result.initialValidationLoss,
      validation_loss: result.validationLoss,
      loss_unit: "nats per token",
      windows_per_second: result.windowsPerSecond,
      seconds: result.seconds,
      history: result.history.map((h) => ({
        epoch: h.epoch,
        learning_rate: h.learningRate,
        loss: h.loss,
        validation_loss: h.validationLoss,
        steps: h.steps,
        windows: h.windows,
        seconds: h.seconds,
      })),
    },
    files: listed,
  };
  files.set(MANIFEST, new TextEncoder().encode(JSON.stringify(manifest, null, 1) + "\n"));
  return files;
}
