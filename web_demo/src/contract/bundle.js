// Reading a textgen-export bundle (format: textgen_export/contract/bundle.py) from any source: a URL, files picked in the
// page, or a folder on disk (node.js).  Every file the manifest lists is checked (size, sha256) when read, and
// every problem is a BundleError whose message names the file.

import { ContextLabels } from "./labels.js";
import { Vocabulary } from "./vocabulary.js";

export const FORMAT = "textgen-export-bundle";
export const FORMAT_VERSION = 1;
// A model fine-tuned outside Python (training/trained_bundle.js): not a bundle until `textgen-export export`.
export const TRAINED_FORMAT = "textgen-export-trained";
export const TRAINED_FORMAT_VERSION = 1;
// The bundle's file names and graph names: the one JS copy (twin of textgen_export/contract/bundle.py).
export const MANIFEST = "manifest.json";
export const CONFIG = "config.json";
export const VOCAB = "vocab.json";
export const ONNX = "model.onnx";
export const ONNX_INT8 = "model.int8.onnx";
export const ONNX_TAIL = "model_tail.onnx"; // the padding fast path (input TAIL)
export const TFJS_DIR = "tfjs";
export const TFJS_MODEL = `${TFJS_DIR}/model.json`;
export const PROBE = "parity/probe.json";
export const INPUT = "windows";
export const PROBS = "probs";
export const ATTENTION = "attention";
export const TAIL = "tail";
export const CONTEXT = "context"; // model.context.onnx's second input: label vectors
export const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;
// A context head (contract/bundle.py): its labels, and its graphs beside the text path's.
export const LABELS = "labels.json";
export const ONNX_CONTEXT = "model.context.onnx";
export const TFJS_CONTEXT = "tfjs/context.json";
const CONFIG_KEYS = ["max_length", "rnn_size", "rnn_layers", "dim_embeddings", "word_level"];
// Twin of textgen_export/contract/config.py (_INT_BOUNDS and the booleans) and vocabulary.py (MAX_VOCAB): what
// Python refuses, the page and Node refuse too.
const CONFIG_INTS = {
  rnn_layers: [1, 16],
  rnn_size: [1, 4096],
  max_length: [1, 2048],
  max_words: [1, 1_000_000],
  dim_embeddings: [1, 4096],
};
const CONFIG_BOOLS = ["rnn_bidirectional", "word_level", "single_text"];
export const MAX_VOCAB = 1_000_000;

export class BundleError extends Error {
  constructor(message) {
    super(message);
    this.name = "BundleError";
  }
}

/** A bundle served over HTTP at `baseUrl` (a folder URL; a trailing slash is added). */
export function urlSource(baseUrl) {
  const base = new URL(baseUrl.endsWith("/") ? baseUrl : baseUrl + "/", globalThis.location?.href);
  return {
    name: base.href,
    async read(path, limit) {
      let response;
      try {
        response = await fetch(new URL(path, base));
      } catch (err) {
        throw new BundleError(`${path}: could not be fetched from ${base.href} (${err.message})`);
      }
      if (!response.ok) throw new BundleError(`${path}: not found in bundle ${base.href} (HTTP ${response.status})`);
      // The size is compared before the body is read (a 10 GB file the manifest says is 1 byte is not fetched).
      const declared = Number(response.headers.get("Content-Length") ?? NaN);
      if (declared > limit) {
        response.body?.cancel();
        throw new BundleError(`${path}: ${declared} bytes, over the ${limit} expected`);
      }
      return readAtMost(response, path, limit);
    },
  };
}

