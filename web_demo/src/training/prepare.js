// Texts → the checked, encoded corpus and its train/validation split, before anything trains: twin of
// textgen_export/training/prepare.py (split_positions and the checks of `prepare`).

import { SplitMix64 } from "../sampling/rng.js";
import { buildCorpus } from "./corpus.js";
import { shuffle } from "./shuffle.js";
import { TrainingError, isBlank, textsFromFile } from "./texts.js";

/** Python's round(): halves go to the even neighbour. */
function roundHalfEven(x) {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** A random 64-bit data seed, for runs given none (Python: numpy's SeedSequence entropy). */
function randomSeed() {
  const words = new Uint32Array(2);
  globalThis.crypto.getRandomValues(words);
  return (BigInt(words[0]) << 32n) | BigInt(words[1]);
}

/**
 * Shuffle `positions` once in place (shuffle.js, a fresh stream from `seed`) and hold out the last
 * (1 - trainSize) as validation positions; trainSize >= 1 keeps all for training, unshuffled.
 */
export function splitPositions(positions, trainSize, seed) {
  if (trainSize >= 1) return { train: positions, validation: positions.subarray(0, 0) };
  shuffle(positions, new SplitMix64(seed));
  const nTrain = roundHalfEven(positions.length * trainSize);
  return { train: positions.subarray(0, nTrain), validation: positions.subarray(nTrain) };
}

/**
 * Everything checked and encoded before training (bad input fails here).
 *   vocabulary: contract/vocabulary.js Vocabulary; config: the bundle's config (max_length, single_text);
 *   text: a training file's content (one text per line, or one text with singleText) | texts: string[];
 *   trainSize in (0, 1] (default 1: no validation); seed: the data seed (any integer; default random);
 *   singleText: the file is one long text (train's --largetext); default config.single_text;
 *   batchSize: checked against the training pairs (default 128).
 * Returns {corpus, train, validation (Uint32Array target positions), seed (BigInt, the data seed), texts,
 * singleText}.
 */
export function prepareTraining({ vocabulary, config, text, texts, trainSize = 1, seed = null, singleText, batchSize = 128, header = false }) {
  if (!(typeof trainSize === "number" && trainSize > 0 && trainSize <= 1)) {
    throw new TrainingError(`train_size must be in (0, 1], got ${trainSize} (e.g. 0.9 holds out 10%)`);
  }
  if (!(Number.isSafeInteger(batchSize) && batchSize >= 1)) throw new TrainingError(`batch_size must be an integer ≥ 1, got ${batchSize}`);
  const single = singleText ?? Boolean(config.single_text);
  if ((text === undefined) === (texts === undefined)) throw new TrainingError("give the training text or texts (one of them)");
  const given = texts ?? textsFromFile(text, { header, largetext: single });
  const kept = given.filter((t) => typeof t === "string" && !isBlank(t));
  if (!kept.length) throw new TrainingError("no text to train on: every text is empty or blank");
  const dataSeed = BigInt.asUintN(64, seed === null || seed === undefined ? randomSeed() : BigInt(seed));
  const corpus = buildCorpus(kept, vocabulary, config.max_length, single);
  const { train, validation } = splitPositions(corpus.positions, trainSize, dataSeed);
  if (train.length < batchSize) {
    throw new TrainingError(
      `only ${train.length} training sequences, fewer than batch_size ${batchSize}; give more text or a smaller batch size`,
    );
  }
  if (trainSize < 1 && validation.length === 0) {
    throw new TrainingError("the validation split is empty; give more text or a smaller train_size");
  }
  return { corpus, train, validation, seed: dataSeed, texts: kept.length, singleText: single };
}
