// Reading a textgen-export bundle (format: textgen_export/bundle.py) from any source: a URL, files picked in the
// page, or a folder on disk (node.js).  Every file the manifest lists is checked (size, sha256) when read, and
// every problem is a BundleError whose message names the file.

import { Vocabulary } from "./vocabulary.js";

export const FORMAT = "textgen-export-bundle";
export const FORMAT_VERSION = 1;
export const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;
export const PROBE = "parity/probe.json"; // probe windows + float64 reference + tolerance (export/validate.py)
const CONFIG_KEYS = ["max_length", "rnn_size", "rnn_layers", "dim_embeddings", "word_level"];

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
      const bytes = new Uint8Array(await response.arrayBuffer());
      if (bytes.length > limit) throw new BundleError(`${path}: ${bytes.length} bytes, over the ${limit} expected`);
      return bytes;
    },
  };
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
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (err) {
    throw new BundleError(`${path}: not valid JSON (${err.message})`);
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
// textgen_export/runtime/onnx_external.py: a bounded walk of the protobuf fields that can hold tensors.
const ONNX_SCHEMA = {
  model: { 7: "graph", 20: "training", 25: "function" },
  training: { 1: "graph", 2: "graph" },
  graph: { 1: "node", 5: "tensor", 15: "sparse" },
  function: { 7: "node" },
  node: { 5: "attribute" },
  attribute: { 5: "tensor", 6: "graph", 10: "tensor", 11: "graph", 22: "sparse", 23: "sparse" },
  sparse: { 1: "tensor", 2: "tensor" },
};

function onnxExternal(bytes, start, end, kind, depth) {
  if (depth > 64) throw new Error("nested too deeply");
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
    if (wire === 0) {
      const value = varint();
      if (kind === "tensor" && field === 14 && value === 1n) return true;
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const size = Number(varint());
      if (pos + size > end) throw new Error("truncated field");
      if (kind === "tensor" && field === 13) return true;
      const inner = kind !== "tensor" ? ONNX_SCHEMA[kind][field] : undefined;
      if (inner && onnxExternal(bytes, pos, pos + size, inner, depth + 1)) return true;
      pos += size;
    } else throw new Error(`wire type ${wire}`);
  }
  return false;
}

/** True if any tensor of the ONNX model `bytes` keeps its data in another file. */
export function usesExternalData(bytes) {
  return onnxExternal(bytes, 0, bytes.length, "model", 0);
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
    if (path.endsWith(".onnx")) {
      let external = false;
      try {
        external = usesExternalData(bytes);
      } catch {
        // not a protobuf at all: ONNX Runtime refuses to load it, with its own message
      }
      if (external) {
        throw new BundleError(`${JSON.stringify(path)}: keeps tensor data in other files (ONNX external data), which a bundle may not do; re-export the bundle`);
      }
    }
    return bytes;
  }

  async readJson(path) {
    return parseJson(path, await this.read(path));
  }

  has(path) {
    return Object.hasOwn(this.manifest.files, path);
  }
}

/** Open and validate a bundle from a source; throws BundleError naming the bad file. */
export async function openBundle(source) {
  const manifest = parseJson("manifest.json", await source.read("manifest.json", MAX_MANIFEST_BYTES));
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
  const config = await bundle.readJson("config.json");
  for (const key of CONFIG_KEYS) {
    if (!(key in (config ?? {}))) throw new BundleError(`config.json: missing key "${key}"`);
  }
  if (!Number.isInteger(config.max_length) || config.max_length < 1) {
    throw new BundleError(`config.json: max_length must be a positive integer, got ${JSON.stringify(config.max_length)}`);
  }
  const mapping = await bundle.readJson("vocab.json");
  checkVocab(mapping);
  const vocab = new Vocabulary(mapping, Boolean(config.word_level));
  if (manifest.num_classes !== undefined && manifest.num_classes !== vocab.numClasses) {
    throw new BundleError(`vocab.json: ${vocab.numClasses} classes, manifest.json says ${manifest.num_classes}`);
  }
  bundle.config = config;
  bundle.vocab = vocab;
  return bundle;
}

function checkVocab(mapping) {
  if (!mapping || typeof mapping !== "object" || Array.isArray(mapping)) {
    throw new BundleError("vocab.json: must be a JSON object token -> index");
  }
  const seen = new Set();
  for (const [tok, idx] of Object.entries(mapping)) {
    if (!Number.isInteger(idx) || idx < 1 || seen.has(idx)) {
      throw new BundleError(`vocab.json: token ${JSON.stringify(tok)} has a bad or repeated index ${JSON.stringify(idx)}`);
    }
    seen.add(idx);
  }
  const n = seen.size;
  for (let i = 1; i <= n; i++) if (!seen.has(i)) throw new BundleError(`vocab.json: indices must be exactly 1..${n}`);
}