async function readAtMost(response, path, limit) {
  if (!response.body) return new Uint8Array(await response.arrayBuffer());
  const reader = response.body.getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      await reader.cancel();
      throw new BundleError(`${path}: over the ${limit} bytes expected`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

/** A bundle picked as files in the page (<input type=file webkitdirectory> or multiple files). */
export function filesSource(files) {
  const byPath = new Map();
  for (const file of files) {
    const rel = (file.webkitRelativePath || file.name).split("/");
    // Drop the picked folder's own name: paths are relative to the bundle root.
    byPath.set(rel.length > 1 ? rel.slice(1).join("/") : rel[0], file);
  }
  // Files picked without their folder: tfjs/ files are matched by name.
  for (const file of files) {
    if (!file.webkitRelativePath && /^group\d+-shard\d+of\d+\.bin$|^model\.json$/.test(file.name)) {
      if (!byPath.has(`tfjs/${file.name}`)) byPath.set(`tfjs/${file.name}`, file);
    }
  }
  return {
    name: "picked files",
    async read(path, limit) {
      const file = byPath.get(path);
      if (!file) throw new BundleError(`${path}: missing from the picked files (pick the whole bundle folder)`);
      if (file.size > limit) throw new BundleError(`${path}: ${file.size} bytes, over the ${limit} expected`);
      return new Uint8Array(await file.arrayBuffer());
    },
  };
}

async function sha256Hex(bytes) {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return null; // not a secure context: sizes are still checked
  const digest = new Uint8Array(await subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

function parseJson(path, bytes) {
  try {
    // ignoreBOM keeps a byte order mark in the text, where JSON.parse refuses it (as Python's json does)
    return JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes));
  } catch (err) {
    throw new BundleError(`${path}: not valid JSON (${err.message})`);
  }
}

/** Throws unless every number in the JSON text is written as an integer: Python reads `1.0` and `1e0` as floats
 * (refused where an integer is due), JSON.parse as the integer 1, so the text itself is checked. */
function checkIntegerLiterals(path, bytes) {
  const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
    } else if (ch === "-" || (ch >= "0" && ch <= "9")) {
      const literal = /^-?[0-9]*(\.[0-9]*)?([eE][-+]?[0-9]*)?/.exec(text.slice(i, i + 400))[0] || ch;
      if (/[.eE]/.test(literal)) {
        throw new BundleError(`${path}: the number ${literal.slice(0, 40)} is not an integer as written (write it without a fraction or exponent); re-export the bundle`);
      }
      i += literal.length - 1;
    }
  }
}

/** config.json's values, checked as Python's ModelConfig checks them (a string "false" is not false). */
function checkConfig(config) {
  if (!config || typeof config !== "object" || Array.isArray(config)) throw new BundleError("config.json: must be a JSON object");
  for (const key of CONFIG_KEYS) {
    if (!(key in config)) throw new BundleError(`config.json: missing key "${key}"`);
  }
  for (const [key, [low, high]] of Object.entries(CONFIG_INTS)) {
    const value = config[key];
    if (value !== undefined && !(Number.isInteger(value) && value >= low && value <= high)) {
      throw new BundleError(`config.json: ${key} must be an integer from ${low} to ${high}, got ${JSON.stringify(value)}`);
    }
  }
  for (const key of CONFIG_BOOLS) {
    if (config[key] !== undefined && typeof config[key] !== "boolean") {
      throw new BundleError(`config.json: ${key} must be true or false, got ${JSON.stringify(config[key])}`);
    }
  }
  if (config.name !== undefined && !(typeof config.name === "string" && config.name && config.name.isWellFormed())) {
    throw new BundleError(`config.json: name must be a non-empty string, got ${JSON.stringify(config.name)}`);
  }
}

/** Names a bundle may use for its files: relative, "/"-separated, no "." or ".." segments, no backslashes. */
export function checkBundlePath(path) {
  const segments = typeof path === "string" ? path.split("/") : [];
  const bad =
    segments.length === 0 ||
    path.includes("\\") ||
    path.includes("\0") ||
    /^[A-Za-z]:/.test(path) ||
    segments.some((s) => s === "" || s === "." || s === "..");
  if (bad) throw new BundleError(`manifest.json: unsafe path ${JSON.stringify(path)} (it would leave the bundle); re-export the bundle`);
  return path;
}

