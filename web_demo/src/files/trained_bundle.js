// A model trained outside Python (the page's Train panel, the Node trainer) as bundle files: the source bundle's
// config.json and vocab.json unchanged, tfjs/model.json (the source's topology, the trained weights as float32
// shards of at most 4 MiB) and a manifest.json that lists them (size, sha256) and says, under "trained", where
// and how it was trained and that it is not validated (no float64 reference was checked: `textgen-export
// export` does that).  docs/design.md §5 "Trained outside Python" is the format.  Also: the files as a bundle
// source, so the page opens the trained model as it opens any bundle.

import { BundleError, CONFIG, FORMAT, FORMAT_VERSION, MANIFEST, TFJS_DIR, TFJS_MODEL, VOCAB } from "../contract/bundle.js";
import { META_TOKEN } from "../contract/tokens.js";

export const SHARD_BYTES = 4 * 1024 * 1024; // as export/tfjs.py writes them
const MAX_NAME_CHARS = 100; // contract/bundle.py
const MAX_DESCRIPTION_CHARS = 300;

const encode = (text) => new TextEncoder().encode(text);
const oneLine = (text, limit) => String(text).split(/\s+/).filter(Boolean).join(" ").slice(0, limit);

async function sha256Hex(bytes) {
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The trained weights of `model` as TF.js saves them: {specs (names, shapes, float32), data (Uint8Array)}. */
export async function savedWeights(tf, model) {
  let artifacts = null;
  await model.save(
    tf.io.withSaveHandler(async (saved) => {
      artifacts = saved;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
  );
  const { weightSpecs, weightData } = artifacts;
  const buffer = Array.isArray(weightData) ? tf.io.concatenateArrayBuffers(weightData) : weightData;
  if (weightSpecs.some((spec) => spec.dtype !== "float32" || spec.quantization)) {
    throw new BundleError("the trained model holds weights that are not float32");
  }
  return { specs: weightSpecs, data: new Uint8Array(buffer) };
}

/**
 * The bundle files of a trained model: [{path, bytes}], manifest.json last.
 *   source: {modelJson (the source bundle's tfjs/model.json, parsed), config, configBytes, vocabBytes, numClasses,
 *            name, toolVersion}; weights: savedWeights(); trained: {in: "browser" | "node", from, ...figures};
 *   name / description: what the manifest says of the model.
 */
export async function trainedBundleFiles(source, weights, trained, { name, description = null }) {
  const { data } = weights;
  const count = Math.max(1, Math.ceil(data.length / SHARD_BYTES));
  const paths = Array.from({ length: count }, (_, k) => `group1-shard${k + 1}of${count}.bin`);
  const modelJson = {
    format: "layers-model",
    generatedBy: "textgen_export",
    convertedBy: `textgen_export trainer (${trained.in})`,
    modelTopology: source.modelJson.modelTopology,
    weightsManifest: [{ paths, weights: weights.specs }],
  };
  const files = [
    { path: CONFIG, bytes: source.configBytes },
    { path: VOCAB, bytes: source.vocabBytes },
    { path: TFJS_MODEL, bytes: encode(JSON.stringify(modelJson, null, 1) + "\n") },
    ...paths.map((path, k) => ({ path: `${TFJS_DIR}/${path}`, bytes: data.subarray(k * SHARD_BYTES, (k + 1) * SHARD_BYTES) })),
  ];
  const listed = {};
  for (const { path, bytes } of files) listed[path] = { size: bytes.length, sha256: await sha256Hex(bytes) };
  const manifest = {
    format: FORMAT,
    format_version: FORMAT_VERSION,
    tool_version: source.toolVersion ?? null,
    name: oneLine(name, MAX_NAME_CHARS) || "textgen",
    ...(description ? { description: oneLine(description, MAX_DESCRIPTION_CHARS) } : {}),
    config: source.config,
    num_classes: source.numClasses,
    meta_token: META_TOKEN,
    files: listed,
    parity: {},
    trained: { ...trained, validated: false },
  };
  files.push({ path: MANIFEST, bytes: encode(JSON.stringify(manifest, null, 2) + "\n") });
  return files;
}

/** Bundle files held in memory ([{path, bytes}]) as a source for contract/bundle.js's openBundle. */
export function memorySource(files, name = "trained model") {
  const byPath = new Map(files.map(({ path, bytes }) => [path, bytes]));
  return {
    name,
    async read(path, limit) {
      const bytes = byPath.get(path);
      if (!bytes) throw new BundleError(`${path}: not in the ${name}`);
      if (bytes.length > limit) throw new BundleError(`${path}: ${bytes.length} bytes, over the ${limit} expected`);
      return bytes;
    },
  };
}
