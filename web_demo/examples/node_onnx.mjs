// Greedy text from a textgen-export bundle in Node.js with onnxruntime-node (char-level models).
//
// usage (from web_demo/, after `npm ci`): node examples/node_onnx.mjs BUNDLE [PREFIX] [MAX_TOKENS]
// The bundle contract (manifest.json, config.json, vocab.json, model.onnx) is described in README.md.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as ort from "onnxruntime-node";

const [folder, prefix = "", maxTokensArg = "120"] = process.argv.slice(2);
const maxTokens = Number(maxTokensArg); // counting the start token, like textgenrnn
const readJson = (name) => JSON.parse(readFileSync(join(folder, name), "utf-8"));

const manifest = readJson("manifest.json");
if (manifest.format !== "textgen-export-bundle" || manifest.format_version !== 1) {
  throw new Error("unsupported bundle format; re-export it with this version of textgen-export");
}
for (const [name, entry] of Object.entries(manifest.files)) {
  const digest = createHash("sha256").update(readFileSync(join(folder, name))).digest("hex");
  if (digest !== entry.sha256) throw new Error(`bundle file ${name} does not match its checksum`);
}
const config = readJson("config.json");
if (config.word_level || config.single_text) throw new Error("this short example handles char-level models");
const vocab = readJson("vocab.json"); // token -> index, 0 = padding/unknown
const tokenOf = new Map(Object.entries(vocab).map(([token, index]) => [index, token]));
const session = await ort.InferenceSession.create(join(folder, "model.onnx"));
const start = manifest.meta_token; // "<s>" opens (and ends) every text
const length = config.max_length;

const tokens = [start, ...prefix]; // spreading a string splits it into code points, like Python's list()
while (tokens.length < maxTokens) {
  const ids = tokens.slice(-length).map((token) => vocab[token] ?? 0);
  const window = new Int32Array(length); // the last max_length tokens, left-padded with 0
  window.set(ids, length - ids.length);
  const { probs } = await session.run({ windows: new ort.Tensor("int32", window, [1, length]) }, ["probs"]);
  let best = 0;
  for (let i = 1; i < probs.data.length; i++) if (probs.data[i] > probs.data[best]) best = i;
  const token = tokenOf.get(best) ?? "";
  if (token === start) break;
  tokens.push(token);
}
console.log(tokens.slice(1).join(""));