// ONNX "external data" makes ONNX Runtime open other files by itself (relative to the working directory when a
// model is given as bytes).  Our exporter never writes it, so a bundle model using it is refused.  Twin of
// textgen_export/runtime/onnx_external.py: a bounded walk of the protobuf fields that can hold tensors.  A model
// the walk cannot follow is refused too (ONNX Runtime's parser skips a group field, wire types 3/4, and loads what
// comes after it); a data_location other than DEFAULT counts as external whatever its value or wire type.
const ONNX_SCHEMA = {
  model: { 7: "graph", 20: "training", 25: "function" },
  training: { 1: "graph", 2: "graph" },
  graph: { 1: "node", 5: "tensor", 15: "sparse" },
  function: { 7: "node", 11: "attribute" },
  node: { 5: "attribute" },
  attribute: { 5: "tensor", 6: "graph", 10: "tensor", 11: "graph", 22: "sparse", 23: "sparse" },
  sparse: { 1: "tensor", 2: "tensor" },
};

function onnxExternal(bytes, start, end, kind, depth) {
  if (depth > 64) throw new Error("protobuf messages nested too deeply");
  let pos = start;
  const varint = () => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= end || shift > 63n) throw new Error("truncated varint");
      const byte = bytes[pos++];
      result |= BigInt(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return result;
      shift += 7n;
    }
  };
  while (pos < end) {
    const key = varint();
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    let value = null;
    let inner = null;
    if (wire === 0) value = varint();
    else if (wire === 1 || wire === 5) pos += wire === 1 ? 8 : 4;
    else if (wire === 2) {
      const size = varint();
      if (size > BigInt(end - pos)) throw new Error(`protobuf field ${field} is truncated`);
      inner = [pos, pos + Number(size)];
      pos += Number(size);
    } else throw new Error(`protobuf field ${field} has wire type ${wire}, which ONNX never writes`);
    if (pos > end) throw new Error(`protobuf field ${field} is truncated`);
    if (kind === "tensor") {
      if (field === 13 || (field === 14 && (value === null || (value & 0xffffffffn) !== 0n))) return true;
    } else if (inner && ONNX_SCHEMA[kind][field]) {
      if (onnxExternal(bytes, inner[0], inner[1], ONNX_SCHEMA[kind][field], depth + 1)) return true;
    }
  }
  return false;
}

/** True if any tensor of the ONNX model `bytes` keeps its data in another file; throws if it cannot be walked. */
export function usesExternalData(bytes) {
  return onnxExternal(bytes, 0, bytes.length, "model", 0);
}

/** Throws a BundleError unless the ONNX model `bytes` (bundle file `path`) provably uses no external data. */
export function checkNoExternalData(path, bytes) {
  let external;
  try {
    external = usesExternalData(bytes);
  } catch (err) {
    throw new BundleError(`${JSON.stringify(path)}: not a loadable ONNX model (${err.message}: it cannot be checked for external data); re-export the bundle`);
  }
  if (external) {
    throw new BundleError(`${JSON.stringify(path)}: keeps tensor data in other files (ONNX external data), which a bundle may not do; re-export the bundle`);
  }
}

/** A loaded bundle: manifest, config and Vocabulary validated; `read`/`readJson` verify against the manifest. */
export class Bundle {
  constructor(source, manifest) {
    this.source = source;
    this.manifest = manifest;
  }

