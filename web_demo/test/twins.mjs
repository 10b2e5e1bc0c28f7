// Driven by tests/e2e/test_node_parity.py: the JS twins of rng.py and tokens.py on the same inputs as Python.
//   node test/twins.mjs SPEC.json   SPEC: {"seeds": [int as string], "draws": k, "texts": [str]}
// Output: {"uniform": [[float]], "u64": [[str]], "char": [[str]], "word": [[str]], "joined": [str], "streamed": [str]}

import { readFileSync } from "node:fs";
import { SplitMix64 } from "../src/sampling/rng.js";
import { Detokenizer, detokenize, tokenize } from "../src/contract/tokens.js";

const spec = JSON.parse(readFileSync(process.argv[2], "utf8"));
const out = { uniform: [], u64: [], char: [], word: [], joined: [], streamed: [] };
for (const seed of spec.seeds) {
  const a = new SplitMix64(BigInt(seed));
  const b = new SplitMix64(BigInt(seed));
  out.uniform.push(Array.from({ length: spec.draws }, () => a.uniform()));
  out.u64.push(Array.from({ length: spec.draws }, () => b.nextU64().toString()));
}
for (const text of spec.texts) {
  const words = tokenize(text, true);
  out.char.push(tokenize(text, false));
  out.word.push(words);
  out.joined.push(detokenize(words, true));
  const joiner = new Detokenizer(true);
  out.streamed.push(words.map((w) => joiner.push(w)).join(""));
}
process.stdout.write(JSON.stringify(out));
