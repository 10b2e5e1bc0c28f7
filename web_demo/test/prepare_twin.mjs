// Driven by tests/e2e/test_node_train.py: the JS twin of `train`'s data preparation on the inputs Python gets.
//   node test/prepare_twin.mjs SPEC.json
//   SPEC: {"vocab": {token: index}, "config": {...}, "file": path, "header", "train_size", "seed" (string),
//          "batch_size"}; singleText is config.single_text (train's --largetext)
// Output: {"ids", "doc_starts", "train", "validation", "windows" (of the train pairs, flat), "targets"}

import { readFileSync } from "node:fs";
import { Vocabulary } from "../src/contract/vocabulary.js";
import { pairs } from "../src/training/corpus.js";
import { prepareTraining } from "../src/training/prepare.js";

const spec = JSON.parse(readFileSync(process.argv[2], "utf8"));
const prepared = prepareTraining({
  vocabulary: new Vocabulary(spec.vocab, spec.config.word_level),
  config: spec.config,
  text: new TextDecoder().decode(readFileSync(spec.file)),
  header: spec.header,
  trainSize: spec.train_size,
  seed: BigInt(spec.seed),
  batchSize: spec.batch_size,
});
const { windows, targets } = pairs(prepared.corpus, prepared.train);
process.stdout.write(
  JSON.stringify({
    ids: Array.from(prepared.corpus.ids),
    doc_starts: Array.from(prepared.corpus.docStarts),
    train: Array.from(prepared.train),
    validation: Array.from(prepared.validation),
    windows: Array.from(windows),
    targets: Array.from(targets),
  }),
);