  /** A file the manifest lists, checked against its size and sha256; any other name is refused unread. */
  async read(path) {
    checkBundlePath(path);
    const entry = Object.hasOwn(this.manifest.files, path) ? this.manifest.files[path] : null;
    if (!entry || typeof entry !== "object" || !Number.isSafeInteger(entry.size) || entry.size < 0) {
      throw new BundleError(`${JSON.stringify(path)}: not listed in manifest.json (a bundle reads only the files it lists); re-export the bundle`);
    }
    const bytes = await this.source.read(path, entry.size);
    if (bytes.length !== entry.size) {
      throw new BundleError(`${JSON.stringify(path)}: ${bytes.length} bytes, the manifest says ${entry.size} (truncated or replaced; re-export the bundle)`);
    }
    const hex = await sha256Hex(bytes);
    if (hex !== null && hex !== entry.sha256) {
      throw new BundleError(`${JSON.stringify(path)}: sha256 does not match the manifest (corrupted; re-export the bundle)`);
    }
    if (path.endsWith(".onnx")) checkNoExternalData(path, bytes);
    return bytes;
  }

  async readJson(path) {
    return parseJson(path, await this.read(path));
  }

  /** A listed JSON file whose numbers must all be written as integers (config.json, vocab.json). */
  async readIntegerJson(path) {
    const bytes = await this.read(path);
    checkIntegerLiterals(path, bytes);
    return parseJson(path, bytes);
  }

  has(path) {
    return Object.hasOwn(this.manifest.files, path);
  }
}

/** Open and validate a bundle from a source; throws BundleError naming the bad file. */
export async function openBundle(source) {
  const manifest = parseJson(MANIFEST, await source.read(MANIFEST, MAX_MANIFEST_BYTES));
  if (!manifest || manifest.format !== FORMAT) {
    throw new BundleError("manifest.json: not a textgen-export bundle manifest (missing format); re-export the bundle");
  }
  if (manifest.format_version !== FORMAT_VERSION) {
    throw new BundleError(`manifest.json: format_version ${manifest.format_version} is not supported (expected ${FORMAT_VERSION})`);
  }
  if (!manifest.files || typeof manifest.files !== "object" || Array.isArray(manifest.files)) {
    throw new BundleError("manifest.json: no files list");
  }
  for (const path of Object.keys(manifest.files)) checkBundlePath(path);
  const bundle = new Bundle(source, manifest);
  const config = await bundle.readIntegerJson(CONFIG);
  checkConfig(config);
  const mapping = await bundle.readIntegerJson(VOCAB);
  checkVocab(mapping);
  const vocab = new Vocabulary(mapping, config.word_level);
  if (manifest.num_classes !== vocab.numClasses) {
    throw new BundleError(`vocab.json: ${vocab.numClasses} classes, manifest.json says ${manifest.num_classes}`);
  }
  bundle.config = config;
  bundle.vocab = vocab;
  let labels = null;
  if (bundle.has(LABELS)) {
    try {
      labels = new ContextLabels(await bundle.readJson(LABELS));
    } catch (err) {
      throw err instanceof BundleError ? err : new BundleError(err.message);
    }
  }
  bundle.labels = labels;
  return bundle;
}

function checkVocab(mapping) {
  if (!mapping || typeof mapping !== "object" || Array.isArray(mapping)) {
    throw new BundleError("vocab.json: must be a JSON object token -> index");
  }
  const entries = Object.entries(mapping);
  if (entries.length === 0) throw new BundleError("vocab.json: vocab is empty; it needs at least one token");
  if (entries.length > MAX_VOCAB) throw new BundleError(`vocab.json: vocab has ${entries.length} entries, over the limit of ${MAX_VOCAB}`);
  const seen = new Set();
  for (const [tok, idx] of entries) {
    if (!tok.isWellFormed()) throw new BundleError(`vocab.json: token ${JSON.stringify(tok)} is not valid Unicode (a lone surrogate)`);
    if (!Number.isInteger(idx) || idx < 1 || seen.has(idx)) {
      throw new BundleError(`vocab.json: token ${JSON.stringify(tok)} has a bad or repeated index ${JSON.stringify(idx)}`);
    }
    seen.add(idx);
  }
  const n = seen.size;
  for (let i = 1; i <= n; i++) if (!seen.has(i)) throw new BundleError(`vocab.json: indices must be exactly 1..${n}`);
}
