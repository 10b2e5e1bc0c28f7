// `npm test` in web_demo: the JS generation loop streams in linear time, and its pieces join to the text.
// Twin of tests/unit/test_streaming.py.

import assert from "node:assert/strict";
import { test } from "node:test";
import { performance } from "node:perf_hooks";
import { Generator } from "../src/sampling/generator.js";
import { Vocabulary } from "../src/contract/vocabulary.js";

/** The same distribution for every window: the loop's own cost is what is measured. */
function generator(wordLevel) {
  const tokens = wordLevel ? ["the", "cat", ",", "sat", ".", "'", '"', "(", ")"] : [..."abc de,f."];
  const mapping = Object.fromEntries([...tokens, "<s>"].map((t, i) => [t, i + 1]));
  const vocab = new Vocabulary(mapping, wordLevel);
  const V = vocab.numClasses;
  const row = new Float32Array(V).fill(1 / (V - 2));
  row[0] = 0;
  row[mapping["<s>"]] = 0; // never the end marker: texts run to maxGenLength
  const adapter = {
    async probs(_windows, B) {
      const out = new Float32Array(B * V);
      for (let b = 0; b < B; b++) out.set(row, b * V);
      return out;
    },
  };
  return new Generator(adapter, vocab, { max_length: 8, word_level: wordLevel, single_text: false });
}

for (const wordLevel of [false, true]) {
  test(`stream pieces join to the generated text (word level: ${wordLevel})`, async () => {
    const gen = generator(wordLevel);
    const options = { n: 3, temperature: 1, seed: 11, maxGenLength: 400, prefix: "the" };
    const texts = await gen.generate(options);
    const pieces = ["", "", ""];
    for await (const [i, piece] of gen.stream(options)) pieces[i] += piece;
    assert.deepEqual(pieces, texts);
  });

  test(`streaming is linear: 4x the tokens cost at most 6x the time (word level: ${wordLevel})`, async () => {
    // An async generator pays one await per yielded piece, a constant per token; re-joining the text per
    // token (the old way) made 20k tokens cost ~16x 5k tokens.
    const gen = generator(wordLevel);
    const run = async (tokens) => {
      const start = performance.now();
      for await (const _ of gen.stream({ temperature: 1, seed: 3, maxGenLength: tokens }));
      return performance.now() - start;
    };
    // The fastest of 4 timings each, short and long taking turns, so a burst of load slows both alike.
    let short = Infinity;
    let long = Infinity;
    for (let r = 0; r < 4; r++) {
      short = Math.min(short, await run(5000));
      long = Math.min(long, await run(20000));
    }
    assert.ok(long <= 6 * short, `20k tokens ${long.toFixed(1)} ms vs 5k tokens ${short.toFixed(1)} ms`);
  });
}
